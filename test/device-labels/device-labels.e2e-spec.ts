/**
 * Issue 14 §6: each entry of GET /auth/sessions names its device (`Chrome 131 on macOS`), computed
 * at login from the whole User-Agent (the store keeps only its first 64 bytes, which for Chrome
 * and Edge end before the browser's name), at most 64 bytes, on memory, Redis and a cluster.
 */
import request from 'supertest';
import { MemorySessionRepository, type SessionModuleOptions } from '../../lib/index.js';
import { ALICE } from '../utils/http.js';
import { type RedisClusterProcess, type RedisProcess, startRedis, startRedisCluster } from '../utils/redis.js';
import { type RunningSample, startSample } from '../utils/sample-app.js';
import { clusterTestStore, redisTestStore, type TestStore } from '../utils/stores.js';
import { HOSTILE_USER_AGENTS, USER_AGENTS } from './user-agents.js';

interface ListEntry {
  id: string;
  userAgent: string;
  device: string;
}

async function loginWith(url: string, userAgent: string): Promise<{ accessToken: string; sid: string }> {
  const res = await request(url)
    .post('/auth/login')
    .set('X-Auth-Transport', 'header')
    .set('User-Agent', userAgent)
    .send(ALICE)
    .expect(200);
  const payload = JSON.parse(Buffer.from(String(res.body.accessToken).split('.')[1], 'base64url').toString());
  return { accessToken: res.body.accessToken, sid: payload.sid };
}

async function listed(url: string, login: { accessToken: string; sid: string }): Promise<ListEntry> {
  const res = await request(url).get('/auth/sessions').set('Authorization', `Bearer ${login.accessToken}`).expect(200);
  const entry = (res.body as ListEntry[]).find((e) => e.id === login.sid);
  if (!entry) throw new Error('the session is missing from /auth/sessions');
  return entry;
}

type Backend = { name: string; start(): Promise<{ options: Partial<SessionModuleOptions>; stop(): Promise<void> }> };

const BACKENDS: Backend[] = [
  {
    name: 'memory',
    start: async () => ({ options: { store: new MemorySessionRepository() }, stop: async () => undefined }),
  },
  {
    name: 'redis',
    start: async () => {
      const redis: RedisProcess = await startRedis();
      const store: TestStore = await redisTestStore(redis.url);
      return { options: { store: store.store }, stop: async () => (await store.close(), await redis.stop()) };
    },
  },
  {
    name: 'redis-cluster',
    start: async () => {
      const cluster: RedisClusterProcess = await startRedisCluster();
      const store: TestStore = await clusterTestStore(cluster.rootNodes);
      return { options: { store: store.store }, stop: async () => (await store.close(), await cluster.stop()) };
    },
  },
];

describe.each(BACKENDS)('device labels on the $name store', (backend) => {
  let sample: RunningSample;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    const started = await backend.start();
    stop = started.stop;
    sample = await startSample(started.options);
  });

  afterAll(async () => {
    await sample?.close();
    await stop?.();
  });

  it.each(USER_AGENTS)('$name → "$device"', async ({ ua, device }) => {
    const entry = await listed(sample.url, await loginWith(sample.url, ua));
    expect(entry.device).toBe(device);
    // The raw User-Agent is still listed beside it, cut to 64 bytes as before.
    expect(entry.userAgent).toBe(ua.slice(0, 64));
  });

  it.each(HOSTILE_USER_AGENTS)(
    'hostile or empty User-Agent ($name) → "$device", never a 5xx',
    async ({ ua, device }) => {
      const entry = await listed(sample.url, await loginWith(sample.url, ua));
      expect(entry.device).toBe(device);
      expect(Buffer.byteLength(entry.device)).toBeLessThanOrEqual(64);
      expect(entry.device).toMatch(/^[\x20-\x7e]+$/);
    },
  );

  it('every entry of a user with several devices has its own label', async () => {
    const logins = await Promise.all(USER_AGENTS.slice(0, 3).map((u) => loginWith(sample.url, u.ua)));
    const res = await request(sample.url)
      .get('/auth/sessions')
      .set('Authorization', `Bearer ${logins[0].accessToken}`)
      .expect(200);
    const byId = new Map((res.body as ListEntry[]).map((e) => [e.id, e.device]));
    expect(logins.map((l) => byId.get(l.sid))).toEqual(USER_AGENTS.slice(0, 3).map((u) => u.device));
  });
});
