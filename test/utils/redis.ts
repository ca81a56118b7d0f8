/**
 * Throwaway Redis servers for tests. Every server runs on a fresh loopback port
 * in its own temp dir; the harness never connects to a Redis it did not start
 * (in particular not the machine's own one on 6379).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { accessSync, constants, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RedisProcess {
  port: number;
  /** redis://127.0.0.1:PORT */
  url: string;
  dir: string;
  pid: number;
  /** SIGTERM and wait for exit. Removes the temp dir unless appendonly (so restart() keeps data). */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit. Keeps the dir. */
  kill(): Promise<void>;
  /** Start again on the same port and dir and wait until ready. */
  restart(): Promise<void>;
}

export interface RedisClusterProcess {
  nodes: { host: string; port: number }[];
  rootNodes: { url: string }[];
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const FORBIDDEN_PORT = 6379; // the machine's own Redis
const READY_TIMEOUT_MS = 10_000;
const CLUSTER_TIMEOUT_MS = 20_000;

// Jest hands test code a sandboxed copy of `process` whose 'exit' event never fires,
// so reach the host process through a function created in the host realm.
const hostProcess: NodeJS.Process = (EventEmitter as unknown as FunctionConstructor).constructor('return process')();

// One registry per Jest worker, shared by every test file that imports this module.
interface Registry {
  children: Set<ChildProcess>;
  dirs: Set<string>;
}
const REGISTRY = Symbol.for('test-utils/redis');
const registry: Registry = ((hostProcess as unknown as Record<symbol, Registry>)[REGISTRY] ??= (() => {
  const r: Registry = { children: new Set(), dirs: new Set() };
  hostProcess.on('exit', () => {
    for (const child of r.children) child.kill('SIGKILL');
    for (const dir of r.dirs) rmSync(dir, { recursive: true, force: true });
  });
  return r;
})());

function findBinary(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const file = join(dir || '.', name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not in this PATH entry
    }
  }
  return undefined;
}

export function findRedisServer(): string {
  const file = findBinary('redis-server');
  if (!file) {
    throw new Error(
      'redis-server not found: install it with "apt-get install redis-server" (tests start their own throwaway Redis)',
    );
  }
  return file;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Refuse ports that are in use: a PONG there would come from someone else's server. */
function assertPortFree(port: number): Promise<void> {
  if (port === FORBIDDEN_PORT) return Promise.reject(new Error(`refusing to use port ${FORBIDDEN_PORT}`));
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err) => reject(new Error(`port ${port} is already in use`, { cause: err })));
    server.listen(port, HOST, () => server.close(() => resolve()));
  });
}

/** Sends one command as raw RESP and returns the reply (simple/error line or bulk string body). */
function command(port: number, args: string[], timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let buf = Buffer.alloc(0);
    const done = (err: Error | null, reply?: string) => {
      socket.destroy();
      if (err) reject(err);
      else resolve(reply!);
    };
    socket.setTimeout(timeoutMs, () => done(new Error('timeout')));
    socket.once('error', done);
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      const eol = buf.indexOf('\r\n');
      if (eol < 0) return;
      const line = buf.toString('utf8', 0, eol);
      if (line[0] !== '$') return done(null, line); // +PONG / -ERR ... / :1
      const len = Math.max(Number(line.slice(1)), 0); // $-1 (nil) reads as ''
      if (buf.length >= eol + 2 + len) done(null, buf.toString('utf8', eol + 2, eol + 2 + len));
    });
    socket.connect(port, HOST, () => {
      socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
    });
  });
}

async function logTail(dir: string): Promise<string> {
  const log = await readFile(join(dir, 'redis.log'), 'utf8').catch(() => '(no log file)');
  return log.trimEnd().split('\n').slice(-20).join('\n');
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  child.ref(); // keep the event loop alive while we wait
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Polls PING until +PONG; fails early if the process dies, or after the deadline. */
async function waitReady(child: ChildProcess, port: number, dir: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = 'no reply';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `redis-server on port ${port} exited (${child.exitCode ?? child.signalCode}); log tail:\n${await logTail(dir)}`,
      );
    }
    try {
      last = await command(port, ['PING'], 500);
      if (last === '+PONG') return;
    } catch (err) {
      last = (err as Error).message; // not listening yet
    }
    await sleep(25);
  }
  throw new Error(
    `redis-server on port ${port} not ready after ${READY_TIMEOUT_MS} ms (last: ${last}); log tail:\n${await logTail(dir)}`,
  );
}

async function launch(port: number, dir: string, args: string[]): Promise<ChildProcess> {
  await assertPortFree(port);
  await mkdir(dir, { recursive: true }); // stop() may have removed it
  const child = spawn(
    findRedisServer(),
    [
      '--port',
      String(port),
      '--bind',
      HOST,
      '--save',
      '',
      '--dir',
      dir,
      '--daemonize',
      'no',
      '--protected-mode',
      'no',
      '--logfile',
      join(dir, 'redis.log'),
      ...args,
    ],
    { stdio: 'ignore' }, // output goes to the log file
  );
  registry.children.add(child);
  child.once('exit', () => registry.children.delete(child));
  child.unref(); // a forgotten server must not keep Jest alive; the exit handler kills it
  try {
    await waitReady(child, port, dir);
  } catch (err) {
    child.kill('SIGKILL');
    await waitForExit(child);
    throw err;
  }
  return child;
}

interface StartOptions {
  appendonly?: boolean;
  dir?: string;
  port?: number;
}

async function start(opts: StartOptions, extraArgs: (dir: string) => string[]): Promise<RedisProcess> {
  const port = opts.port ?? (await freePort());
  const ownDir = !opts.dir; // never delete a dir the caller gave us
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), `redis-test-${port}-`)));
  if (ownDir) registry.dirs.add(dir);
  const args = [...extraArgs(dir), '--appendonly', opts.appendonly ? 'yes' : 'no'];
  // fsync every write so data survives kill() (SIGKILL) too
  if (opts.appendonly) args.push('--appendfsync', 'always');

  const removeDir = async () => {
    await rm(dir, { recursive: true, force: true });
    registry.dirs.delete(dir);
  };
  let child: ChildProcess;
  try {
    child = await launch(port, dir, args);
  } catch (err) {
    if (ownDir) await removeDir();
    throw err;
  }
  const signal = async (sig: NodeJS.Signals) => {
    child.kill(sig);
    await waitForExit(child);
  };
  const proc: RedisProcess = {
    port,
    url: `redis://${HOST}:${port}`,
    dir,
    pid: child.pid!,
    async stop() {
      await signal('SIGTERM');
      if (ownDir && !opts.appendonly) await removeDir();
    },
    kill: () => signal('SIGKILL'),
    async restart() {
      await signal('SIGTERM'); // no-op if already stopped
      if (ownDir) registry.dirs.add(dir);
      child = await launch(port, dir, args);
      proc.pid = child.pid!;
    },
  };
  return proc;
}

export function startRedis(opts: StartOptions = {}): Promise<RedisProcess> {
  return start(opts, () => []);
}

async function clusterInfo(port: number): Promise<string> {
  return command(port, ['CLUSTER', 'INFO']).catch((err: Error) => `error: ${err.message}`);
}

export async function startRedisCluster(opts: { masters?: number } = {}): Promise<RedisClusterProcess> {
  const masters = opts.masters ?? 3;
  const redisCli = findBinary('redis-cli');
  if (!redisCli) throw new Error('redis-cli not found: install it with "apt-get install redis-server"');

  const servers: RedisProcess[] = [];
  const stop = async () => {
    await Promise.all(servers.map((s) => s.stop()));
  };
  try {
    const started = await Promise.allSettled(
      Array.from({ length: masters }, () =>
        start({}, (dir) => [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(dir, 'nodes.conf'),
          '--cluster-node-timeout',
          '2000',
        ]),
      ),
    );
    for (const r of started) if (r.status === 'fulfilled') servers.push(r.value);
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;

    const addrs = servers.map((s) => `${HOST}:${s.port}`);
    await new Promise<void>((resolve, reject) => {
      execFile(
        redisCli,
        ['--cluster', 'create', ...addrs, '--cluster-replicas', '0', '--cluster-yes'],
        { timeout: CLUSTER_TIMEOUT_MS },
        (err, stdout, stderr) =>
          err
            ? reject(new Error(`redis-cli --cluster create failed: ${err.message}\n${stdout}\n${stderr}`))
            : resolve(),
      );
    });

    // redis-cli returns once slots are assigned; wait until every node sees the whole cluster as healthy.
    const deadline = Date.now() + CLUSTER_TIMEOUT_MS;
    for (;;) {
      const infos = await Promise.all(servers.map((s) => clusterInfo(s.port)));
      const ok = infos.every((i) => i.includes('cluster_state:ok') && i.includes('cluster_slots_ok:16384'));
      if (ok) break;
      if (Date.now() > deadline) {
        const detail = infos.map((info, n) => `--- ${addrs[n]}\n${info.trim()}`).join('\n');
        throw new Error(`redis cluster not ok after ${CLUSTER_TIMEOUT_MS} ms:\n${detail}`);
      }
      await sleep(50);
    }
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    nodes: servers.map((s) => ({ host: HOST, port: s.port })),
    rootNodes: servers.map((s) => ({ url: s.url })),
    stop,
  };
}
