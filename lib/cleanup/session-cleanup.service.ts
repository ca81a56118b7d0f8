import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  Optional,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import type { CleanupResult } from '../interfaces/session-repository.interface.js';
import { SessionRepository } from '../interfaces/session-repository.interface.js';
import type { ResolvedSessionOptions } from '../session-options.js';
import { SESSION_RESOLVED_OPTIONS } from '../session.internal-constants.js';

/** Name of the cron job in `SchedulerRegistry`. */
export const SESSION_CLEANUP_JOB = 'session-cleanup';
/** Short: the repository renews it while the pass runs, so a dead or stalled holder blocks others for 15 s at most. */
export const CLEANUP_LOCK_TTL_MS = 15_000;

/**
 * Prunes expired sessions and index entries. Scheduled from options through `SchedulerRegistry`
 * (needs `ScheduleModule.forRoot()` in the app); a store lock lets one replica run each tick.
 * @publicApi
 */
@Injectable()
export class SessionCleanupService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('SessionCleanup');
  private job: CronJob | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    @Inject(SESSION_RESOLVED_OPTIONS) private readonly options: ResolvedSessionOptions,
    @Inject(SessionRepository) private readonly repository: SessionRepository,
    @Optional() private readonly scheduler?: SchedulerRegistry,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.options.cleanup.enabled) return;
    if (!this.scheduler) {
      this.logger.warn('ScheduleModule.forRoot() is not imported: session cleanup is not scheduled');
      return;
    }
    this.job = CronJob.from({
      cronTime: this.options.cleanup.cron,
      onTick: () => {
        if (this.running) return;
        this.running = this.run()
          .catch((err: Error) => this.logger.error(`cleanup failed: ${err.message}`))
          .finally(() => (this.running = undefined));
      },
    });
    this.scheduler.addCronJob(SESSION_CLEANUP_JOB, this.job);
    this.job.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.job) {
      await this.job.stop();
      this.scheduler?.deleteCronJob(SESSION_CLEANUP_JOB);
      this.job = undefined;
    }
    await this.running;
  }

  /**
   * Runs one cleanup pass now. Returns the counts, or `null` when another replica holds the lock.
   */
  async run(): Promise<CleanupResult | null> {
    const release = await this.repository.acquireLock('cleanup', CLEANUP_LOCK_TTL_MS);
    if (!release) return null;
    const started = Date.now();
    // Renewed while this pass runs, so the lock lives exactly as long as the pass (plus one ttl if we die).
    const renewal = release.renew
      ? setInterval(() => void release.renew!().catch(() => false), CLEANUP_LOCK_TTL_MS / 3)
      : undefined;
    renewal?.unref();
    try {
      const result = await this.repository.cleanup(
        this.options.clock(),
        this.options.cleanup.batchSize,
        this.options.idleTimeoutMs,
      );
      this.logger.log(JSON.stringify({ type: 'session_cleanup', ...result, ms: Date.now() - started }));
      return result;
    } finally {
      clearInterval(renewal);
      await release();
    }
  }
}
