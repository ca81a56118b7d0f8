/** Server and load-generator processes, Redis counters, progress lines. */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort } from './redis.mjs';
import { which } from './proc.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SERVER_MAIN = join(ROOT, 'dist-bench/servers/main.js');
const LOAD_MAIN = join(ROOT, 'bench/load.mjs');

const started = Date.now();
export function progress(message) {
  const s = Math.floor((Date.now() - started) / 1000);
  const stamp = `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  console.log(`[${stamp}] ${message}`);
}

/** Command prefix that pins a process to `cpus`, or [] when taskset is missing or pinning is off. */
export function pinned(cpus) {
  const taskset = which('taskset');
  return taskset && cpus !== undefined ? [taskset, '-c', cpus] : [];
}

function spawnNode(cpus, args, options) {
  const pin = pinned(cpus);
  return pin.length
    ? spawn(pin[0], [...pin.slice(1), process.execPath, ...args], options)
    : spawn(process.execPath, args, options);
}

function exitOf(child) {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Starts `dist-bench/servers/main.js` as BENCH_PEER=`server`, waits for GET /health.
 * `profileDir` turns on --cpu-prof (written on the clean SIGTERM exit).
 */
export async function startServer({ server, cpus, redisUrl, prefix, logFile, env = {}, profileDir }) {
  const port = await freePort();
  const fd = openSync(logFile, 'a');
  const args = [];
  if (profileDir) {
    mkdirSync(profileDir, { recursive: true });
    args.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`);
  }
  args.push(SERVER_MAIN);
  const child = spawnNode(cpus, args, {
    stdio: ['ignore', fd, fd],
    env: {
      ...process.env,
      NODE_ENV: 'production',
      NO_COLOR: '1',
      BENCH_PEER: server,
      PORT: String(port),
      REDIS_URL: redisUrl,
      BENCH_PREFIX: prefix,
      ...env,
    },
  });
  closeSync(fd);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(
        `server ${server} exited with ${child.exitCode}; log ${logFile}:\n${readFileSync(logFile, 'utf8').slice(-2000)}`,
      );
    }
    try {
      if ((await fetch(`${url}/health`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server ${server} not ready after 20 s; log ${logFile}`);
    }
    await sleep(50);
  }
  return {
    url,
    pid: child.pid,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exitOf(child);
      clearTimeout(timer);
    },
  };
}

/**
 * Runs one job in the load-generator child: warm-up, then `onWarmed()` (counters), then the
 * measured run. Resolves with the child's summary; rejects on any child error.
 */
export function runLoad(job, { cpus, onWarmed } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawnNode(cpus, [LOAD_MAIN], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let settled = false;
    const finish = (fn, value) => {
      if (settled) return;
      settled = true;
      fn(value);
    };
    child.on('message', (m) => {
      if (m.type === 'warmed') {
        Promise.resolve(onWarmed?.())
          .then(() => child.send({ type: 'go' }))
          .catch((err) => {
            child.kill('SIGKILL');
            finish(reject, err);
          });
      } else if (m.type === 'result') finish(resolve, m.result);
      else if (m.type === 'error') finish(reject, new Error(m.message));
    });
    child.on('exit', (code) => finish(reject, new Error(`load generator exited with ${code} before answering`)));
    child.on('error', (err) => finish(reject, err));
    child.send({ type: 'run', job });
  });
}

function cpuTimes() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { idle: f[3] + (f[4] ?? 0), total: f.reduce((a, b) => a + b, 0) };
}

/**
 * Waits (up to `maxWaitMs`) until other processes use less than `threshold` of the machine's
 * CPU over one second, so runs do not start in the middle of someone else's burst. Returns the
 * busy fraction of the last sample (NaN without /proc).
 */
export async function waitForQuiet({ threshold = 0.2, maxWaitMs = 45_000 } = {}) {
  const deadline = Date.now() + maxWaitMs;
  let waited = false;
  for (;;) {
    let busy;
    try {
      const a = cpuTimes();
      await sleep(1000);
      const b = cpuTimes();
      busy = 1 - (b.idle - a.idle) / (b.total - a.total);
    } catch {
      return NaN;
    }
    if (busy < threshold || Date.now() > deadline) {
      if (waited)
        progress(`  machine ${Math.round(100 * busy)}% busy${busy < threshold ? '' : ' after waiting; going on'}`);
      return busy;
    }
    if (!waited) progress(`  machine ${Math.round(100 * busy)}% busy with other work: waiting for it to calm down`);
    waited = true;
  }
}

/** `INFO commandstats` as {command: calls}. */
export async function commandCalls(redis) {
  const out = {};
  for (const line of (await redis.info('commandstats')).split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

/** Per-request command counts between two snapshots; the bench's own INFO calls are left out. */
export function perRequest(before, after, requests) {
  const out = {};
  for (const [cmd, calls] of Object.entries(after)) {
    if (cmd === 'info') continue;
    const delta = calls - (before[cmd] ?? 0);
    if (delta > 0) out[cmd] = { calls: delta, perRequest: delta / requests };
  }
  return out;
}

/**
 * Watches Redis with MONITOR while `work()` runs and counts the commands clients sent
 * (round trips) apart from the ones scripts ran inside Redis (`[n lua]`).
 */
export async function monitor(port, host, work) {
  const socket = new Socket();
  let text = '';
  await new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.connect(port, host, () => {
      socket.write('*1\r\n$7\r\nMONITOR\r\n');
      resolve();
    });
  });
  socket.on('data', (chunk) => (text += chunk.toString('utf8')));
  await sleep(100);
  await work();
  await sleep(200);
  socket.destroy();
  const fromClients = {};
  const inScripts = {};
  for (const line of text.split('\r\n')) {
    const m = /^\+\d+\.\d+ \[\d+ ([^\]]+)\] "([^"]+)"/.exec(line);
    if (!m) continue;
    const cmd = m[2].toLowerCase();
    if (cmd === 'monitor') continue;
    const bucket = m[1] === 'lua' ? inScripts : fromClients;
    bucket[cmd] = (bucket[cmd] ?? 0) + 1;
  }
  return { fromClients, inScripts };
}
