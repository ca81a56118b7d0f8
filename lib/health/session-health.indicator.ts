import { Inject, Injectable } from '@nestjs/common';
import { SessionRepository } from '../interfaces/session-repository.interface.js';
import type { RedisClientKind } from '../redis/redis-commands.js';
import { RedisSessionRepository } from '../repository/redis-session.repository.js';
import type { ResolvedSessionOptions } from '../session-options.js';
import { SESSION_RESOLVED_OPTIONS } from '../session.internal-constants.js';
import { SessionService } from '../session.service.js';

/** Store health, in the shape `@nestjs/terminus` indicators return. */
export interface SessionHealth {
  status: 'up' | 'down';
  store: string;
  /** With the Redis repository: which client carries it (`redis-yet`, `node-redis`, `ioredis`). */
  redisClient?: RedisClientKind;
}

/**
 * Reports whether the session store answers. Use it from a health route, or wrap it in a
 * `@nestjs/terminus` `HealthIndicatorService` check. Never hangs: a store that does not answer
 * within twice `redis.commandTimeout` is reported down (probes have short deadlines too).
 * @publicApi
 */
@Injectable()
export class SessionHealthIndicator {
  constructor(
    private readonly sessions: SessionService,
    @Inject(SESSION_RESOLVED_OPTIONS) private readonly options: ResolvedSessionOptions,
    @Inject(SessionRepository) repository: SessionRepository,
  ) {
    if (repository instanceof RedisSessionRepository) this.redisClient = repository.clientKind;
  }

  private readonly redisClient: RedisClientKind | undefined;

  async check(): Promise<SessionHealth> {
    const store = this.sessions.storeKind;
    const client = this.redisClient ? { redisClient: this.redisClient } : {};
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), 2 * this.options.redis.commandTimeout);
    });
    try {
      // A custom repository may not bound its own ping; the Redis one answers well before this.
      const outcome = await Promise.race([this.sessions.ping().then(() => 'up' as const), deadline]);
      return { status: outcome === 'up' ? 'up' : 'down', store, ...client };
    } catch {
      return { status: 'down', store, ...client };
    } finally {
      clearTimeout(timer);
    }
  }
}
