import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import request from 'supertest';
import { freePort, type RedisClusterProcess, type RedisProcess, startRedis, startRedisCluster } from './utils/redis.js';
import { ALICE } from './utils/http.js';
import { TEST_SECRET } from './utils/sample-app.js';
import { parseSetCookies } from './utils/set-cookie.js';
import { SAMPLE_MAIN as MAIN } from './utils/built-sample.js';

interface Proc {
  child: ChildProcess;
  url: string;
  output: () => string;
  stop(): Promise<void>;
}

async function run(env: Record<string, string>): Promise<Proc> {
  const port = await freePort();
  let out = '';
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', PORT: String(port), NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const proc: Proc = {
    child,
    url: `http://127.0.0.1:${port}`,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
    },
  };
  return proc;
}

/** Waits until the process listens (or exits). */
async function ready(proc: Proc): Promise<void> {
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) throw new Error(`sample exited: ${proc.output()}`);
    if (proc.output().includes('listening on')) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`sample did not start: ${proc.output()}`);
}

describe('the sample as a process (env contract)', () => {
  const procs: Proc[] = [];
  let redis: RedisProcess;
  let cluster: RedisClusterProcess;

  beforeAll(async () => {
    [redis, cluster] = await Promise.all([startRedis(), startRedisCluster()]);
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await Promise.all([redis?.stop(), cluster?.stop()]);
  });

  async function started(env: Record<string, string>): Promise<Proc> {
    const p = await run(env);
    procs.push(p);
    await ready(p);
    return p;
  }

  it('refuses a short SESSION_SECRET with a clear message and a non-zero exit', async () => {
    const p = await run({ SESSION_SECRET: 'short' });
    procs.push(p);
    const [code] = await once(p.child, 'exit');
    expect(code).not.toBe(0);
    expect(p.output()).toMatch(/secret.*at least 32/i);
  });

  it('refuses a SESSION_ALLOWED_ORIGINS entry that is not an origin with a clear message and a non-zero exit', async () => {
    const p = await run({ SESSION_SECRET: TEST_SECRET, SESSION_ALLOWED_ORIGINS: 'capacitor://localhost, null' });
    procs.push(p);
    const [code] = await once(p.child, 'exit');
    expect(code).not.toBe(0);
    expect(p.output()).toMatch(/csrf\.allowedOrigins entry "null"/);
  });

  it('without SESSION_SECRET serves on the memory store with a random secret and a warning', async () => {
    const p = await started({});
    expect(p.output()).toMatch(/SESSION_SECRET is not set/);
    await request(p.url).get('/health').expect(200, { status: 'ok', store: 'memory', adapter: 'express' });
    const res = await request(p.url).post('/auth/login').send(ALICE).expect(200);
    const cookies = parseSetCookies(res);
    expect(cookies.some((c) => c.name === '__Host-session' && c.attrs.secure === true)).toBe(true);
  });

  it('honours SESSION_ACCESS_TTL and COOKIE_SECURE=false (with a warning)', async () => {
    const p = await started({ SESSION_SECRET: TEST_SECRET, SESSION_ACCESS_TTL: '120', COOKIE_SECURE: 'false' });
    expect(p.output()).toMatch(/cookies\.secure is false/);
    const before = Date.now();
    const res = await request(p.url).post('/auth/login').send(ALICE).expect(200);
    const ttl = (Date.parse(res.body.accessTokenExpiresAt) - before) / 1000;
    expect(ttl).toBeGreaterThan(115);
    expect(ttl).toBeLessThanOrEqual(121);
    const cookies = parseSetCookies(res);
    expect(cookies.some((c) => c.name === 'session' && !('secure' in c.attrs))).toBe(true);
  });

  it('REDIS_URL selects Redis', async () => {
    const p = await started({ SESSION_SECRET: TEST_SECRET, REDIS_URL: redis.url });
    await request(p.url)
      .get('/health')
      .expect(200, { status: 'ok', store: 'redis', adapter: 'express', redisClient: 'redis-yet' });
    const login = await request(p.url).post('/auth/login').set('X-Auth-Transport', 'header').send(ALICE).expect(200);
    await request(p.url).get('/me').set('Authorization', `Bearer ${login.body.accessToken}`).expect(200);
  });

  it('REDIS_CLUSTER_NODES selects Redis Cluster', async () => {
    const nodes = cluster.nodes.map((n) => `${n.host}:${n.port}`).join(',');
    const p = await started({ SESSION_SECRET: TEST_SECRET, REDIS_CLUSTER_NODES: nodes });
    await request(p.url)
      .get('/health')
      .expect(200, { status: 'ok', store: 'redis-cluster', adapter: 'express', redisClient: 'redis-yet' });
    const login = await request(p.url).post('/auth/login').set('X-Auth-Transport', 'header').send(ALICE).expect(200);
    await request(p.url).get('/me').set('Authorization', `Bearer ${login.body.accessToken}`).expect(200);
  });
});
