/**
 * Issue 14 §7, key rotation through the JWKS (S-59): a next key is published (and accepted)
 * before any replica signs with it, so a rolling deploy never has one replica refuse another's
 * tokens, and verifiers that cache the JWKS already know it; the previous key stays published
 * only while its tokens can still be alive. Two replicas share one store (memory, Redis).
 */
import { generateKeyPairSync } from 'node:crypto';
import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import request from 'supertest';
import { type AccessTokenOptions, MemorySessionRepository, type SessionModuleOptions } from '../../lib/index.js';
import { ALICE } from '../utils/http.js';
import { type RedisProcess, startRedis } from '../utils/redis.js';
import { type RunningSample, startSample, TestClock } from '../utils/sample-app.js';
import { redisTestStore, type TestStore } from '../utils/stores.js';

const TTL = 60;
const k1 = generateKeyPairSync('ed25519');
const k2 = generateKeyPairSync('ed25519');

/** Before: signs with k1 and announces k2. After: signs with k2, keeps k1 as previous. */
const BEFORE: AccessTokenOptions = {
  algorithm: 'EdDSA',
  ttl: TTL,
  kid: 'k1',
  ...k1,
  nextKeys: [{ kid: 'k2', key: k2.publicKey }],
};
const AFTER: AccessTokenOptions = {
  algorithm: 'EdDSA',
  ttl: TTL,
  kid: 'k2',
  ...k2,
  previousKeys: [{ kid: 'k1', key: k1.publicKey }],
};
const UNANNOUNCED: AccessTokenOptions = { algorithm: 'EdDSA', ttl: TTL, kid: 'k1', ...k1 };

let redis: RedisProcess;
const closers: Array<() => Promise<void>> = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await redis?.stop();
});

type Shared = { name: string; store(): Promise<Partial<SessionModuleOptions>> };
const SHARED: Shared[] = [
  {
    name: 'memory',
    store: (() => {
      const repo = new MemorySessionRepository();
      return async () => ({ store: repo });
    })(),
  },
  {
    name: 'redis',
    store: async () => {
      const s: TestStore = await redisTestStore(redis.url);
      closers.push(s.close);
      return { store: s.store, redis: { keyPrefix: 'rot:' } };
    },
  },
];

describe.each(SHARED)('rolling key rotation on a shared $name store', (shared) => {
  const clock = new TestClock();
  let before: RunningSample;
  let after: RunningSample;
  let unannounced: RunningSample;

  beforeAll(async () => {
    const start = async (accessToken: AccessTokenOptions) => {
      const s = await startSample({ ...(await shared.store()), accessToken }, { clock });
      closers.push(() => s.close());
      return s;
    };
    [before, after, unannounced] = [await start(BEFORE), await start(AFTER), await start(UNANNOUNCED)];
  });

  const login = async (s: RunningSample) =>
    (await request(s.url).post('/auth/login').set('X-Auth-Transport', 'header').send(ALICE).expect(200)).body
      .accessToken as string;
  const kids = async (s: RunningSample) =>
    ((await request(s.url).get('/.well-known/jwks.json').expect(200)).body.keys as Array<{ kid: string }>).map(
      (k) => k.kid,
    );

  it('the replica still on k1 publishes k2 before signing with it, and accepts the tokens of a replica already on k2', async () => {
    expect(await kids(before)).toEqual(['k1', 'k2']);
    const fromAfter = await login(after);
    expect(decodeProtectedHeader(fromAfter).kid).toBe('k2');
    await request(before.url).get('/me').set('Authorization', `Bearer ${fromAfter}`).expect(200);
    // A replica that was never told about k2 refuses it: that is what announcing prevents.
    await request(unannounced.url).get('/me').set('Authorization', `Bearer ${fromAfter}`).expect(401);
  });

  it('a verifier holding the JWKS fetched before the switch verifies tokens signed with the new key', async () => {
    const cached = createLocalJWKSet((await request(before.url).get('/.well-known/jwks.json').expect(200)).body);
    const { payload } = await jwtVerify(await login(after), cached, { algorithms: ['EdDSA'] });
    expect(payload.sub).toBe('u-alice');
  });

  it('the replica on k2 accepts k1 tokens and publishes k1 only while they can be alive', async () => {
    const fromBefore = await login(before);
    await request(after.url).get('/me').set('Authorization', `Bearer ${fromBefore}`).expect(200);
    expect(await kids(after)).toEqual(['k2', 'k1']);
    await jwtVerify(fromBefore, createRemoteJWKSet(new URL(`${after.url}/.well-known/jwks.json`)));
    // One access lifetime plus the clock tolerance after start, every k1 token has expired.
    clock.advance(TTL + 6);
    expect(await kids(after)).toEqual(['k2']);
    // The announced key stays published on the replica still signing with k1.
    expect(await kids(before)).toEqual(['k1', 'k2']);
  });
});
