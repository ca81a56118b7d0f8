import type { Provider } from '@nestjs/common';
import type { SessionModuleOptions, SessionStoreInput } from './interfaces/session-module-options.interface.js';
import { SessionRepository } from './interfaces/session-repository.interface.js';
import { MemorySessionRepository } from './repository/memory-session.repository.js';
import { RedisSessionRepository } from './repository/redis-session.repository.js';
import { resolveSessionOptions, type ResolvedSessionOptions } from './session-options.js';
import { redisCommandsFor } from './redis/redis-store-input.js';
import { SESSION_MODULE_OPTIONS } from './session.module-definition.js';
import { instrumentRepository } from './metrics/instrumented-repository.js';
import { SESSION_METRICS } from './metrics/metrics.providers.js';
import type { SessionMetrics } from './metrics/session-metrics.js';
import { SYSTEM_CLOCK, type SessionClock } from './session-clock.js';
import { SESSION_CLOCK, SESSION_RESOLVED_OPTIONS, SESSION_ROUTE_PREFIX } from './session.internal-constants.js';

function isRepository(store: SessionStoreInput): store is SessionRepository {
  return (
    typeof (store as SessionRepository).validate === 'function' &&
    typeof (store as SessionRepository).rotate === 'function'
  );
}

/** Builds the repository from `options.store`. A configured Redis never falls back to memory. */
export function createRepository(options: SessionModuleOptions, resolved: ResolvedSessionOptions): SessionRepository {
  const store = options.store;
  if (store === undefined) return new MemorySessionRepository();
  if (isRepository(store)) return store;
  // Throws a SessionConfigError naming what is accepted (and why a Keyv store is not).
  return new RedisSessionRepository(redisCommandsFor(store), {
    keyPrefix: resolved.redis.keyPrefix,
    commandTimeout: resolved.redis.commandTimeout,
    maxPendingCommands: resolved.redis.maxPendingCommands,
    clock: resolved.redis.clock,
    // While the cleanup job runs it prunes indexes: they need no TTL of their own (issue 16 §4).
    indexExpiry: !resolved.cleanup.enabled,
  });
}

export const sessionProviders: Provider[] = [
  // Real time unless a test overrides this provider.
  { provide: SESSION_CLOCK, useValue: SYSTEM_CLOCK },
  {
    provide: SESSION_RESOLVED_OPTIONS,
    useFactory: (options: SessionModuleOptions, prefix: string, clock: SessionClock) =>
      resolveSessionOptions(options ?? {}, prefix, clock),
    inject: [SESSION_MODULE_OPTIONS, SESSION_ROUTE_PREFIX, SESSION_CLOCK],
  },
  {
    provide: SessionRepository,
    // With metrics on, every store call is timed (metrics/instrumented-repository.ts).
    useFactory: (options: SessionModuleOptions, resolved: ResolvedSessionOptions, metrics: SessionMetrics | null) =>
      instrumentRepository(createRepository(options, resolved), metrics),
    inject: [SESSION_MODULE_OPTIONS, SESSION_RESOLVED_OPTIONS, SESSION_METRICS],
  },
];

/**
 * Token of the `SessionModuleOptions` (as given, defaults not applied), for `@Inject()` or
 * `moduleRef.get()`; `@InjectSessionOptions()` does the same. @publicApi
 */
export const getSessionOptionsToken = (): string | symbol => SESSION_MODULE_OPTIONS;
/** Token of the active `SessionRepository`; `@InjectSessionRepository()` does the same. @publicApi */
export const getSessionRepositoryToken = (): symbol => SessionRepository;
