/**
 * The stores every e2e spec runs on: the in-memory repository and a real single redis-server
 * that the spec file starts itself (never a shared Redis).
 */
import { MemorySessionRepository, type SessionModuleOptions } from '../../../lib/index.js';
import { startRedis, type RedisProcess } from '../../utils/redis.js';
import { type RunningSample, type SampleHooks, startSample } from '../../utils/sample-app.js';
import { redisTestStore } from '../../utils/stores.js';

export interface StoreFactory {
  readonly name: 'memory' | 'redis';
  /** Module options that put one sample app on this store, and how to release what they hold. */
  create(redisUrl: () => string): Promise<{ options: Partial<SessionModuleOptions>; close(): Promise<void> }>;
}

let prefixes = 0;

/** `describe.each(STORES)('... on the $name store', (store) => ...)`. */
export const STORES: StoreFactory[] = [
  {
    name: 'memory',
    // Given explicitly so a REDIS_URL in the environment can never switch the sample to Redis.
    create: async () => ({ options: { store: new MemorySessionRepository() }, close: async () => undefined }),
  },
  {
    name: 'redis',
    create: async (redisUrl) => {
      const s = await redisTestStore(redisUrl());
      // Own key prefix per app: apps of one file share the redis-server but never each other's keys.
      return { options: { store: s.store, redis: { keyPrefix: `e2e${++prefixes}:` } }, close: s.close };
    },
  },
];
// `TEST_STORES=memory` (the test/fastify/ runs of store-independent suites) keeps only the named stores.
const only = process.env.TEST_STORES?.split(',');
if (only) STORES.splice(0, STORES.length, ...STORES.filter((s) => only.includes(s.name)));

/** One redis-server per spec file plus every sample app started on it; all closed by `stop()`. */
export class E2eHarness {
  private redis: RedisProcess | undefined;
  private readonly closers: Array<() => Promise<void>> = [];

  /** Call from the file's top-level `beforeAll`. */
  async start(): Promise<void> {
    this.redis = await startRedis();
  }

  /** Starts the sample over real HTTP on `store`; `overrides` are merged over the store options. */
  async sample(
    store: StoreFactory,
    overrides: Partial<SessionModuleOptions> = {},
    hooks: SampleHooks = {},
  ): Promise<RunningSample> {
    const s = await store.create(() => {
      if (!this.redis) throw new Error('E2eHarness.start() must run in beforeAll first');
      return this.redis.url;
    });
    this.closers.push(s.close);
    const sample = await startSample({ ...s.options, ...overrides }, hooks);
    this.closers.push(() => sample.close());
    return sample;
  }

  /** Call from the file's top-level `afterAll`: apps first, then their clients, then Redis. */
  async stop(): Promise<void> {
    try {
      for (const close of this.closers.splice(0).reverse()) await close();
    } finally {
      await this.redis?.stop();
    }
  }
}
