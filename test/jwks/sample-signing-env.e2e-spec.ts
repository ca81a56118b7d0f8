/**
 * The sample's signing environment through its real entry point (dist-sample, as
 * `npm run start:prod`): SESSION_ALG with SESSION_PRIVATE_KEY_FILE (the published key is the
 * file's), without it (a generated pair and a warning), and the mistakes that must stop it with
 * a clear message and a non-zero exit. (HS256's 404 is tested in-process, jwks.e2e-spec.ts.)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createPublicKey } from 'node:crypto';
import request from 'supertest';
import { SAMPLE_MAIN, type SampleProcess, startBuiltSample } from '../utils/built-sample.js';
import { ALICE } from '../utils/http.js';
import { jwtPayload } from '../e2e/helpers/tokens.js';
import { TEST_SECRET } from '../utils/sample-app.js';
import { generatePrivateKey, writeKeyFile } from './signing-env.js';

const running: SampleProcess[] = [];
const cleanups: Array<() => void> = [];
afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()));
  for (const c of cleanups) c();
});

async function start(env: Record<string, string>): Promise<SampleProcess> {
  const p = await startBuiltSample({ SESSION_SECRET: TEST_SECRET, ...env });
  running.push(p);
  return p;
}

/** Runs the built sample expecting it to refuse to start; answers its exit code and output. */
async function refusal(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child: ChildProcess = spawn(process.execPath, [SAMPLE_MAIN], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', NO_COLOR: '1', SESSION_SECRET: TEST_SECRET, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, output };
}

describe('the sample signing environment', () => {
  it('ES256 with SESSION_PRIVATE_KEY_FILE: the JWKS publishes that key, tokens carry SESSION_ISSUER/SESSION_AUDIENCE', async () => {
    const key = generatePrivateKey('ES256');
    const file = writeKeyFile(key);
    cleanups.push(file.remove);
    const p = await start({
      SESSION_ALG: 'ES256',
      SESSION_PRIVATE_KEY_FILE: file.file,
      SESSION_ISSUER: 'https://auth.example.test',
      SESSION_AUDIENCE: 'notes-api',
    });
    const { keys } = (await request(p.url).get('/.well-known/jwks.json').expect(200)).body as {
      keys: Array<Record<string, string>>;
    };
    const expected = createPublicKey(key).export({ format: 'jwk' });
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', x: expected.x, y: expected.y, alg: 'ES256', use: 'sig' });
    const login = await request(p.url).post('/auth/login').set('X-Auth-Transport', 'header').send(ALICE).expect(200);
    expect(jwtPayload(login.body.accessToken)).toMatchObject({ iss: 'https://auth.example.test', aud: 'notes-api' });
    expect(p.output()).not.toMatch(/SESSION_PRIVATE_KEY_FILE is not set/);
  });

  it('EdDSA without SESSION_PRIVATE_KEY_FILE: a generated key pair, published, and a warning', async () => {
    const p = await start({ SESSION_ALG: 'EdDSA' });
    const { keys } = (await request(p.url).get('/.well-known/jwks.json').expect(200)).body as {
      keys: Array<Record<string, string>>;
    };
    expect(keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
    expect(p.output()).toMatch(
      /SESSION_PRIVATE_KEY_FILE is not set: using an EdDSA key pair generated for this process/,
    );
  });

  it.each([
    [
      'an unknown SESSION_ALG',
      { SESSION_ALG: 'none' },
      /SESSION_ALG must be one of HS256, ES256, EdDSA, RS256, got "none"/,
    ],
    [
      'SESSION_PRIVATE_KEY_FILE with HS256',
      { SESSION_PRIVATE_KEY_FILE: '/nonexistent.pem' },
      /SESSION_PRIVATE_KEY_FILE needs an asymmetric SESSION_ALG/,
    ],
    [
      'a missing key file',
      { SESSION_ALG: 'RS256', SESSION_PRIVATE_KEY_FILE: '/nonexistent/key.pem' },
      /SESSION_PRIVATE_KEY_FILE: cannot read \/nonexistent\/key.pem \(ENOENT\)/,
    ],
  ])('refuses %s with a clear message and a non-zero exit', async (_name, env, message) => {
    const { code, output } = await refusal(env);
    expect(code).not.toBe(0);
    expect(output).toMatch(message);
  });
});
