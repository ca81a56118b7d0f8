/**
 * Issue 5 §3 (S-60..S-63): the sample, wired from REDIS_URL exactly as in production
 * (disableOfflineQueue, reconnect strategy, connect not awaited), on a real appendonly
 * redis-server that the test kills, restarts, freezes (SIGSTOP) and thaws. Authenticated requests
 * answer 503 + Retry-After within a bounded time, never 200 or 500; /health says so; the app
 * recovers by itself; nothing ever falls back to the memory store.
 */
import { redisInsStore } from 'cache-manager-redis-yet';
import { createClient } from 'redis';
import request from 'supertest';
import { type RedisStoreLike, SessionRepository } from '../../lib/index.js';
import { ALICE, BOB } from '../utils/http.js';
import { startRedis, type RedisProcess } from '../utils/redis.js';
import { type RunningSample, startSample } from '../utils/sample-app.js';
import { timedGet, until } from './ops-helpers.js';
import { testAdapter } from '../utils/http-adapter.js';

const BOUND_MS = 2500; // commandTimeout (1000 ms default) plus slack for one request on a loaded CI machine
const COMMAND_TIMEOUT_MS = 1000;
/** 30 parallel requests on a loaded 2-core CI machine: generous, but far from a hang. */
const HANG_SLACK_MS = 3000;

interface Closable {
  isOpen: boolean;
  disconnect(): Promise<void>;
}

/** Starts the sample with its own REDIS_URL / REDIS_CLIENT wiring (sample/session.config.ts), not a test store. */
async function sampleFromEnv(url: string, redisClient: string): Promise<{ sample: RunningSample; client: Closable }> {
  const saved = {
    url: process.env.REDIS_URL,
    cluster: process.env.REDIS_CLUSTER_NODES,
    client: process.env.REDIS_CLIENT,
  };
  process.env.REDIS_URL = url;
  process.env.REDIS_CLIENT = redisClient;
  delete process.env.REDIS_CLUSTER_NODES;
  try {
    const sample = await startSample();
    // The sample owns its client; reach it through the repository so the test can close it.
    const raw = sample.app.get<unknown, { commands: { client: object } }>(SessionRepository).commands.client;
    return { sample, client: closable(raw) };
  } finally {
    if (saved.url === undefined) delete process.env.REDIS_URL;
    else process.env.REDIS_URL = saved.url;
    if (saved.client === undefined) delete process.env.REDIS_CLIENT;
    else process.env.REDIS_CLIENT = saved.client;
    if (saved.cluster !== undefined) process.env.REDIS_CLUSTER_NODES = saved.cluster;
  }
}

/** node-redis (isOpen, disconnect) or ioredis (status, disconnect()) behind one shape. */
function closable(raw: object): Closable {
  const io = raw as { status?: string; disconnect(): unknown };
  if (typeof io.status !== 'string') return raw as Closable;
  return {
    get isOpen() {
      return io.status !== 'end';
    },
    disconnect: async () => {
      io.disconnect();
    },
  };
}

function login(url: string, user = ALICE) {
  return request(url).post('/auth/login').set('X-Auth-Transport', 'header').send(user);
}

function expectFailClosed(r: { status: number; ms: number; retryAfter: string | null }) {
  expect({ status: r.status, fast: r.ms < BOUND_MS }).toEqual({ status: 503, fast: true });
  expect(Number(r.retryAfter)).toBeGreaterThan(0);
}

describe.each(['redis-yet', 'node-redis', 'ioredis'])(
  'fail closed on a real redis-server (sample wired from REDIS_URL, REDIS_CLIENT=%s)',
  (redisClient) => {
    let redis: RedisProcess;
    let sample: RunningSample;
    let client: Closable;
    const extra: { sample: RunningSample; client: Closable }[] = [];
    let tokens: { accessToken: string; refreshToken: string };
    const me = (base = sample.url, token = tokens.accessToken) =>
      timedGet(`${base}/me`, { authorization: `Bearer ${token}` });

    const thaw = () => {
      try {
        if (redis?.pid) process.kill(redis.pid, 'SIGCONT');
      } catch {
        // already exited
      }
    };

    beforeAll(async () => {
      redis = await startRedis({ appendonly: true });
      ({ sample, client } = await sampleFromEnv(redis.url, redisClient));
      await until('the sample to reach Redis', async () => (await timedGet(`${sample.url}/health`)).status === 200);
    });

    afterAll(async () => {
      thaw(); // never leave a frozen server behind
      for (const s of [{ sample, client }, ...extra]) {
        await s.sample?.close();
        if (s.client?.isOpen) await s.client.disconnect().catch(() => undefined);
      }
      await redis?.stop();
    });

    it('uses the Redis repository and serves sessions while Redis is up', async () => {
      expect(sample.app.get<{ kind: string }>(SessionRepository as never).kind).toBe('redis');
      const res = await login(sample.url).expect(200);
      tokens = res.body;
      expect((await me()).status).toBe(200);
      const health = await request(sample.url).get('/health').expect(200);
      expect(health.body).toEqual({ status: 'ok', store: 'redis', adapter: testAdapter(), redisClient });
    });

    it('Redis killed: 503 with Retry-After within the bound, never 200 or 500, and /health is 503', async () => {
      await redis.kill();

      for (let i = 0; i < 10; i++) expectFailClosed(await me());
      const burst = await Promise.all(Array.from({ length: 20 }, () => me()));
      burst.forEach(expectFailClosed);

      // Every store-backed route fails closed: refresh must not log the user out (401), login must not
      // quietly create a session in memory (200).
      const refresh = await request(sample.url).post('/auth/refresh').send({ refreshToken: tokens.refreshToken });
      expect(refresh.status).toBe(503);
      expect(refresh.headers['retry-after']).toBeDefined();
      expect((await login(sample.url, BOB)).status).toBe(503);
      expect(
        (await request(sample.url).post('/auth/logout').set('Authorization', `Bearer ${tokens.accessToken}`)).status,
      ).toBe(503);

      const health = await request(sample.url).get('/health');
      expect(health.status).toBe(503);
      expect(health.body).toEqual({ status: 'unavailable', store: 'redis', adapter: testAdapter(), redisClient });
      // The process itself is fine: a route without sessions still answers.
      await request(sample.url).get('/').expect(200);
    });

    it('Redis restarted: the app recovers by itself and the session survived (appendonly)', async () => {
      await redis.restart();
      await until('/me to answer 200 with the old token', async () => (await me()).status === 200);
      await request(sample.url).get('/health').expect(200);
      const refreshed = await request(sample.url)
        .post('/auth/refresh')
        .send({ refreshToken: tokens.refreshToken })
        .expect(200);
      tokens = refreshed.body;
      expect((await me()).status).toBe(200);
    });

    it('hung Redis (SIGSTOP): 503 within about commandTimeout; SIGCONT: recovers', async () => {
      process.kill(redis.pid, 'SIGSTOP');
      try {
        for (let i = 0; i < 3; i++) {
          const r = await me();
          expectFailClosed(r);
          expect(r.ms).toBeGreaterThanOrEqual(900); // it waited for the command timeout, then gave up
        }
        // Ten at once all wait out the same timeout; a loaded CI machine needs more slack to answer them all.
        const burst = await Promise.all(Array.from({ length: 10 }, () => me()));
        expect(burst.map((r) => r.status)).toEqual(burst.map(() => 503));
        burst.forEach((r) => expect(Number(r.retryAfter)).toBeGreaterThan(0));
        expect(Math.max(...burst.map((r) => r.ms))).toBeLessThan(COMMAND_TIMEOUT_MS + HANG_SLACK_MS);
        const health = await timedGet(`${sample.url}/health`);
        expect({ status: health.status, fast: health.ms < BOUND_MS }).toEqual({ status: 503, fast: true });
      } finally {
        thaw();
      }
      await until('/me to answer 200 after SIGCONT', async () => (await me()).status === 200);
      await request(sample.url).get('/health').expect(200);
    });

    it('boots while Redis is down, answers 503 (never a memory session), and connects once Redis is back', async () => {
      await redis.kill();
      const b = await sampleFromEnv(redis.url, redisClient);
      extra.push(b);
      expect(b.sample.app.get<{ kind: string }>(SessionRepository as never).kind).toBe('redis');
      expect((await request(b.sample.url).get('/health')).status).toBe(503);
      expect((await login(b.sample.url)).status).toBe(503);
      expectFailClosed(await me(b.sample.url));

      await redis.restart();
      await until('the late-started sample to reach Redis', async () => (await me(b.sample.url)).status === 200);
      await request(b.sample.url).get('/health').expect(200);
      expect((await login(b.sample.url)).status).toBe(200);
    });

    it('hung Redis with a bounded client queue (commandsQueueMaxLength): the overflow gets its 503 at once', async () => {
      const queueMax = 4;
      const bounded = createClient({ url: redis.url, disableOfflineQueue: true, commandsQueueMaxLength: queueMax });
      bounded.on('error', () => undefined);
      await bounded.connect();
      const c = {
        sample: await startSample({ store: redisInsStore(bounded as never) as unknown as RedisStoreLike }),
        client: bounded,
      };
      extra.push(c);
      const { accessToken } = (await login(c.sample.url).expect(200)).body as { accessToken: string };
      expect((await me(c.sample.url, accessToken)).status).toBe(200);

      process.kill(redis.pid, 'SIGSTOP');
      let answers: Awaited<ReturnType<typeof me>>[];
      try {
        answers = await Promise.all(Array.from({ length: 30 }, () => me(c.sample.url, accessToken)));
      } finally {
        thaw();
      }
      // Every answer is a 503 with Retry-After, and none hangs: the queued ones end at the command timeout.
      expect(answers.map((r) => r.status)).toEqual(answers.map(() => 503));
      answers.forEach((r) => expect(Number(r.retryAfter)).toBeGreaterThan(0));
      expect(Math.max(...answers.map((r) => r.ms))).toBeLessThan(COMMAND_TIMEOUT_MS + HANG_SLACK_MS);
      // Only `queueMax` requests wait out the command timeout; the overflow is refused without waiting.
      // A request that waited took at least the timeout, so `< timeout` is the load-proof split.
      const refusedAtOnce = answers.filter((r) => r.ms < COMMAND_TIMEOUT_MS).length;
      expect(refusedAtOnce).toBeGreaterThanOrEqual(30 - queueMax);
      await until('/me to answer 200 after SIGCONT', async () => (await me(c.sample.url, accessToken)).status === 200);
    });
  },
);
