/**
 * GET /me on the built sample with each Redis client (REDIS_CLIENT): Redis commands per request
 * from INFO commandstats (EVALSHA calls; the commands a script runs inside are not round trips)
 * and req/s from a short autocannon run. Usage: npm run build && node bench/redis-clients.mjs [seconds]
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { createClient } from 'redis';
import { freePort, startRedis } from './lib/redis.mjs';

const SECONDS = Number(process.argv[2] ?? 5);
const CLIENTS = ['redis-yet', 'node-redis', 'ioredis'];

async function stats(probe) {
  const out = {};
  for (const line of (await probe.info('commandstats')).split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

async function run(redisClient, redis, probe) {
  const port = await freePort();
  const app = spawn(process.execPath, ['dist-sample/sample/main.js'], {
    env: {
      ...process.env,
      PORT: String(port),
      REDIS_URL: redis.url,
      REDIS_CLIENT: redisClient,
      SESSION_SECRET: randomBytes(32).toString('base64url'),
      NODE_ENV: 'production',
    },
    stdio: 'ignore',
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; i++) {
      const ok = await fetch(`${base}/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (i > 200) throw new Error('sample did not start');
      await sleep(50);
    }
    const login = await fetch(`${base}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-auth-transport': 'header' },
      body: JSON.stringify({ email: 'alice@example.com', password: 'alice-password-123' }),
    }).then((r) => r.json());
    const headers = { authorization: `Bearer ${login.accessToken}` };
    await fetch(`${base}/me`, { headers }); // warm: the script is cached
    const before = await stats(probe);
    const N = 200;
    for (let i = 0; i < N; i++) await fetch(`${base}/me`, { headers }).then((r) => r.text());
    const after = await stats(probe);
    const evalsha = (after.evalsha ?? 0) - (before.evalsha ?? 0);
    const evalCalls = (after.eval ?? 0) - (before.eval ?? 0);
    const result = await autocannon({ url: `${base}/me`, headers, connections: 10, duration: SECONDS });
    return {
      client: redisClient,
      evalshaPerRequest: evalsha / N,
      evalPerRequest: evalCalls / N,
      reqPerSec: Math.round(result.requests.average),
      p99ms: result.latency.p99,
      non2xx: result.non2xx,
    };
  } finally {
    if (app.exitCode === null && app.signalCode === null) {
      app.kill('SIGTERM');
      await new Promise((r) => app.once('exit', r));
    }
  }
}

const redis = await startRedis();
const probe = createClient({ url: redis.url });
await probe.connect();
try {
  const rows = [];
  for (const c of CLIENTS) rows.push(await run(c, redis, probe));
  console.table(rows);
} finally {
  await probe.disconnect();
  await redis.stop();
}
