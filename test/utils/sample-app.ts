import type { INestApplication, LoggerService } from '@nestjs/common';
import { Test, type TestingModuleBuilder } from '@nestjs/testing';
import { AppModule } from '../../sample/app.module.js';
import { type TrustProxy } from '../../sample/http-adapter.config.js';
import { createTestApp, type TestAdapter, testAdapter } from './http-adapter.js';
import type { SessionModuleOptions } from '../../lib/index.js';
import { SESSION_CLOCK } from '../../lib/session.internal-constants.js';
import type { SessionClock } from '../../lib/session-clock.js';

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

/** A TestClock or any function of epoch ms (e.g. a clock running 100 s fast). */
export type TestTime = TestClock | (() => number);

/**
 * Replaces the module's internal clock (it is not an option). On Redis the same clock decides
 * liveness too (`store: 'local'`), so a test that moves it moves it for the store; pass
 * `'server'` to keep Redis TIME deciding.
 */
export function withClock(
  builder: TestingModuleBuilder,
  time: TestTime | undefined,
  store: SessionClock['store'] = 'local',
): TestingModuleBuilder {
  if (time === undefined) return builder;
  const now = time instanceof TestClock ? time.now : time;
  return builder.overrideProvider(SESSION_CLOCK).useValue({ now, store } satisfies SessionClock);
}

export interface RunningSample {
  app: INestApplication;
  /** Base URL, e.g. http://127.0.0.1:PORT */
  url: string;
  close(): Promise<void>;
}

/** What a test may change beyond the module's options. */
export interface SampleHooks {
  /** Replaces the default silent logger (e.g. to capture log lines). */
  logger?: LoggerService | false;
  /** Runs on the app before it listens (e.g. `setGlobalPrefix`); for trust proxy use `trustProxy`. */
  configure?: (app: INestApplication) => void | Promise<void>;
  /** The HTTP platform. @default testAdapter(): `TEST_HTTP_ADAPTER`, else express */
  adapter?: TestAdapter;
  /** Trust proxy, as both platforms read it (Express `app.set`, Fastify's constructor option). */
  trustProxy?: TrustProxy;
  /** The module's time (see `withClock`). */
  clock?: TestTime;
  /** Whose clock decides on Redis when `clock` is given. @default 'local' */
  storeClock?: SessionClock['store'];
}

/**
 * Starts the sample app over real HTTP on a free loopback port. `overrides` are merged over the
 * options the sample builds from the environment (pass `store` for Redis); `hooks.clock` moves time.
 * Cookies default to `secure: true` as in production; supertest sends them back regardless.
 */
export async function startSample(
  overrides: Partial<SessionModuleOptions> = {},
  opts: SampleHooks = {},
): Promise<RunningSample> {
  const options: Partial<SessionModuleOptions> = { secret: TEST_SECRET, ...overrides };
  const builder = Test.createTestingModule({ imports: [AppModule.register(options)] });
  const moduleRef = await withClock(builder, opts.clock, opts.storeClock).compile();
  // `opts.logger` lets a test capture the module's log lines (audit events); silent by default.
  const app = createTestApp(moduleRef, opts.adapter ?? testAdapter(), {
    logger: opts.logger ?? false,
    trustProxy: opts.trustProxy,
  });
  await opts.configure?.(app);
  return listenOnLoopback(app);
}

/** Listens on a free loopback port; the answer's `url` is where supertest reaches it. */
export async function listenOnLoopback(app: INestApplication): Promise<RunningSample> {
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${address.port}`, close: () => app.close() };
}
