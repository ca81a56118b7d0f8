import { Test, type TestingModule } from '@nestjs/testing';
import { startRedis, type RedisProcess } from '../../test/utils/redis.js';
import { redisTestStore, type TestStore } from '../../test/utils/stores.js';
import { MemorySessionRepository } from '../repository/memory-session.repository.js';
import type { SessionModuleOptions } from '../interfaces/session-module-options.interface.js';
import { SessionModule } from '../session.module.js';
import { SessionHealthIndicator } from './session-health.indicator.js';

const SECRET = 'Zq3v9pT1xK8mW2rB7nL4cY6hJ0dF5gS1aE3uI9oP2tR';

/** A repository whose ping the test controls (only `kind` and `ping` matter here). */
class ScriptedStore extends MemorySessionRepository {
  override readonly kind = 'custom' as never;
  constructor(readonly pingImpl: () => Promise<void>) {
    super();
  }
  override ping(): Promise<void> {
    return this.pingImpl();
  }
}

async function indicatorFor(
  options: Partial<SessionModuleOptions>,
): Promise<{ health: SessionHealthIndicator; close(): Promise<void> }> {
  const moduleRef: TestingModule = await Test.createTestingModule({
    imports: [SessionModule.forRoot({ secret: SECRET, cleanup: { enabled: false }, ...options })],
  }).compile();
  await moduleRef.init();
  return { health: moduleRef.get(SessionHealthIndicator), close: () => moduleRef.close() };
}

async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await work;
  return { value, ms: performance.now() - t0 };
}

describe('SessionHealthIndicator', () => {
  const closers: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
  });

  it('is up on the memory store', async () => {
    const { health, close } = await indicatorFor({});
    closers.push(close);
    await expect(health.check()).resolves.toEqual({ status: 'up', store: 'memory' });
  });

  it('is down when the store rejects, naming the store', async () => {
    const { health, close } = await indicatorFor({ store: new ScriptedStore(() => Promise.reject(new Error('nope'))) });
    closers.push(close);
    await expect(health.check()).resolves.toEqual({ status: 'down', store: 'custom' });
  });

  it('is down, not hanging, when the store never answers', async () => {
    const { health, close } = await indicatorFor({
      store: new ScriptedStore(() => new Promise<void>(() => undefined)),
      redis: { commandTimeout: 100 },
    });
    closers.push(close);
    const { value, ms } = await timed(health.check());
    expect(value).toEqual({ status: 'down', store: 'custom' });
    expect(ms).toBeGreaterThanOrEqual(150); // it waited (2 × commandTimeout), then gave up
    expect(ms).toBeLessThan(1000);
  });

  describe('on a real redis-server', () => {
    let redis: RedisProcess;
    let store: TestStore;
    let health: SessionHealthIndicator;
    beforeAll(async () => {
      redis = await startRedis();
      store = await redisTestStore(redis.url);
      const built = await indicatorFor({ store: store.store });
      health = built.health;
      closers.push(async () => {
        await built.close();
        await store.close();
        await redis.stop();
      });
    });

    it('is up while Redis answers, down within the command timeout once it is killed, up again after restart', async () => {
      await expect(health.check()).resolves.toEqual({ status: 'up', store: 'redis', redisClient: 'redis-yet' });
      await redis.kill();
      const down = await timed(health.check());
      expect(down.value).toEqual({ status: 'down', store: 'redis', redisClient: 'redis-yet' });
      expect(down.ms).toBeLessThan(1500);
      await redis.restart();
      const deadline = Date.now() + 10_000;
      let status = (await health.check()).status;
      while (status !== 'up' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        status = (await health.check()).status;
      }
      expect(status).toBe('up');
    });

    it('is down within the command timeout when Redis hangs (SIGSTOP)', async () => {
      process.kill(redis.pid, 'SIGSTOP');
      try {
        const { value, ms } = await timed(health.check());
        expect(value).toEqual({ status: 'down', store: 'redis', redisClient: 'redis-yet' });
        expect(ms).toBeLessThan(1500);
      } finally {
        process.kill(redis.pid, 'SIGCONT');
      }
    });
  });
});
