/**
 * Issue 16 §2: how fast a revocation reaches another replica's local cache. Two replicas (two
 * server processes, `module-cached`, the local cache on) on one real Redis. 1,000 sessions are
 * logged in on A and cached on B; each is then logged out on A, and B is polled until it refuses
 * the token: the time from A's answer to B's first 401 is the propagation delay. A second phase
 * kills the pub/sub connections (`CLIENT KILL TYPE pubsub`) in the middle of its revocations and
 * shows that no revoked session is accepted; a final sweep asks both replicas for every revoked
 * token.
 *
 * Run by `npm run bench` (bench/run.mjs), or alone after a build:
 *   npm run build && npx tsc -p bench/tsconfig.json && node bench/invalidation.mjs
 * Environment: INVALIDATION_REVOCATIONS (1000), REDIS_URL (else a redis-server is started).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';
import { commandCalls, progress, startServer } from './lib/harness.mjs';
import { startRedis } from './lib/redis.mjs';
import { deleteKeys } from './lib/scenarios.mjs';

/** A refusal slower than this counts as never refused (and fails the run). */
const GIVE_UP_MS = 5000;
/** Second phase: sessions revoked around the killed subscription. */
const KILL_PHASE = 200;
/** Long enough that every entry is still cached when its revocation comes (the run takes seconds). */
const STALENESS_S = 60;
const PASSWORD = 'bench-password';

const percentile = (values, p) => {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};

async function login(url, i, tag) {
  const res = await fetch(`${url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-auth-transport': 'header' },
    body: JSON.stringify({ email: `inv-${tag}-${i}@bench`, password: PASSWORD }),
  });
  if (res.status !== 200) throw new Error(`login answered ${res.status}`);
  return (await res.json()).accessToken;
}

async function me(url, token) {
  const res = await fetch(`${url}/me`, { headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  return res.status;
}

/** Runs `fn` over `items` with `width` in flight. */
async function pool(items, width, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
}

/** Logs `count` sessions in on A and caches them on B; proves it by a pass over B that sends Redis nothing. */
async function prepare(a, b, redis, count, tag) {
  const tokens = new Array(count);
  await pool([...Array(count).keys()], 16, async (i) => (tokens[i] = await login(a.url, i, tag)));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const before = await commandCalls(redis);
    await pool(tokens, 16, async (t) => {
      const s = await me(b.url, t);
      if (s !== 200) throw new Error(`GET /me on B answered ${s} before any revocation`);
    });
    const after = await commandCalls(redis);
    // PUBLISH: the signal's heartbeats; INFO: this probe.
    let sent = 0;
    for (const [cmd, calls] of Object.entries(after)) {
      if (cmd !== 'publish' && cmd !== 'info') sent += calls - (before[cmd] ?? 0);
    }
    if (sent === 0) return tokens;
    if (Date.now() > deadline) throw new Error(`B still sends Redis commands on its warm pass (${sent})`);
  }
}

/** Logs `token` out on A, then polls B until it refuses: ms from A's answer to B's first 401. */
async function revokeAndWait(a, b, token) {
  const res = await fetch(`${a.url}/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  if (res.status !== 204) throw new Error(`logout on A answered ${res.status}`);
  const answered = performance.now();
  let accepted = 0;
  for (;;) {
    const status = await me(b.url, token);
    const now = performance.now();
    if (status === 401) return { ms: now - answered, accepted };
    if (status !== 200) throw new Error(`GET /me on B answered ${status}`);
    accepted++;
    if (now - answered > GIVE_UP_MS) return { ms: Infinity, accepted };
  }
}

function summary(samples) {
  const ms = samples.map((s) => s.ms);
  return {
    count: ms.length,
    p50: percentile(ms, 50),
    p99: percentile(ms, 99),
    max: Math.max(...ms),
    mean: ms.reduce((x, y) => x + y, 0) / ms.length,
    /** B's 200 answers after A had answered (inside the propagation window). */
    acceptedInWindow: samples.reduce((n, s) => n + s.accepted, 0),
    neverRefused: ms.filter((v) => !Number.isFinite(v)).length,
  };
}

/**
 * The scenario: `redis` is a connected node-redis client on `redisUrl` (for INFO and CLIENT KILL);
 * every key the servers write starts with `prefix`.
 */
export async function invalidationScenario({ redisUrl, redis, prefix, logDir, revocations = 1000 }) {
  const env = { BENCH_CACHE_STALENESS: String(STALENESS_S), BENCH_SECRET: randomBytes(32).toString('hex') };
  const start = (name) =>
    startServer({ server: 'module-cached', redisUrl, prefix, env, logFile: join(logDir, `invalidation-${name}.log`) });
  const a = await start('a');
  const b = await start('b');
  try {
    progress(`invalidation: ${revocations} sessions logged in on A, cached on B`);
    const tokens = await prepare(a, b, redis, revocations, 'p1');
    const steady = [];
    for (const t of tokens) steady.push(await revokeAndWait(a, b, t));
    const result = { revocations, staleness: STALENESS_S, steady: summary(steady) };
    progress(
      `  A's logout → B refuses: p50 ${result.steady.p50.toFixed(2)} ms, p99 ${result.steady.p99.toFixed(2)} ms, max ${result.steady.max.toFixed(2)} ms`,
    );

    progress(`invalidation: ${KILL_PHASE} more, the pub/sub connections killed after ${KILL_PHASE / 2}`);
    const more = await prepare(a, b, redis, KILL_PHASE, 'p2');
    const before = [];
    const after = [];
    for (const [i, t] of more.entries()) {
      if (i === KILL_PHASE / 2) {
        result.killed = Number(await redis.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']));
      }
      (i < KILL_PHASE / 2 ? before : after).push(await revokeAndWait(a, b, t));
    }
    result.killPhase = { before: summary(before), after: summary(after) };

    // Every revoked token, on both replicas, once more.
    let acceptedLater = 0;
    await pool([...tokens, ...more], 16, async (t) => {
      for (const url of [a.url, b.url]) if ((await me(url, t)) !== 401) acceptedLater++;
    });
    result.sweep = { checked: 2 * (tokens.length + more.length), accepted: acceptedLater };
    progress(
      `  killed ${result.killed} pub/sub connections; after the kill p99 ${result.killPhase.after.p99.toFixed(2)} ms; sweep: ${acceptedLater} of ${result.sweep.checked} revoked-token requests accepted`,
    );
    if (acceptedLater > 0 || steady.some((s) => !Number.isFinite(s.ms))) {
      throw new Error('a revoked session was accepted after its refusal, or never refused');
    }
    return result;
  } finally {
    await a.stop();
    await b.stop();
  }
}

const f = (v) => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');

/** The RESULTS.md section. */
export function invalidationMarkdown(r) {
  const row = (what, s) =>
    `| ${what} | ${s.count} | ${f(s.p50)} | ${f(s.p99)} | ${f(s.max)} | ${s.acceptedInWindow} | ${s.neverRefused} |`;
  return [
    '## Revocation across replicas with the local cache (issue 16)',
    '',
    `\`bench/invalidation.mjs\`: two replicas (two \`module-cached\` server processes, \`localCache: { maxStaleness: ${r.staleness} }\` so that no entry ages out during the run) on one Redis. ` +
      `${r.revocations} sessions are logged in on A and cached on B (a full pass of \`GET /me\` over them on B sends Redis no command). ` +
      'Each is then logged out on A, and B is polled with `GET /me` (sequential requests on a kept-alive connection) until it answers 401: ' +
      "the delay is from A's 204 to B's first 401, so it includes one poll round trip. " +
      '"accepted in the window" counts B\'s 200 answers inside that delay.',
    '',
    '| phase | revocations | p50 ms | p99 ms | max ms | accepted in the window | never refused |',
    '|---|---:|---:|---:|---:|---:|---:|',
    row('steady (subscription up)', r.steady),
    row('second batch, before the kill', r.killPhase.before),
    row(`second batch, after \`CLIENT KILL TYPE pubsub\` (${r.killed} connections)`, r.killPhase.after),
    '',
    `Goal: p99 ≤ 50 ms — ${r.steady.p99 <= 50 ? 'met' : '**not met**'}. After the kill B flushes its cache and asks the store until its subscription is back, so a revocation sent while it was down is refused at once. ` +
      `Final sweep over every revoked token on both replicas: ${r.sweep.accepted} of ${r.sweep.checked} requests accepted.`,
    '',
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const own = process.env.REDIS_URL ? undefined : await startRedis();
  const redisUrl = process.env.REDIS_URL || own.url;
  const redis = createClient({ url: redisUrl });
  redis.on('error', () => undefined);
  await redis.connect();
  const prefix = `bench:${randomBytes(4).toString('hex')}:`;
  try {
    const result = await invalidationScenario({
      redisUrl,
      redis,
      prefix,
      logDir: mkdtempSync(join(os.tmpdir(), 'bench-invalidation-')),
      revocations: Number(process.env.INVALIDATION_REVOCATIONS ?? 1000),
    });
    console.log(invalidationMarkdown(result).join('\n'));
  } finally {
    await deleteKeys(redis, prefix).catch(() => undefined);
    await redis.quit().catch(() => undefined);
    await own?.stop();
  }
}
