import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { freePort } from './redis.js';

/**
 * Entry of the built sample (`npm run build:sample` → dist-sample/, the sample's own build beside the
 * library's dist/), run as `npm run start:prod` runs it. `npm test` builds first.
 */
export const SAMPLE_MAIN = fileURLToPath(new URL('../../dist-sample/sample/main.js', import.meta.url));

export interface SampleProcess {
  child: ChildProcess;
  /** Base URL, e.g. http://127.0.0.1:PORT */
  url: string;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts the built sample as its own process on a free loopback port with `env` (and PATH only),
 * and resolves once it logs that it listens; rejects with its output if it exits or takes over 15 s.
 */
export async function startBuiltSample(env: Record<string, string>): Promise<SampleProcess> {
  const port = await freePort();
  let out = '';
  const child = spawn(process.execPath, [SAMPLE_MAIN], {
    env: { PATH: process.env.PATH ?? '', PORT: String(port), NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc: SampleProcess = {
    child,
    url: `http://127.0.0.1:${port}`,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
    },
  };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`the built sample did not start within 15 s: ${out}`)), 15_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes('listening on')) done();
    };
    // 'close', not 'exit': by then all of its output has arrived.
    const onExit = () => fail(new Error(`the built sample exited: ${out}`));
    const cleanup = () => {
      clearTimeout(timer);
      child.off('close', onExit);
    };
    const done = () => {
      cleanup();
      resolve();
    };
    const fail = (err: Error) => {
      cleanup();
      void proc.stop().then(() => reject(err));
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', onExit);
  });
  return proc;
}
