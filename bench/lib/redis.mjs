/**
 * A throwaway redis-server for the bench (the JS cousin of test/utils/redis.ts): a free loopback
 * port, a temp dir, no persistence, optionally pinned to a CPU. Never port 6379.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { which } from './proc.mjs';

const HOST = '127.0.0.1';

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function ping(port) {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.on('data', (chunk) => done(chunk.toString().startsWith('+PONG')));
    socket.connect(port, HOST, () => socket.write('*1\r\n$4\r\nPING\r\n'));
  });
}

/** Starts redis-server; `cpus` (e.g. "1") pins it with taskset when available. */
export async function startRedis({ cpus } = {}) {
  const binary = which('redis-server');
  if (!binary)
    throw new Error('redis-server not found: install it with "apt-get install redis-server", or set REDIS_URL');
  let port = await freePort();
  if (port === 6379) port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'bench-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    HOST,
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--daemonize',
    'no',
    '--protected-mode',
    'no',
    '--logfile',
    join(dir, 'redis.log'),
  ];
  const taskset = cpus !== undefined ? which('taskset') : undefined;
  const child = taskset
    ? spawn(taskset, ['-c', cpus, binary, ...args], { stdio: 'ignore' })
    : spawn(binary, args, { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const deadline = Date.now() + 10_000;
  while (!(await ping(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not start on port ${port} (see ${dir}/redis.log)`);
    }
    await sleep(25);
  }
  return {
    url: `redis://${HOST}:${port}`,
    port,
    pid: child.pid,
    pinned: Boolean(taskset),
    async stop() {
      child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
