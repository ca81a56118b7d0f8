import { Logger, type LoggerService } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { CleanupResult, SessionRepository } from '../interfaces/session-repository.interface.js';
import { resolveSessionOptions } from '../session-options.js';
import { SESSION_CLEANUP_JOB, SessionCleanupService } from './session-cleanup.service.js';

const SECRET = 'Zq3v9pT1xK8mW2rB7nL4cY6hJ0dF5gS1aE3uI9oP2tR';

/** A promise with its resolve/reject handles, to hold a pass open while the test looks. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Records calls; the lock is a flag, `work` decides how each cleanup pass ends. */
class FakeRepository {
  readonly kind = 'fake';
  locked = false;
  lockGrants = 0;
  releases = 0;
  readonly cleanups: { now: number; batchSize: number; idleTimeoutMs: number }[] = [];
  work: () => Promise<CleanupResult> = async () => ({ scanned: 3, removed: 2 });

  async acquireLock(name: string, ttlMs: number): Promise<(() => Promise<void>) | null> {
    expect(name).toBe('cleanup');
    expect(ttlMs).toBeGreaterThan(0);
    if (this.locked) return null;
    this.locked = true;
    this.lockGrants += 1;
    return async () => {
      this.locked = false;
      this.releases += 1;
    };
  }

  cleanup(now: number, batchSize: number, idleTimeoutMs: number): Promise<CleanupResult> {
    this.cleanups.push({ now, batchSize, idleTimeoutMs });
    return this.work();
  }
}

class CapturingLogger implements LoggerService {
  readonly lines: { level: string; message: string }[] = [];
  log(message: unknown) {
    this.lines.push({ level: 'log', message: String(message) });
  }
  error(message: unknown) {
    this.lines.push({ level: 'error', message: String(message) });
  }
  warn(message: unknown) {
    this.lines.push({ level: 'warn', message: String(message) });
  }
}

const NOW = Date.UTC(2030, 0, 1);

function build(cleanup: { enabled?: boolean; cron?: string; batchSize?: number } = {}, withScheduler = true) {
  const scheduler = withScheduler ? new SchedulerRegistry() : undefined;
  const clock = { now: () => NOW, store: 'server' } as const;
  const options = resolveSessionOptions(
    { secret: SECRET, idleTimeout: 600, accessToken: { ttl: 60 }, cleanup },
    'auth',
    clock,
  );
  const repository = new FakeRepository();
  const service = new SessionCleanupService(options, repository as unknown as SessionRepository, scheduler);
  return { service, repository, scheduler };
}

describe('SessionCleanupService', () => {
  let logger: CapturingLogger;
  beforeEach(() => {
    logger = new CapturingLogger();
    Logger.overrideLogger(logger);
  });
  afterAll(() => Logger.overrideLogger(false));

  describe('run()', () => {
    it('takes the lock, cleans with the clock, batch size and idle timeout, returns the counts and releases the lock', async () => {
      const { service, repository } = build({ batchSize: 250 });
      await expect(service.run()).resolves.toEqual({ scanned: 3, removed: 2 });
      expect(repository.cleanups).toEqual([{ now: NOW, batchSize: 250, idleTimeoutMs: 600_000 }]);
      expect(repository.releases).toBe(1);
      expect(repository.locked).toBe(false);
      const line = logger.lines.find((l) => l.message.includes('session_cleanup'));
      expect(JSON.parse(line!.message)).toMatchObject({ type: 'session_cleanup', scanned: 3, removed: 2 });
    });

    it('returns null and does no work when another holder has the lock', async () => {
      const { service, repository } = build();
      repository.locked = true;
      await expect(service.run()).resolves.toBeNull();
      expect(repository.cleanups).toHaveLength(0);
      expect(repository.releases).toBe(0);
    });

    it('releases the lock when the pass fails, and reports the failure to the caller', async () => {
      const { service, repository } = build();
      repository.work = async () => {
        throw new Error('store down');
      };
      await expect(service.run()).rejects.toThrow('store down');
      expect(repository.releases).toBe(1);
      expect(repository.locked).toBe(false);
    });

    it('of two concurrent calls, exactly one runs', async () => {
      const { service, repository } = build();
      const gate = deferred<CleanupResult>();
      repository.work = () => gate.promise;
      const first = service.run();
      const second = service.run();
      await expect(second).resolves.toBeNull();
      gate.resolve({ scanned: 1, removed: 1 });
      await expect(first).resolves.toEqual({ scanned: 1, removed: 1 });
      expect(repository.cleanups).toHaveLength(1);
    });
  });

  describe('schedule', () => {
    it('registers a started cron job named session-cleanup with the cron expression from the options', async () => {
      const { service, scheduler } = build({ cron: '*/7 * * * * *' });
      service.onApplicationBootstrap();
      const job = scheduler!.getCronJob(SESSION_CLEANUP_JOB);
      expect(SESSION_CLEANUP_JOB).toBe('session-cleanup');
      expect(job.cronTime.source).toBe('*/7 * * * * *');
      expect(job.isActive).toBe(true);
      await service.beforeApplicationShutdown();
    });

    it('registers nothing when cleanup is disabled', () => {
      const { service, scheduler } = build({ enabled: false });
      service.onApplicationBootstrap();
      expect(scheduler!.doesExist('cron', SESSION_CLEANUP_JOB)).toBe(false);
      expect(scheduler!.getCronJobs().size).toBe(0);
    });

    it('warns and stays callable by hand when ScheduleModule is not imported', async () => {
      const { service, repository } = build({}, false);
      service.onApplicationBootstrap();
      expect(logger.lines.some((l) => l.level === 'warn' && l.message.includes('ScheduleModule.forRoot()'))).toBe(true);
      await expect(service.run()).resolves.toEqual({ scanned: 3, removed: 2 });
      expect(repository.cleanups).toHaveLength(1);
      await service.beforeApplicationShutdown(); // nothing to stop: must not throw
    });

    it('a tick that fires while a pass is still running is skipped', async () => {
      const { service, repository, scheduler } = build();
      service.onApplicationBootstrap();
      const job = scheduler!.getCronJob(SESSION_CLEANUP_JOB);
      const gate = deferred<CleanupResult>();
      repository.work = () => gate.promise;
      await job.fireOnTick();
      await job.fireOnTick();
      await job.fireOnTick();
      expect(repository.lockGrants).toBe(1);
      expect(repository.cleanups).toHaveLength(1);
      gate.resolve({ scanned: 0, removed: 0 });
      await service.beforeApplicationShutdown(); // waits for the pass
      expect(repository.releases).toBe(1);
    });

    it('a failing tick is logged, not thrown, and the next tick runs again', async () => {
      const { service, repository, scheduler } = build();
      service.onApplicationBootstrap();
      const job = scheduler!.getCronJob(SESSION_CLEANUP_JOB);
      repository.work = async () => {
        throw new Error('boom');
      };
      await job.fireOnTick();
      // the pass is async: wait until its failure is logged
      for (let i = 0; i < 100 && !logger.lines.some((l) => l.level === 'error'); i++)
        await new Promise((r) => setImmediate(r));
      expect(logger.lines.filter((l) => l.level === 'error').map((l) => l.message)).toEqual(['cleanup failed: boom']);
      repository.work = async () => ({ scanned: 5, removed: 4 });
      await job.fireOnTick();
      await service.beforeApplicationShutdown();
      expect(repository.cleanups).toHaveLength(2);
      expect(repository.releases).toBe(2);
    });

    it('shutdown stops and unregisters the job, and waits for the pass in flight', async () => {
      const { service, repository, scheduler } = build();
      service.onApplicationBootstrap();
      const job = scheduler!.getCronJob(SESSION_CLEANUP_JOB);
      const gate = deferred<CleanupResult>();
      repository.work = () => gate.promise;
      await job.fireOnTick();

      let closed = false;
      const shutdown = service.beforeApplicationShutdown().then(() => (closed = true));
      await new Promise((r) => setImmediate(r));
      expect(closed).toBe(false); // still waiting for the pass
      expect(job.isActive).toBe(false);
      expect(scheduler!.doesExist('cron', SESSION_CLEANUP_JOB)).toBe(false);

      gate.resolve({ scanned: 0, removed: 0 });
      await shutdown;
      expect(closed).toBe(true);
      expect(repository.releases).toBe(1);
    });
  });
});
