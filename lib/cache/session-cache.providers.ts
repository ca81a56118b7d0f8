import type { Provider } from '@nestjs/common';
import { SessionRepository } from '../interfaces/session-repository.interface.js';
import type { ResolvedSessionOptions } from '../session-options.js';
import { SessionConfigError } from '../session.errors.js';
import { SESSION_RESOLVED_OPTIONS } from '../session.internal-constants.js';
import { SessionEndedSignal } from '../signal/session-signal.interface.js';
import { SESSION_CACHE_STATS } from './cache-stats.js';
import { SessionValidationCache } from './session-validation-cache.js';

/** The cache when `localCache` is on, else null (then `SessionService` always asks the store). */
export function createValidationCache(
  options: ResolvedSessionOptions,
  repository: SessionRepository,
  signal: SessionEndedSignal,
): SessionValidationCache | null {
  if (!options.localCache) return null;
  // An in-process signal reaches no other replica: a shared custom store would serve revoked sessions.
  if (repository.kind !== 'memory' && signal.kind === 'memory') {
    throw new SessionConfigError(
      `localCache needs the memory store or a Redis store (its changes travel over Redis pub/sub); store "${repository.kind}" has no cross-replica signal`,
    );
  }
  if (typeof signal.publishChanged !== 'function') {
    throw new SessionConfigError('localCache needs a session signal with publishChanged (the built-in ones have it)');
  }
  return new SessionValidationCache(options, repository, signal);
}

/** Starts the cache's subscription and write-behind timer with the app, stops them with it. */
class SessionCacheLifecycle {
  constructor(private readonly cache: SessionValidationCache | null) {}
  onApplicationBootstrap(): void {
    this.cache?.start();
  }
  async onApplicationShutdown(): Promise<void> {
    await this.cache?.close();
  }
}

export const sessionCacheProviders: Provider[] = [
  {
    provide: SessionValidationCache,
    useFactory: createValidationCache,
    inject: [SESSION_RESOLVED_OPTIONS, SessionRepository, SessionEndedSignal],
  },
  // The cache itself is the stats (hits, misses, bypassed, entries); null while `localCache` is off.
  { provide: SESSION_CACHE_STATS, useExisting: SessionValidationCache },
  {
    provide: SessionCacheLifecycle,
    useFactory: (cache: SessionValidationCache | null) => new SessionCacheLifecycle(cache),
    inject: [SessionValidationCache],
  },
];
