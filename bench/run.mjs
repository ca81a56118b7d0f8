/**
 * `npm run bench`: each peer as its own Nest app on a loopback port, driven by autocannon from a
 * separate process, in interleaved rounds; then memory, scaling and cleanup-tick figures.
 * Writes bench/RESULTS.md, bench/results.svg and bench/results.json.
 *
 * Environment: BENCH_ROUNDS (4), BENCH_WARMUP (3 s), BENCH_DURATION (8 s), BENCH_CONNECTIONS (50),
 * BENCH_SESSIONS (100000), BENCH_PEERS (comma list, default all), BENCH_EXTRAS=0 (skip memory,
 * scaling, cleanup, invalidation), BENCH_PROFILE (comma list of peers to run under --cpu-prof, into
 * bench/profiles/), BENCH_OUT (directory for the results, default bench/; "-" writes nothing),
 * REDIS_URL (use this Redis instead of starting one; only keys under a per-run prefix are touched).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';
import {
  commandCalls,
  monitor,
  perRequest,
  pinned,
  progress,
  runLoad,
  startServer,
  waitForQuiet,
} from './lib/harness.mjs';
import { PEERS } from './lib/peers.mjs';
import { startRedis } from './lib/redis.mjs';
import { DEFAULTS, writeResults } from './lib/report.mjs';
import { cleanupScenario, deleteKeys, memoryScenario, scalingScenario } from './lib/scenarios.mjs';
import { summarizeProfile } from './lib/profile.mjs';
import { invalidationScenario } from './invalidation.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLOCK_TICKS = Number(sh('getconf', ['CLK_TCK'])) || 100;

function num(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return n;
}
const list = (name) =>
  (process.env[name] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

const cfg = {
  rounds: Math.max(1, Math.floor(num('BENCH_ROUNDS', DEFAULTS.rounds))),
  warmup: num('BENCH_WARMUP', DEFAULTS.warmup),
  duration: Math.max(1, num('BENCH_DURATION', DEFAULTS.duration)),
  connections: Math.max(1, Math.floor(num('BENCH_CONNECTIONS', DEFAULTS.connections))),
  sessions: Math.max(1, Math.floor(num('BENCH_SESSIONS', DEFAULTS.sessions))),
  peers: list('BENCH_PEERS'),
  extras: process.env.BENCH_EXTRAS !== '0',
  profile: list('BENCH_PROFILE'),
  out: process.env.BENCH_OUT === '-' ? null : (process.env.BENCH_OUT ?? join(ROOT, 'bench')),
};
const peers = cfg.peers.length ? PEERS.filter((p) => cfg.peers.includes(p.name)) : PEERS.filter((p) => !p.experiment);
for (const name of cfg.peers)
  if (!PEERS.some((p) => p.name === name))
    throw new Error(`unknown peer "${name}" (${PEERS.map((p) => p.name).join(', ')})`);
if (!existsSync(join(ROOT, 'dist/index.js')) || !existsSync(join(ROOT, 'dist-bench/servers/main.js'))) {
  throw new Error('build first: npm run bench builds dist/ and dist-bench/ before it starts');
}

// Two CPUs or more: the server alone on CPU 0; load generator and Redis on CPU 1.
const canPin = pinned('0').length > 0 && os.availableParallelism() >= 2;
const cpu = canPin ? { server: '0', load: '1', redis: '1' } : {};

const logDir = mkdtempSync(join(os.tmpdir(), 'bench-logs-'));
const prefix = `bench:${randomBytes(4).toString('hex')}:`;
let ownRedis;
const redisUrl = process.env.REDIS_URL || (ownRedis = await startRedis({ cpus: cpu.redis })).url;
const redis = createClient({ url: redisUrl });
redis.on('error', () => undefined);
await redis.connect();
const redisAddress = new URL(redisUrl);

let current; // the running server, stopped on failure
const ctx = {
  cfg,
  prefix,
  redis,
  /** One measured run of a fresh server: start, prepare + checks, warm-up, measure, stop. */
  async measure({ name, server, round, prepare, env, recordLatencies, cleanupAtMs, onPrepared }) {
    const profileDir = cfg.profile.includes(name) ? join(ROOT, 'bench/profiles', `${name}-r${round}`) : undefined;
    const busyBefore = await waitForQuiet();
    current = await startServer({
      server,
      cpus: cpu.server,
      redisUrl,
      prefix,
      env,
      profileDir,
      logFile: join(logDir, `${name}-r${round}.log`),
    });
    try {
      const prep = await prepare(current.url, cfg.connections);
      await onPrepared?.(current.url, prep);
      let before;
      let cpuBefore;
      let redisCpuBefore;
      let load;
      const result = await runLoad(
        {
          url: current.url,
          connections: cfg.connections,
          specs: prep.specs,
          mode: prep.mode,
          warmup: cfg.warmup,
          duration: cfg.duration,
          recordLatencies,
          cleanupAtMs,
        },
        {
          cpus: cpu.load,
          onWarmed: async () => {
            before = await commandCalls(redis);
            cpuBefore = cpuSeconds(current.pid);
            redisCpuBefore = ownRedis ? cpuSeconds(ownRedis.pid) : NaN;
            load = os.loadavg()[0];
          },
        },
      );
      const cpuUsed = cpuSeconds(current.pid) - cpuBefore;
      // Redis's own CPU over the measured run (issue 16 §5): what one Redis core can serve.
      const redisCpuUsed = ownRedis ? cpuSeconds(ownRedis.pid) - redisCpuBefore : NaN;
      await sleep(250); // answers in flight when the load stopped
      result.redis = perRequest(before, await commandCalls(redis), result.sent);
      // Server CPU per request: robust when other processes share the machine, unlike req/s.
      result.cpuUsPerRequest = (cpuUsed * 1e6) / result.sent;
      result.redisCpuUsPerRequest = (redisCpuUsed * 1e6) / result.sent;
      result.serverCpuShare = cpuUsed / cfg.duration;
      result.loadAverage = load;
      result.machineBusyBefore = busyBefore;
      if (result.failure) throw new Error(`${name} round ${round}: measured run failed: ${result.failure}`);
      result.checks = prep.checks;
      return result;
    } finally {
      await current.stop();
      current = undefined;
      if (profileDir) {
        for (const line of summarizeProfile(profileDir, join(ROOT, 'bench/profiles', `${name}-r${round}.txt`), {
          windowSeconds: cfg.duration,
        }))
          progress(`  ${line}`);
      }
    }
  },
};

async function cleanupAll() {
  if (current) await current.stop().catch(() => undefined);
  await deleteKeys(redis, prefix).catch(() => undefined);
  if (redis.isOpen) await redis.quit().catch(() => undefined);
  if (ownRedis) await ownRedis.stop();
}

const results = { cfg, peers: {}, started: new Date().toISOString() };
try {
  progress(
    `bench: ${peers.length} peers × ${cfg.rounds} rounds, ${cfg.warmup}s warm-up + ${cfg.duration}s measured, ${cfg.connections} connections; ` +
      `Redis ${ownRedis ? `started on port ${ownRedis.port}` : 'from REDIS_URL'}; ` +
      (canPin ? 'server on CPU 0, autocannon and Redis on CPU 1' : 'no CPU pinning (taskset missing or one CPU)'),
  );
  for (let round = 1; round <= cfg.rounds; round++) {
    for (const peer of peers) {
      progress(`round ${round}/${cfg.rounds} · ${peer.name}`);
      const r = await ctx.measure({
        name: peer.name,
        server: peer.server,
        round,
        prepare: peer.prepare,
        // One round trip per request, seen directly: MONITOR during 20 sequential requests.
        onPrepared:
          peer.name === 'module-bearer' && round === 1
            ? async (url, prep) => {
                results.monitor = await monitor(Number(redisAddress.port), redisAddress.hostname, async () => {
                  for (let i = 0; i < 20; i++)
                    await (await fetch(`${url}/me`, { headers: prep.specs[0].headers })).text();
                });
                results.monitor.requests = 20;
              }
            : undefined,
      });
      (results.peers[peer.name] ??= {
        label: peer.label,
        module: Boolean(peer.module),
        experiment: Boolean(peer.experiment),
        runs: [],
      }).runs.push({ round, ...r });
      const cmds =
        Object.entries(r.redis)
          .map(([c, v]) => `${c} ${v.perRequest.toFixed(2)}`)
          .join(', ') || 'none';
      progress(
        `  ${Math.round(r.rps)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, server ${Math.round(r.cpuUsPerRequest)} µs CPU/request (${Math.round(100 * r.serverCpuShare)}% of a CPU), Redis ${r.redisCpuUsPerRequest.toFixed(1)} µs CPU/request, load avg ${r.loadAverage.toFixed(1)}; Redis commands/request: ${cmds}`,
      );
    }
  }
  if (cfg.extras) {
    // Sessions the login and refresh runs left behind: gone first, so every memory case starts
    // from the same keyspace (its dictionaries double at powers of two).
    await deleteKeys(redis, prefix);
    progress(`memory: ${cfg.sessions} sessions through RedisSessionRepository.create`);
    results.memory = await memoryScenario({ redis, total: cfg.sessions });
    progress(`scaling: GET /me with 1 vs ${cfg.sessions} live sessions`);
    results.scaling = await scalingScenario({ ctx, total: cfg.sessions });
    for (const s of results.scaling)
      progress(`  round ${s.round}, ${s.live} live: ${Math.round(s.rps)} req/s, p99 ${s.p99} ms`);
    progress(`cleanup: one tick over ${cfg.sessions} expired index entries under load`);
    results.cleanup = await cleanupScenario({ ctx, total: cfg.sessions });
    for (const r of results.cleanup.runs) {
      progress(
        `  ${r.during ? 'during' : 'before'}: ${Math.round(r.rps)} req/s, p99 ${r.p99} ms${r.window ? `, p99 in the tick window ${r.window.p99.toFixed(1)} ms (${r.window.count} requests)` : ''}${r.cleanup ? `, tick ${Math.round(r.cleanup.body?.ms)} ms ${JSON.stringify(r.cleanup.body)}` : ''}`,
      );
    }
  }
  if (cfg.extras) {
    // Issue 16: revocation reaching another replica's local cache.
    results.invalidation = await invalidationScenario({ redisUrl, redis, prefix, logDir });
  }
  results.finished = new Date().toISOString();
  results.machine = machineFacts(ownRedis ? 'started by the bench' : 'REDIS_URL');
  results.canPin = canPin;
  if (cfg.out) {
    const files = writeResults(results, cfg.out);
    progress(`wrote ${files.join(', ')}`);
  }
  await cleanupAll();
  rmSync(logDir, { recursive: true, force: true });
} catch (err) {
  console.error(`bench failed: ${err?.stack ?? err}\nserver logs kept in ${logDir}`);
  await cleanupAll();
  process.exit(1);
}

/** user + system CPU seconds of a process, from /proc (NaN where there is no /proc). */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

function sh(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
  } catch {
    return 'n/a';
  }
}

function machineFacts(redisSource) {
  const lscpu = sh('lscpu', []);
  const field = (name) => new RegExp(`^${name}:\\s*(.+)$`, 'm').exec(lscpu)?.[1] ?? 'n/a';
  const version = (pkg) => {
    try {
      return JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')).version;
    } catch {
      return 'n/a';
    }
  };
  return {
    nproc: sh('nproc', []),
    cpuModel: field('Model name'),
    threadsPerCore: field('Thread\\(s\\) per core'),
    memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    redis: sh('redis-server', ['-v']),
    redisSource,
    packages: Object.fromEntries(
      [
        '@nestjs/core',
        '@nestjs/platform-express',
        'express',
        'autocannon',
        'jsonwebtoken',
        'passport-jwt',
        'express-session',
        'connect-redis',
        'redis',
      ].map((p) => [p, version(p)]),
    ),
  };
}
