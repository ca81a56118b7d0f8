/**
 * Issue 16 §1/§6 across replicas: two sample apps with the local cache on one real redis-server
 * and on a real 3-master cluster (sharded pub/sub). Every change made on A is enforced by B's
 * cache (awaited, no sleeps); a message that never comes is bounded by `maxStaleness`; a killed
 * subscriber connection makes B flush and bypass its cache, so a session revoked meanwhile
 * (even straight in the store, with no message at all) never passes; a stopped redis-server
 * turns cached sessions into 503s, never 200s, until it is back.
 */
import {
  getSessionRepositoryToken,
  SessionEndedSignal,
  type SessionRepository,
  type SessionSignalMessage,
} from '../../lib/index.js';
import { inspector, type RawClient, until } from '../ops/ops-helpers.js';
import { BOB, loginHeader } from '../utils/http.js';
import { type RedisProcess, startRedis, startRedisCluster } from '../utils/redis.js';
import { type RunningSample, startSample, TestClock } from '../utils/sample-app.js';
import { clusterTestStore, redisTestStore, type TestStore } from '../utils/stores.js';
import { closedWithin, openSocket } from '../realtime/ws-client.js';
import { bearer, claimsOf, me, SESSION_CHANGES, stats, warm } from './cache-harness.js';
import request from 'supertest';

const STALENESS = 60;

interface Topology {
  name: string;
  start(): Promise<{ stores: [TestStore, TestStore]; nodes: string[]; stop(): Promise<void> }>;
}

const TOPOLOGIES: Topology[] = [
  {
    name: 'one redis-server',
    start: async () => {
      const redis = await startRedis();
      return {
        stores: [await redisTestStore(redis.url), await redisTestStore(redis.url)],
        nodes: [redis.url],
        stop: () => redis.stop(),
      };
    },
  },
  {
    name: 'a 3-master cluster',
    start: async () => {
      const cluster = await startRedisCluster();
      return {
        stores: [await clusterTestStore(cluster.rootNodes), await clusterTestStore(cluster.rootNodes)],
        nodes: cluster.rootNodes.map((n) => n.url),
        stop: () => cluster.stop(),
      };
    },
  },
];

describe.each(TOPOLOGIES)('local cache on two replicas, $name', (topology) => {
  let env: Awaited<ReturnType<Topology['start']>>;
  let a: RunningSample;
  let b: RunningSample;
  let nodes: RawClient[] = [];
  // One shared clock, as replicas share real time.
  const clock = new TestClock();

  beforeAll(async () => {
    env = await topology.start();
    const options = {
      localCache: { maxStaleness: STALENESS },
      maxSessionsPerUser: 3,
      refreshGrace: 0,
      cleanup: { enabled: false },
    };
    a = await startSample({ ...options, store: env.stores[0].store }, { clock });
    b = await startSample({ ...options, store: env.stores[1].store }, { clock });
    nodes = await Promise.all(env.nodes.map((u) => inspector(u)));
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    for (const n of nodes) await n.disconnect();
    for (const s of env?.stores ?? []) await s.close();
    await env?.stop();
  });

  it.each(SESSION_CHANGES)('$name on A: B enforces it', async (change) => {
    const probe = await change.run({ actor: a, observer: b, clock });
    await until('B to enforce the change', probe, 5000, 10);
  });

  it("sockets ignore 'changed' messages and still close when the session ends", async () => {
    const heard: SessionSignalMessage[] = [];
    const unsubscribe = await b.app.get<symbol, SessionEndedSignal>(SessionEndedSignal).subscribe((m) => heard.push(m));
    try {
      const t = await loginHeader(a.url);
      const socket = await openSocket(b.url, bearer(t.accessToken));
      await request(a.url)
        .post('/auth/reauth')
        .set(bearer(t.accessToken))
        .send({ password: 'alice-password-123' })
        .expect(200);
      await until('B to hear the change', async () => heard.some((m) => m.kind === 'changed'));
      // Still open and answering after the change reached B.
      expect((await socket.me()).user.id).toBe('u-alice');
      await request(a.url).post('/auth/logout').set(bearer(t.accessToken)).expect(204);
      expect((await closedWithin(socket, 1000)).code).toBe(4001);
    } finally {
      unsubscribe();
    }
  });

  it('a message B never gets is bounded by maxStaleness', async () => {
    const t = await loginHeader(a.url);
    await warm(b, t.accessToken);
    const { sub, sid } = claimsOf(t.accessToken);
    await a.app.get<symbol, SessionRepository>(getSessionRepositoryToken()).revoke(sub, sid);
    await me(b, t.accessToken).expect(200); // served from B's cache: nobody told it
    clock.advance(STALENESS);
    await me(b, t.accessToken).expect(401);
  });

  it('a killed subscriber connection: B flushes and bypasses its cache, no revoked session passes', async () => {
    const heard: SessionSignalMessage[] = [];
    const unsubscribe = await b.app.get<symbol, SessionEndedSignal>(SessionEndedSignal).subscribe((m) => heard.push(m));
    try {
      const victim = await loginHeader(a.url);
      const survivor = await loginHeader(a.url);
      await warm(b, victim.accessToken);
      await warm(b, survivor.accessToken);
      const bypassed = stats(b).bypassed;
      for (const n of nodes) await n.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
      // A single node reports the drop at once; a cluster shard's drop shows as a missed heartbeat.
      await until('B to notice the lost subscription', async () => heard.some((m) => m.kind === 'lost'), 15_000);
      expect(stats(b).entries).toBe(0);
      // Revoked straight in the store: no message at all, only the flush keeps it out.
      const { sub, sid } = claimsOf(victim.accessToken);
      await a.app.get<symbol, SessionRepository>(getSessionRepositoryToken()).revoke(sub, sid);
      await me(b, victim.accessToken).expect(401);
      await me(b, survivor.accessToken).expect(200);
      await until('B to hear its subscription restored', async () => heard.some((m) => m.kind === 'restored'), 15_000);
      expect(stats(b).bypassed + stats(b).misses).toBeGreaterThan(bypassed);
      // Caching again after `restored`, and still refusing the revoked session.
      await warm(b, survivor.accessToken);
      await me(b, victim.accessToken).expect(401);
    } finally {
      unsubscribe();
    }
  });
});

describe('local cache when the redis-server stops', () => {
  let redis: RedisProcess;
  let stores: TestStore[] = [];
  let a: RunningSample;
  let b: RunningSample;

  beforeAll(async () => {
    redis = await startRedis({ appendonly: true });
    stores = [await redisTestStore(redis.url), await redisTestStore(redis.url)];
    const options = { localCache: { maxStaleness: STALENESS }, cleanup: { enabled: false } };
    a = await startSample({ ...options, store: stores[0].store });
    b = await startSample({ ...options, store: stores[1].store });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    for (const s of stores) await s.close();
    await redis?.stop();
  });

  it('a cached session answers 503 while Redis is down (never 200), and the cache serves again after', async () => {
    const t = await loginHeader(a.url);
    const other = await loginHeader(a.url, BOB);
    await warm(b, t.accessToken);
    await redis.kill();
    // The subscription drops with the connection: the cache is flushed, and the store's outage shows.
    await until('B to answer 503', async () => (await me(b, t.accessToken)).status === 503, 5000, 10);
    expect(stats(b).entries).toBe(0);
    const whileDown = await Promise.all(Array.from({ length: 20 }, () => me(b, t.accessToken)));
    expect(whileDown.map((r) => r.status)).toEqual(whileDown.map(() => 503));

    await redis.restart();
    await until('B to serve the session again', async () => (await me(b, t.accessToken)).status === 200, 15_000);
    await warm(b, t.accessToken);
    // And revocations reach it again after the gap.
    await warm(b, other.accessToken);
    await request(a.url).post('/auth/logout').set(bearer(other.accessToken)).expect(204);
    await until(
      'B to refuse the revoked session',
      async () => (await me(b, other.accessToken)).status === 401,
      5000,
      10,
    );
  });
});
