/**
 * `npm run test:unit`: the specs that need no server, in seconds. A spec is a unit spec when it
 * is a `*.spec.ts` (not `*.e2e-spec.ts`) and does not import the redis-server helper
 * (test/utils/redis.ts), so a new or moved spec lands on the right side without editing this file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import base from './jest.config.js';

const root = import.meta.dirname;
const REDIS_HELPER = /from '(?:\.\.\/)*(?:test\/utils\/|\.\/)redis\.js'/;

function specs(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return specs(path);
    return entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

const needsRedis = ['lib', 'test']
  .flatMap((dir) => specs(join(root, dir)))
  .filter((file) => REDIS_HELPER.test(readFileSync(file, 'utf8')));

export default {
  ...base,
  testRegex: '\\.spec\\.ts$',
  testPathIgnorePatterns: ['/node_modules/', ...needsRedis.map((file) => `<rootDir>/${relative(root, file)}$`)],
};
