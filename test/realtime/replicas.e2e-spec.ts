/**
 * Issue 13 across replicas: two sample instances on one redis-server, and two on a real 3-master
 * Redis Cluster (sharded pub/sub). A session ended on one replica closes its sockets on the other
 * within 1 s; a lost signal subscription makes the replica re-check its sockets when it is back.
 */
import request from 'supertest';
import { getSessionRepositoryToken, type SessionRepository } from '../../lib/index.js';
import { loginHeader } from '../utils/http.js';
import { type RedisClusterProcess, type RedisProcess, startRedis, startRedisCluster } from '../utils/redis.js';
import { type RunningSample, startSample } from '../utils/sample-app.js';
import { clusterTestStore, redisTestStore, type TestStore } from '../utils/stores.js';
import { inspector, type RawClient } from '../ops/ops-helpers.js';
import { closedWithin, openSocket } from './ws-client.js';

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** The id of the session a header-transport login made (from its own session list). */
async function currentSessionId(url: string, token: string): Promise<string> {
  const list = await request(url).get('/auth/sessions').set(bearer(token)).expect(200);
  return (list.body as { id: string; current: boolean }[]).find((s) => s.current)!.id;
}

interface Topology {
  name: string;
  start(): Promise<{ stores: [TestStore, TestStore]; nodes: string[]; stop(): Promise<void> }>;
}

const TOPOLOGIES: Topology[] = [
  {
    name: 'one redis-server',
    start: async () => {
      const redis: RedisProcess = await startRedis();
      const stores: [TestStore, TestStore] = [await redisTestStore(redis.url), await redisTestStore(redis.url)];
      return { stores, nodes: [redis.url], stop: () => redis.stop() };
    },
  },
  {
    name: 'a 3-master cluster',
    start: async () => {
      const cluster: RedisClusterProcess = await startRedisCluster();
      const stores: [TestStore, TestStore] = [
        await clusterTestStore(cluster.rootNodes),
        await clusterTestStore(cluster.rootNodes),
      ];
      return { stores, nodes: cluster.rootNodes.map((n) => n.url), stop: () => cluster.stop() };
    },
  },
];

describe.each(TOPOLOGIES)('two replicas on $name', (topology) => {
  let a: RunningSample;
  let b: RunningSample;
  let env: Awaited<ReturnType<Topology['start']>>;
  let inspectors: RawClient[] = [];

  beforeAll(async () => {
    env = await topology.start();
    const options = { cleanup: { enabled: false }, refreshGrace: 0 };
    a = await startSample({ ...options, store: env.stores[0].store });
    b = await startSample({ ...options, store: env.stores[1].store });
    inspectors = await Promise.all(env.nodes.map((url) => inspector(url)));
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    for (const s of env?.stores ?? []) await s.close();
    for (const i of inspectors) await i.disconnect();
    await env?.stop();
  });

  it('logout on B closes the socket on A with 4001 within 1 s', async () => {
    const t = await loginHeader(a.url);
    const s = await openSocket(a.url, bearer(t.accessToken));
    await request(b.url).post('/auth/logout').set(bearer(t.accessToken)).expect(204);
    expect((await closedWithin(s, 1000)).code).toBe(4001);
  });

  it('logout-all on A closes the user’s sockets on both replicas', async () => {
    const t1 = await loginHeader(a.url);
    const t2 = await loginHeader(b.url);
    const onA = await openSocket(a.url, bearer(t1.accessToken));
    const onB = await openSocket(b.url, bearer(t2.accessToken));
    await request(a.url).post('/auth/logout-all').set(bearer(t1.accessToken)).expect(204);
    expect((await closedWithin(onA, 1000)).code).toBe(4001);
    expect((await closedWithin(onB, 1000)).code).toBe(4001);
  });

  it('DELETE /auth/sessions/:id on A and theft detected on B close sockets on the other replica', async () => {
    const phone = await loginHeader(a.url);
    const laptop = await loginHeader(a.url);
    const phoneSocket = await openSocket(b.url, bearer(phone.accessToken));
    const phoneId = await currentSessionId(a.url, phone.accessToken);
    await request(a.url).delete(`/auth/sessions/${phoneId}`).set(bearer(laptop.accessToken)).expect(204);
    expect((await closedWithin(phoneSocket, 1000)).code).toBe(4001);

    const laptopSocket = await openSocket(a.url, bearer(laptop.accessToken));
    await request(b.url).post('/auth/refresh').send({ refreshToken: laptop.refreshToken }).expect(200);
    await request(b.url).post('/auth/refresh').send({ refreshToken: laptop.refreshToken }).expect(401);
    expect((await closedWithin(laptopSocket, 1000)).code).toBe(4001);
  });

  it('a lost subscription: sockets re-check their sessions when it is back', async () => {
    const t = await loginHeader(a.url);
    const s = await openSocket(a.url, bearer(t.accessToken));
    const kept = await loginHeader(a.url);
    const keptSocket = await openSocket(a.url, bearer(kept.accessToken));
    // Ended behind the signal's back (the repository itself publishes nothing): only a re-check finds it.
    const id = await currentSessionId(a.url, t.accessToken);
    await a.app.get<symbol, SessionRepository>(getSessionRepositoryToken()).revoke('u-alice', id);
    // Every subscriber connection drops; node-redis reconnects and subscribes again.
    for (const node of inspectors) await node.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
    expect((await closedWithin(s, 5000)).code).toBe(4001);
    expect((await keptSocket.me()).user.id).toBe('u-alice');
    keptSocket.ws.close();
  });
});
