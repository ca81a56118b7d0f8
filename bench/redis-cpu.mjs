/**
 * `node bench/redis-cpu.mjs` (after `npm run build:lib`): Redis's own CPU per session validation
 * (issue 16 §5), away from HTTP. A throwaway redis-server; `RedisSessionRepository.validate` in
 * its two modes — `script` (the validation script on every request, as before issue 16) and
 * `read` (one MGET, the script only when a touch is due or the store-clock anchor is 10 s old) —
 * against a plain `GET` of a short value (the minimal guard's design), each over the same number
 * of requests with 64 in flight. Redis CPU is redis-server's utime+stime from /proc over the run
 * (everything it spends: parsing, the command, replies, syscalls); `INFO commandstats` gives the
 * command time alone (usec, excluding I/O). Rounds are interleaved; medians are reported.
 *
 * Two loads: one request in flight (every command its own read and write syscalls, as an app
 * server's requests mostly arrive) and 64 (the client pipelines: Redis's per-command work shows).
 *
 * Environment: CPU_REQUESTS (100000 per run), CPU_ROUNDS (3), CPU_SESSIONS (1000 users),
 * CPU_IN_FLIGHT ("1,64"), CPU_BASELINE_DIST (the dist/ of an earlier release, e.g. one built
 * from the commit before issue 16: adds its validation script, on its own record format).
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createClient } from 'redis';
import { RedisSessionRepository } from '../dist/index.js';
import { startRedis } from './lib/redis.mjs';

const REQUESTS = Number(process.env.CPU_REQUESTS ?? 100_000);
const ROUNDS = Number(process.env.CPU_ROUNDS ?? 3);
const USERS = Number(process.env.CPU_SESSIONS ?? 1000);
const LOADS = (process.env.CPU_IN_FLIGHT ?? '1,64').split(',').map(Number);
const BASELINE = process.env.CPU_BASELINE_DIST;
let IN_FLIGHT = 1;
const IDLE = 1_800_000;
const TOUCH = 180_000;
const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KH';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

async function commandStats(client) {
  const out = {};
  for (const m of (await client.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm))
    out[m[1]] = { calls: Number(m[2]), usec: Number(m[3]) };
  return out;
}

async function pool(total, task) {
  let next = 0;
  const worker = async () => {
    while (next < total) await task(next++);
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
}

const redis = await startRedis();
const client = createClient({ url: redis.url });
client.on('error', () => undefined);
await client.connect();
const inspector = createClient({ url: redis.url });
await inspector.connect();

try {
  const prefix = `cpu${randomBytes(2).toString('hex')}:`;
  const repo = (validation) =>
    new RedisSessionRepository(client, { cluster: false, keyPrefix: prefix, commandTimeout: 5000, validation });
  // Layouts: one session per user (in the user key), and three per user (own keys + index).
  const layouts = { '1/user': [], '3/user': [] };
  const writer = repo('script');
  for (const [layout, perUser] of [
    ['1/user', 1],
    ['3/user', 3],
  ]) {
    for (let i = 0; i < USERS * perUser; i++) {
      const now = Date.now();
      const s = {
        id: randomBytes(16).toString('base64url'),
        userId: `${layout[0]}user-${Math.floor(i / perUser)}`,
        roles: ['user'],
        userAgent: UA,
        ip: '203.0.113.7',
        device: 'Chrome 124 on Windows',
        data: undefined,
        now,
        idleTimeoutMs: IDLE,
        absoluteExpiresAt: now + 86_400_000,
        refreshHash: randomBytes(16).toString('base64url'),
        refreshIssuedAt: Math.floor(now / 1000),
      };
      await writer.create(s);
      layouts[layout].push(s);
    }
  }
  // The minimal guard's data: one short string per session id.
  const plain = layouts['1/user'].map((s) => `${prefix}plain:${s.id}`);
  for (const k of plain) await client.set(k, 'user-123', { EX: 3600 });

  const modes = {
    'GET (minimal guard)': async () => pool(REQUESTS, (i) => client.get(plain[i % plain.length])),
  };
  if (BASELINE) {
    const { RedisSessionRepository: Before } = await import(`${BASELINE.replace(/\/$/, '')}/index.js`);
    const before = new Before(client, { cluster: false, keyPrefix: `${prefix}old:`, commandTimeout: 5000 });
    const list = layouts['1/user'].map((s) => ({ ...s, id: `${s.id}o` }));
    for (const s of list) await before.create({ ...s, now: Date.now() });
    modes['validate before issue 16 (its script, hash record), 1/user'] = async () =>
      pool(REQUESTS, async (i) => {
        const s = list[i % list.length];
        const v = await before.validate(s.userId, s.id, {
          now: Date.now(),
          idleTimeoutMs: IDLE,
          touchIntervalMs: TOUCH,
        });
        if (v.status !== 'ok') throw new Error(`validate answered ${v.status}`);
      });
  }
  for (const layout of Object.keys(layouts)) {
    for (const validation of ['script', 'read']) {
      modes[`validate, ${validation === 'script' ? 'script every request' : 'MGET + script when due'}, ${layout}`] =
        async () => {
          const r = repo(validation);
          const list = layouts[layout];
          await pool(REQUESTS, async (i) => {
            const s = list[i % list.length];
            const v = await r.validate(s.userId, s.id, {
              now: Date.now(),
              idleTimeoutMs: IDLE,
              touchIntervalMs: TOUCH,
            });
            if (v.status !== 'ok') throw new Error(`validate answered ${v.status}`);
          });
        };
    }
  }

  const runs = {};
  for (const run of Object.values(modes)) await run(); // warm: scripts cached, JIT, connections
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [mode, run] of LOADS.flatMap((load) => Object.entries(modes).map(([m, f]) => [[load, m], f]))) {
      IN_FLIGHT = mode[0];
      const name = `${mode[1]} · ${IN_FLIGHT} in flight`;
      const stats0 = await commandStats(inspector);
      const cpu0 = cpuSeconds(redis.pid);
      const t0 = performance.now();
      await run();
      const seconds = (performance.now() - t0) / 1000;
      const cpu = cpuSeconds(redis.pid) - cpu0;
      const stats1 = await commandStats(inspector);
      const commands = {};
      let usec = 0;
      for (const [c, v] of Object.entries(stats1)) {
        if (c.startsWith('info')) continue;
        const calls = v.calls - (stats0[c]?.calls ?? 0);
        const used = v.usec - (stats0[c]?.usec ?? 0);
        if (calls > 0) commands[c] = calls / REQUESTS;
        // Commands inside a script are counted in its own usec too: only what clients sent.
        if (['get', 'mget', 'evalsha', 'eval'].includes(c)) usec += used;
      }
      (runs[name] ??= []).push({
        cpuUs: (cpu * 1e6) / REQUESTS,
        commandUs: usec / REQUESTS,
        rps: REQUESTS / seconds,
        commands,
      });
      console.error(
        `round ${round} · ${name}: Redis ${((cpu * 1e6) / REQUESTS).toFixed(2)} µs CPU/request, commands ${(usec / REQUESTS).toFixed(2)} µs, ${Math.round(REQUESTS / seconds)} req/s`,
      );
    }
  }

  const lines = [
    `Redis CPU per validation, ${REQUESTS.toLocaleString('en')} requests per run, ${ROUNDS} rounds (medians); ${USERS} users; touch interval ${TOUCH / 1000} s, idle ${IDLE / 1000} s; ${execFileSync('redis-server', ['-v'], { encoding: 'utf8' }).trim().split(' ').slice(0, 3).join(' ')}.`,
    '',
    '| path | Redis CPU µs / request (/proc) | × GET | command µs / request (commandstats) | commands / request | req/s (one client) |',
    '|---|---:|---:|---:|---|---:|',
  ];
  for (const [name, rs] of Object.entries(runs)) {
    const load = name.split(' · ')[1];
    const get = median(runs[`GET (minimal guard) · ${load}`].map((r) => r.cpuUs));
    const cpu = median(rs.map((r) => r.cpuUs));
    const cmds = Object.entries(rs[0].commands)
      .map(([c, v]) => `${c.toUpperCase()} ${v.toFixed(2)}`)
      .join(', ');
    lines.push(
      `| ${name} | ${cpu.toFixed(2)} | ${(cpu / get).toFixed(2)}× | ${median(rs.map((r) => r.commandUs)).toFixed(2)} | ${cmds} | ${Math.round(median(rs.map((r) => r.rps))).toLocaleString('en')} |`,
    );
  }
  console.log(lines.join('\n'));
} finally {
  await client.quit().catch(() => undefined);
  await inspector.quit().catch(() => undefined);
  await redis.stop();
}
