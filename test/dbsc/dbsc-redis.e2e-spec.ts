/**
 * Issue 15, the Redis-only parts: DBSC on a real 3-node Redis Cluster (the device key lives in the
 * session hash, under the user's hash tag), and a store outage on the DBSC endpoints, which must
 * answer 503 with Retry-After (Chromium then keeps the session and retries) and never 401 (any
 * other 4xx ends the browser's DBSC session).
 */
import { ALICE } from '../utils/http.js';
import { startRedis, startRedisCluster, type RedisClusterProcess, type RedisProcess } from '../utils/redis.js';
import { type RunningSample, startSample } from '../utils/sample-app.js';
import { clusterTestStore, redisTestStore, type TestStore } from '../utils/stores.js';
import { DbscBrowser, parseChallenge } from './helpers/dbsc-client.js';
import { findSessionRecord } from '../utils/session-record.js';

describe('DBSC on a 3-node Redis Cluster', () => {
  let cluster: RedisClusterProcess;
  let store: TestStore;
  let sample: RunningSample;
  beforeAll(async () => {
    cluster = await startRedisCluster();
    store = await clusterTestStore(cluster.rootNodes);
    sample = await startSample({ store: store.store, dbsc: { enabled: true } });
  });
  afterAll(async () => {
    await sample?.close();
    await store?.close();
    await cluster?.stop();
  });

  it('registers, refreshes with a proof, refuses replays and the refresh cookie, for two users', async () => {
    for (const user of [ALICE, { email: 'bob@example.com', password: 'bob-password-123' }]) {
      const b = new DbscBrowser(sample.url);
      await b.login(user);
      expect((await b.register()).status).toBe(200);
      const challenge = parseChallenge((await b.refreshRequest()).headers['secure-session-challenge']);
      const proof = b.device.proof(challenge.challenge);
      expect((await b.refreshRequest(proof)).status).toBe(200);
      expect((await b.refreshRequest(proof)).status).toBe(403);
      expect((await b.post('/auth/refresh')).status).toBe(401);
      expect((await b.get('/me')).status).toBe(200);
    }
  });
});

describe('DBSC during a Redis outage', () => {
  let redis: RedisProcess;
  let store: TestStore;
  let sample: RunningSample;
  beforeAll(async () => {
    redis = await startRedis({ appendonly: true });
    store = await redisTestStore(redis.url);
    sample = await startSample({ store: store.store, dbsc: { enabled: true } });
  });
  afterAll(async () => {
    await sample?.close();
    await store?.close();
    await redis?.stop();
  });

  it('keeps the device key compact: 45 bytes in the packed session record (+128 bytes at most measured)', async () => {
    const b = new DbscBrowser(sample.url);
    await b.login();
    const raw = store.client as unknown as { sendCommand(args: string[]): Promise<unknown> };
    const sid = (JSON.parse(Buffer.from(b.access.split('.')[1], 'base64url').toString()) as { sid: string }).sid;
    const { key } = await findSessionRecord(raw, '', sid);
    const before = Number(await raw.sendCommand(['MEMORY', 'USAGE', key]));
    expect((await b.register()).status).toBe(200);
    const { record } = await findSessionRecord(raw, '', sid);
    expect(record.k).toMatch(/^E[A-Za-z0-9_-]{44}$/);
    expect(record.kc).toBe('0');
    const after = Number(await raw.sendCommand(['MEMORY', 'USAGE', key]));
    // 47 bytes of key, challenge stamp and separators; the bound leaves room for allocator size classes.
    expect(after - before).toBeLessThanOrEqual(128);
  });

  it('answers 503 with Retry-After on both endpoints, never 401, and carries on once Redis is back', async () => {
    const b = new DbscBrowser(sample.url);
    await b.login();
    const pending = new DbscBrowser(sample.url);
    await pending.login();
    expect((await b.register()).status).toBe(200);
    const challenge = parseChallenge((await b.refreshRequest()).headers['secure-session-challenge']);

    await redis.kill();
    const answers = [
      await b.refreshRequest(),
      await b.refreshRequest(b.device.proof(challenge.challenge)),
      await pending.register(),
    ];
    for (const res of answers) {
      expect(res.status).toBe(503);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    }

    await redis.restart();
    // The client reconnects on its own; until then the answers stay 503.
    const deadline = Date.now() + 10_000;
    let res = await b.refreshRequest(b.device.proof(challenge.challenge));
    while (res.status === 503 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      res = await b.refreshRequest(b.device.proof(challenge.challenge));
    }
    expect(res.status).toBe(200);
    expect((await pending.register()).status).toBe(200);
  });
});
