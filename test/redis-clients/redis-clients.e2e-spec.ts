/**
 * Issue 12 item 3: the user's own Redis client. The sample runs over HTTP on each client the
 * `store` option takes — the cache-manager-redis-yet store, a plain node-redis client of the
 * current major, ioredis — single node and cluster, with the same guarantees: sessions work and
 * end at once, one Redis round trip (one MGET, or one EVALSHA when a touch is due) per authenticated request, routed to the
 * owning master, /health names the client, a hung Redis answers 503 without piling calls up.
 * A Keyv store is refused at startup. Pub/sub (sharded on a cluster) works on every client.
 */
import KeyvRedis, { createKeyv } from '@keyv/redis';
import Keyv from 'keyv';
import request from 'supertest';
import { SessionConfigError, type SessionModuleOptions, SessionRepository } from '../../lib/index.js';
import { redisCommandsFor } from '../../lib/redis/redis-store-input.js';
import { ALICE, loginHeader } from '../utils/http.js';
import { startRedis, startRedisCluster, type RedisClusterProcess, type RedisProcess } from '../utils/redis.js';
import { CLIENT_CASES, clusterClient, singleClient, type TestClient } from '../utils/redis-clients.js';
import { type RunningSample, startSample } from '../utils/sample-app.js';
import { inspector, type RawClient, timedGet, until } from '../ops/ops-helpers.js';

/** Long enough that a call refused at once by the in-flight cap is never mistaken for one that timed out. */
const COMMAND_TIMEOUT_MS = 2000;

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** What the validate script calls inside Redis (TIME for the store clock; touches write; GET reads records and "not before"). */
const INSIDE_VALIDATE = new Set(['time', 'get', 'set', 'pexpireat', 'pexpiretime', 'zadd']);

/**
 * One round trip per request: `n` commands sent, each a plain MGET (issue 16: no touch due) or
 * one EVALSHA (no EVAL fallback) with everything else inside the script. The script runs at most
 * once per 10 s per replica without a touch (re-anchoring its estimate of Redis time): allow 2.
 */
function expectOneRoundTripEach(calls: Map<string, number>, n: number): void {
  expect((calls.get('evalsha') ?? 0) + (calls.get('mget') ?? 0)).toBe(n);
  expect(calls.get('evalsha') ?? 0).toBeLessThanOrEqual(2);
  const outside = [...calls.keys()].filter((cmd) => !['evalsha', 'mget'].includes(cmd) && !INSIDE_VALIDATE.has(cmd));
  expect(outside).toEqual([]);
}

/**
 * Commands the servers ran while `work` ran, summed over `nodes` (commandstats also counts the
 * commands a script calls: those are inside the one round trip).
 */
async function commandsDuring(nodes: RawClient[], work: () => Promise<void>): Promise<Map<string, number>> {
  const before = await Promise.all(nodes.map((n) => commandStats(n)));
  await work();
  const after = await Promise.all(nodes.map((n) => commandStats(n)));
  const diff = new Map<string, number>();
  after.forEach((calls, i) => {
    for (const [cmd, n] of calls) {
      const d = n - (before[i].get(cmd) ?? 0);
      // `info` is the measuring itself.
      if (d > 0 && !cmd.startsWith('info')) diff.set(cmd, (diff.get(cmd) ?? 0) + d);
    }
  });
  return diff;
}

/** `INFO commandstats`: calls per command, and refused calls (a MOVED answer) as `<cmd>:rejected`. */
async function commandStats(node: RawClient): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await node.info('commandstats')).split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+).*rejected_calls=(\d+),failed_calls=(\d+)/.exec(line.trim());
    if (!m) continue;
    out.set(m[1], Number(m[2]));
    out.set(`${m[1]}:rejected`, Number(m[3]) + Number(m[4]));
  }
  return out;
}

describe.each(CLIENT_CASES)('the sample on $client (single redis-server)', ({ client }) => {
  let redis: RedisProcess;
  let c: TestClient;
  let sample: RunningSample;
  let probe: RawClient;

  beforeAll(async () => {
    redis = await startRedis();
    c = await singleClient(client, redis.url);
    sample = await startSample({
      store: c.store,
      redis: { commandTimeout: COMMAND_TIMEOUT_MS, maxPendingCommands: 4 },
    });
    probe = await inspector(redis.url);
  });
  afterAll(async () => {
    try {
      process.kill(redis.pid, 'SIGCONT');
    } catch {
      // already gone
    }
    await sample?.close();
    await c?.close();
    await probe?.disconnect();
    await redis?.stop();
  });

  it('/health names the store and the client', async () => {
    await request(sample.url)
      .get('/health')
      .expect(200, { status: 'ok', store: 'redis', adapter: 'express', redisClient: client });
  });

  it('login, /me, refresh, logout: the session ends on the very next request', async () => {
    const t = await loginHeader(sample.url);
    await request(sample.url).get('/me').set(bearer(t.accessToken)).expect(200);
    const next = await request(sample.url).post('/auth/refresh').send({ refreshToken: t.refreshToken }).expect(200);
    await request(sample.url).post('/auth/logout').set(bearer(next.body.accessToken)).expect(204);
    await request(sample.url).get('/me').set(bearer(next.body.accessToken)).expect(401);
  });

  it('GET /me costs one Redis round trip: one MGET, the script only when due (INFO commandstats)', async () => {
    const t = await loginHeader(sample.url);
    await request(sample.url).get('/me').set(bearer(t.accessToken)).expect(200); // warm: the script is cached
    const calls = await commandsDuring([probe], async () => {
      for (let i = 0; i < 10; i++) await request(sample.url).get('/me').set(bearer(t.accessToken)).expect(200);
    });
    expectOneRoundTripEach(calls, 10);
  });

  it('a hung Redis (SIGSTOP): 503 + Retry-After, calls in flight capped at maxPendingCommands; recovers on SIGCONT', async () => {
    const t = await loginHeader(sample.url);
    const me = () => timedGet(`${sample.url}/me`, bearer(t.accessToken));
    process.kill(redis.pid, 'SIGSTOP');
    let answers: Awaited<ReturnType<typeof me>>[];
    try {
      answers = await Promise.all(Array.from({ length: 20 }, () => me()));
    } finally {
      process.kill(redis.pid, 'SIGCONT');
    }
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(503));
    for (const a of answers) expect(Number(a.retryAfter)).toBeGreaterThan(0);
    // Only the 4 calls in flight wait out the timeout; the rest are refused at once. A call that waited
    // took at least the timeout, so `< timeout` splits them however loaded the machine is.
    expect(answers.filter((a) => a.ms < COMMAND_TIMEOUT_MS).length).toBeGreaterThanOrEqual(16);
    await until('/me to answer 200 after SIGCONT', async () => (await me()).status === 200);
  });

  it('publish reaches a subscriber on a duplicated connection; closing it leaves the client working', async () => {
    const commands = redisCommandsFor(c.store);
    const got: string[] = [];
    const sub = await commands.subscribe('i12b:ended', (m) => got.push(m));
    expect(await commands.publish('i12b:ended', 'sid-hash-1')).toBe(1);
    await until('the message', async () => got.length === 1);
    expect(got).toEqual(['sid-hash-1']);
    await sub.close();
    await until('the subscriber to leave', async () => (await commands.publish('i12b:ended', 'x')) === 0);
    await request(sample.url).get('/health').expect(200);
  });
});

describe.each(CLIENT_CASES)('the sample on $client (3-master cluster)', ({ client }) => {
  let cluster: RedisClusterProcess;
  let c: TestClient;
  let sample: RunningSample;
  let nodes: RawClient[];

  beforeAll(async () => {
    cluster = await startRedisCluster();
    c = await clusterClient(client, cluster.rootNodes);
    sample = await startSample({ store: c.store });
    nodes = await Promise.all(cluster.rootNodes.map((n) => inspector(n.url)));
  }, 60_000);
  afterAll(async () => {
    await sample?.close();
    await c?.close();
    for (const n of nodes ?? []) await n.disconnect();
    await cluster?.stop();
  });

  it('/health names the cluster and the client', async () => {
    await request(sample.url)
      .get('/health')
      .expect(200, { status: 'ok', store: 'redis-cluster', adapter: 'express', redisClient: client });
  });

  it('GET /me of users on every master: one command each across the masters, none refused with MOVED', async () => {
    const users = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        loginHeader(sample.url, i % 2 ? ALICE : { email: 'bob@example.com', password: 'bob-password-123' }),
      ),
    );
    for (const t of users) await request(sample.url).get('/me').set(bearer(t.accessToken)).expect(200);
    const calls = await commandsDuring(nodes, async () => {
      for (const t of users) await request(sample.url).get('/me').set(bearer(t.accessToken)).expect(200);
    });
    expectOneRoundTripEach(calls, users.length);
  });

  it('the sample wired from REDIS_CLUSTER_NODES + REDIS_CLIENT serves on this client', async () => {
    const saved = { ...process.env };
    process.env.REDIS_CLUSTER_NODES = cluster.nodes.map((n) => `${n.host}:${n.port}`).join(',');
    process.env.REDIS_CLIENT = client;
    delete process.env.REDIS_URL;
    let own: RunningSample | undefined;
    try {
      own = await startSample();
      await request(own.url)
        .get('/health')
        .expect(200, { status: 'ok', store: 'redis-cluster', adapter: 'express', redisClient: client });
      const t = await loginHeader(own.url);
      await request(own.url).get('/me').set(bearer(t.accessToken)).expect(200);
    } finally {
      process.env = saved;
      if (own) {
        // The sample owns this client and leaves it open; close it here.
        type Owned = { commands: { client: { disconnect(): unknown } } };
        const raw = own.app.get<Owned>(SessionRepository).commands.client;
        await own.close();
        await Promise.resolve(raw.disconnect()).catch(() => undefined);
      }
    }
  });

  it('sharded publish reaches a subscriber', async () => {
    const commands = redisCommandsFor(c.store);
    const got: string[] = [];
    const sub = await commands.subscribe('{u-alice}:ended', (m) => got.push(m));
    try {
      await until('the message', async () => (await commands.publish('{u-alice}:ended', 'bye'), got.length > 0));
      expect(got[0]).toBe('bye');
    } finally {
      await sub.close();
    }
  });
});

describe('a Keyv store is refused at startup', () => {
  let redis: RedisProcess;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it.each([
    ['new Keyv(new KeyvRedis(url))', () => new Keyv({ store: new KeyvRedis(redis.url) })],
    ['createKeyv(url)', () => createKeyv(redis.url)],
    ['a bare KeyvRedis store', () => new KeyvRedis(redis.url)],
  ])('%s: SessionConfigError naming Keyv and what to pass instead', async (_, make) => {
    const store = make();
    try {
      const started = startSample({ store: store as unknown as SessionModuleOptions['store'] });
      await expect(started).rejects.toBeInstanceOf(SessionConfigError);
      await expect(started).rejects.toThrow(/Keyv.*503.*node-redis client.*ioredis/s);
    } finally {
      await (store as { disconnect(): Promise<void> }).disconnect().catch(() => undefined);
    }
  });

  it('the sample refuses an unknown REDIS_CLIENT at startup', async () => {
    const saved = process.env.REDIS_CLIENT;
    process.env.REDIS_CLIENT = 'keyv';
    try {
      await expect(startSample()).rejects.toThrow(
        'REDIS_CLIENT must be one of redis-yet, node-redis, ioredis, got "keyv"',
      );
    } finally {
      if (saved === undefined) delete process.env.REDIS_CLIENT;
      else process.env.REDIS_CLIENT = saved;
    }
  });

  it('anything else that is no Redis client is refused with the list of what is accepted', async () => {
    await expect(startSample({ store: { get: () => undefined } as never })).rejects.toThrow(
      /cache-manager-redis-yet store.*ioredis/,
    );
  });
});
