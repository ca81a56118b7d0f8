/**
 * `node bench/record-layouts.mjs` (after `npm run build:lib`): Redis memory per session of the
 * record layouts weighed for issue 16 §4, at 1, 3 and 10 sessions per user. Each layout is written
 * with the commands it would use (the one built through `RedisSessionRepository.create`), into a
 * throwaway redis-server, and measured as the `used_memory` delta per session once Redis has
 * settled, every case from an emptied keyspace. Same fields as the main bench's memory table
 * (roles `user`, a 64-byte desktop User-Agent, an IPv4 address, no data, no device label).
 *
 * Environment: LAYOUT_SESSIONS (100000).
 */
import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import { RedisSessionRepository } from '../dist/index.js';
import { startRedis } from './lib/redis.mjs';

const N = Number(process.env.LAYOUT_SESSIONS ?? 100_000);
const UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KH';
const IDLE = 1_800_000;
const SEP = '\x1f';
const P = 'sess:';

const redis = await startRedis();
const r = createClient({ url: redis.url });
await r.connect();
const used = async () => Number(/used_memory:(\d+)/.exec(await r.info('memory'))[1]);
async function settled() {
  let last = await used();
  for (let i = 0; i < 40; i++) {
    await new Promise((s) => setTimeout(s, 250));
    const n = await used();
    if (n === last) return n;
    last = n;
  }
  return last;
}

const now = Date.now();
const abs = now + 7 * 86_400_000;
const exp = now + IDLE;
const hash = () => randomBytes(16).toString('base64url');
/** Positional fields as the packed record has them, numbers in base `radix`. */
const packed = (radix, id = '') =>
  ['1', id, now, now, abs, now, '0', Math.floor(now / 1000), hash(), 'user', '203.0.113.7', UA]
    .map((v) => (typeof v === 'number' ? v.toString(radix) : v))
    .join(SEP);

/** Each layout: write one session (into a MULTI pipeline `m`), or go through the repository (its `indexExpiry`). */
const layouts = {
  'before issue 16: hash per session (listpack) + index zset, both with TTL': (m, u, s) => {
    m.hSet(`${P}{${u}}:s:${s}`, {
      c: `${now}`,
      l: `${now}`,
      a: `${abs}`,
      g: '0',
      h: hash(),
      i: `${Math.floor(now / 1000)}`,
    });
    m.hSet(`${P}{${u}}:s:${s}`, { r: 'user', ua: UA, ip: '203.0.113.7', t: `${now}` });
    m.pExpireAt(`${P}{${u}}:s:${s}`, exp);
    m.zAdd(`${P}{${u}}:x`, { score: exp, value: s });
    m.pExpireAt(`${P}{${u}}:x`, exp);
  },
  'packed string per session, decimal times, + index with TTL': (m, u, s) => {
    m.set(`${P}{${u}}:s:${s}`, packed(10), { PXAT: exp });
    m.zAdd(`${P}{${u}}:x`, { score: exp, value: s });
    m.pExpireAt(`${P}{${u}}:x`, exp);
  },
  'packed string, base-36 times, + index with TTL': (m, u, s) => {
    m.set(`${P}{${u}}:s:${s}`, packed(36), { PXAT: exp });
    m.zAdd(`${P}{${u}}:x`, { score: exp, value: s });
    m.pExpireAt(`${P}{${u}}:x`, exp);
  },
  'packed base-36 + index without TTL (cleanup must run)': (m, u, s) => {
    m.set(`${P}{${u}}:s:${s}`, packed(36), { PXAT: exp });
    m.zAdd(`${P}{${u}}:x`, { score: exp, value: s });
  },
  'one hash per user, a field per session (no per-field expiry on 7.0)': (m, u, s) => {
    m.hSet(`${P}{${u}}`, s, packed(36));
    m.pExpireAt(`${P}{${u}}`, exp);
  },
  'built: packed base-36; a single session in the user key, index from the second on (with TTL)': true,
  'built, as the module runs with its cleanup job on (the default): the index without TTL': false,
};

const out = {};
try {
  for (const [name, write] of Object.entries(layouts)) {
    out[name] = {};
    for (const per of [1, 3, 10]) {
      await r.flushAll();
      await r.sendCommand(['MEMORY', 'PURGE']);
      const before = await settled();
      if (typeof write === 'function') {
        for (let i = 0; i < N; i += 1000) {
          const m = r.multi();
          for (let j = i; j < Math.min(N, i + 1000); j++) write(m, `muser-${Math.floor(j / per)}`, hash().slice(0, 22));
          await m.execAsPipeline();
        }
      } else {
        const repo = new RedisSessionRepository(r, {
          cluster: false,
          keyPrefix: P,
          commandTimeout: 5000,
          clock: 'local',
          indexExpiry: write,
        });
        let next = 0;
        const worker = async () => {
          while (next < N) {
            const j = next++;
            await repo.create({
              id: hash().slice(0, 22),
              userId: `muser-${Math.floor(j / per)}`,
              roles: ['user'],
              userAgent: UA,
              ip: '203.0.113.7',
              device: '',
              data: undefined,
              now,
              idleTimeoutMs: IDLE,
              absoluteExpiresAt: abs,
              refreshHash: hash(),
              refreshIssuedAt: Math.floor(now / 1000),
            });
          }
        };
        // Per user in order: sessions of one user created one after another (single → index).
        await Promise.all(Array.from({ length: 64 }, worker));
      }
      out[name][per] = Math.round(((await settled()) - before) / N);
    }
    console.error(`${name}: ${JSON.stringify(out[name])}`);
  }
  console.log(
    `used_memory per session, ${N.toLocaleString('en')} sessions, ${(await r.info('server')).match(/redis_version:(\S+)/)[1]}:\n`,
  );
  console.log('| layout | 1 / user | 3 / user | 10 / user |\n|---|---:|---:|---:|');
  for (const [name, v] of Object.entries(out)) console.log(`| ${name} | ${v[1]} | ${v[3]} | ${v[10]} |`);
} finally {
  await r.quit();
  await redis.stop();
}
