/**
 * Issue 5 §5: the full flow on a real 3-master Redis Cluster (redisClusterInsStore): login, /me,
 * refresh, reuse detection, logout, logout-all, sessions of many users spread over every master,
 * and a cleanup pass that prunes expired index entries on every master.
 */
import request from 'supertest';
import { SessionCleanupService, SessionService } from '../../lib/index.js';
import { ALICE, loginHeader } from '../utils/http.js';
import { startRedisCluster, type RedisClusterProcess } from '../utils/redis.js';
import { type RunningSample, startSample, TestClock } from '../utils/sample-app.js';
import { clusterTestStore, type TestStore } from '../utils/stores.js';
import { indexCounts, inspector, type RawClient, scanKeys } from './ops-helpers.js';

const GRACE = 10;
const MINUTE = 60_000;

interface ClusterWrites {
  zAdd(key: string, members: { score: number; value: string }[]): Promise<number>;
}

describe('Redis Cluster (3 masters)', () => {
  let cluster: RedisClusterProcess;
  let store: TestStore;
  let sample: RunningSample;
  let nodes: RawClient[] = [];
  const clock = new TestClock();

  beforeAll(async () => {
    cluster = await startRedisCluster();
    store = await clusterTestStore(cluster.rootNodes);
    sample = await startSample(
      { store: store.store, refreshGrace: GRACE, cleanup: { enabled: false, batchSize: 50 } },
      { clock },
    );
    nodes = await Promise.all(cluster.rootNodes.map((n) => inspector(n.url)));
  });

  afterAll(async () => {
    await sample?.close();
    await store?.close();
    for (const n of nodes) await n.disconnect();
    await cluster?.stop();
  });

  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

  it('/health reports redis-cluster', async () => {
    const res = await request(sample.url).get('/health').expect(200);
    expect(res.body).toEqual({ status: 'ok', store: 'redis-cluster', adapter: 'express', redisClient: 'redis-yet' });
  });

  it('login, /me, refresh, reuse detection ends the session', async () => {
    const t = await loginHeader(sample.url);
    const me = await request(sample.url).get('/me').set(bearer(t.accessToken)).expect(200);
    expect(me.body.id).toBe('u-alice');
    const next = await request(sample.url).post('/auth/refresh').send({ refreshToken: t.refreshToken }).expect(200);
    await request(sample.url).get('/me').set(bearer(next.body.accessToken)).expect(200);
    // a parallel refresh inside the grace window answers the same successor
    const raced = await request(sample.url).post('/auth/refresh').send({ refreshToken: t.refreshToken }).expect(200);
    expect(raced.body.refreshToken).toBe(next.body.refreshToken);

    clock.advance(GRACE + 1);
    await request(sample.url).post('/auth/refresh').send({ refreshToken: t.refreshToken }).expect(401);
    await request(sample.url).get('/me').set(bearer(next.body.accessToken)).expect(401);
    await request(sample.url).post('/auth/refresh').send({ refreshToken: next.body.refreshToken }).expect(401);
  });

  it('parallel replays and a tab 2 rotations behind get the identical current successor; the session lives', async () => {
    const t = await loginHeader(sample.url);
    const one = await request(sample.url).post('/auth/refresh').send({ refreshToken: t.refreshToken }).expect(200);
    const two = await request(sample.url)
      .post('/auth/refresh')
      .send({ refreshToken: one.body.refreshToken })
      .expect(200);
    const replays = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        request(sample.url)
          .post('/auth/refresh')
          .send({ refreshToken: i % 2 ? t.refreshToken : one.body.refreshToken }),
      ),
    );
    for (const r of replays) expect(r.body).toEqual(two.body);
    await request(sample.url).get('/me').set(bearer(two.body.accessToken)).expect(200);
    await request(sample.url).post('/auth/logout').set(bearer(two.body.accessToken)).expect(204); // the next case counts alice's sessions
  });

  it('logout ends one session, logout-all ends every session of the user', async () => {
    const [one, two, three] = [
      await loginHeader(sample.url),
      await loginHeader(sample.url),
      await loginHeader(sample.url),
    ];
    await request(sample.url).post('/auth/logout').set(bearer(one.accessToken)).expect(204);
    await request(sample.url).get('/me').set(bearer(one.accessToken)).expect(401);
    await request(sample.url).get('/me').set(bearer(two.accessToken)).expect(200);
    const list = await request(sample.url).get('/auth/sessions').set(bearer(two.accessToken)).expect(200);
    expect(list.body).toHaveLength(2);
    await request(sample.url).post('/auth/logout-all').set(bearer(three.accessToken)).expect(204);
    for (const t of [two, three]) await request(sample.url).get('/me').set(bearer(t.accessToken)).expect(401);
    const again = await loginHeader(sample.url, ALICE);
    const after = await request(sample.url).get('/auth/sessions').set(bearer(again.accessToken)).expect(200);
    expect(after.body).toHaveLength(1);
  });

  it("many users' sessions land on every master and each one validates", async () => {
    const sessions = sample.app.get(SessionService);
    const issued = await Promise.all(Array.from({ length: 60 }, (_, i) => sessions.create({ id: `spread-${i}` })));
    const perNode = await Promise.all(nodes.map((n) => scanKeys(n, 'sess:{spread-*}:x')));
    expect(perNode.map((keys) => keys.length > 0)).toEqual([true, true, true]);
    expect(perNode.flat()).toHaveLength(60);
    const answers = await Promise.all(issued.map((t) => request(sample.url).get('/me').set(bearer(t.accessToken))));
    expect(answers.map((r) => r.status)).toEqual(Array(60).fill(200));
    expect(answers.map((r) => r.body.id)).toEqual(issued.map((t) => t.userId));
  });

  it('cleanup removes expired index entries on every master and keeps live ones', async () => {
    const now = clock.nowMs;
    const client = store.client as unknown as ClusterWrites;
    const USERS = 300;
    const PER_USER = 10;
    await Promise.all(
      Array.from({ length: USERS }, (_, u) =>
        client.zAdd(`sess:{old-${u}}:x`, [
          ...Array.from({ length: PER_USER }, (_, i) => ({ score: now - MINUTE - i, value: `expired-${i}` })),
          { score: now + 60 * MINUTE, value: 'live' },
        ]),
      ),
    );
    const before = await Promise.all(nodes.map((n) => indexCounts(n, 'sess:{*}:x', now)));
    for (const b of before) expect(b.expired).toBeGreaterThan(0); // every master has work to do
    expect(before.reduce((n, b) => n + b.expired, 0)).toBe(USERS * PER_USER);

    const result = await sample.app.get(SessionCleanupService).run();
    expect(result?.removed).toBe(USERS * PER_USER);
    expect(result!.scanned).toBeGreaterThanOrEqual(before.reduce((n, b) => n + b.keys, 0));

    const after = await Promise.all(nodes.map((n) => indexCounts(n, 'sess:{*}:x', now)));
    expect(after.map((c) => c.expired)).toEqual([0, 0, 0]);
    expect(after.map((c) => c.live)).toEqual(before.map((c) => c.live));
  });
});
