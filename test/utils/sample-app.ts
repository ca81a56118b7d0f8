import type { INestApplication, LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from '../../sample/app.module.js';
import type { SessionModuleOptions } from '../../lib/index.js';

/** A strong fixed secret for tests (never use a constant secret in production). */
export const TEST_SECRET = 'Zq3v9pT1xK8mW2rB7nL4cY6hJ0dF5gS1aE3uI9oP2tR';

/** A clock tests move by hand, so timeouts are tested without waiting. */
export class TestClock {
  constructor(public nowMs = Date.now()) {}
  readonly now = (): number => this.nowMs;
  advance(seconds: number): void {
    this.nowMs += seconds * 1000;
  }
}

export interface RunningSample {
  app: INestApplication;
  /** Base URL, e.g. http://127.0.0.1:PORT */
  url: string;
  close(): Promise<void>;
}

/**
 * Starts the sample app over real HTTP on a free loopback port. `overrides` are merged over the
 * options the sample builds from the environment (pass `store` for Redis, `clock` for time).
 * Cookies default to `secure: true` as in production; supertest sends them back regardless.
 * `opts.logger` replaces the default silent logger (e.g. to capture log lines).
 * `opts.configure` runs on the app before it listens (e.g. to set Express's `trust proxy`).
 */
export async function startSample(
  overrides: Partial<SessionModuleOptions> = {},
  opts: {
    logger?: LoggerService | false;
    configure?: (app: NestExpressApplication) => void | Promise<void>;
  } = {},
): Promise<RunningSample> {
  // A test that moves a TestClock moves it for the store too: Redis then decides with that clock
  // instead of its own TIME (pass `redis: { clock: 'server' }` to keep Redis's clock).
  const options: Partial<SessionModuleOptions> = { secret: TEST_SECRET, ...overrides };
  if (options.clock && options.redis?.clock === undefined) options.redis = { ...options.redis, clock: 'local' };
  const moduleRef = await Test.createTestingModule({
    imports: [AppModule.register(options)],
  }).compile();
  // `opts.logger` lets a test capture the module's log lines (audit events); silent by default.
  const app = moduleRef.createNestApplication<NestExpressApplication>({ logger: opts.logger ?? false });
  await opts.configure?.(app);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${address.port}`, close: () => app.close() };
}
