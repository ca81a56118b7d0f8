import type { Provider } from '@nestjs/common';
import type { SessionModuleOptions } from '../interfaces/session-module-options.interface.js';
import type { ResolvedSessionOptions } from '../session-options.js';
import { SESSION_RESOLVED_OPTIONS } from '../session.internal-constants.js';
import { SESSION_MODULE_OPTIONS } from '../session.module-definition.js';
import { MemorySessionSignal } from './memory-session.signal.js';
import { isRedisInput, redisCommandsFor } from '../redis/redis-store-input.js';
import { CommandsPubSub } from './commands-pubsub.js';
import { NodeRedisPubSub } from './node-redis-pubsub.js';
import { RedisSessionSignal } from './redis-session.signal.js';
import { SessionEndedSignal } from './session-signal.interface.js';

/**
 * Redis when the store is Redis (a cache-manager-redis-yet store or a node-redis client of any major
 * through node-redis's pub/sub; ioredis through `RedisCommands`); in-process otherwise (memory or a
 * custom repository).
 */
export function createSessionSignal(
  options: SessionModuleOptions,
  resolved: ResolvedSessionOptions,
): SessionEndedSignal {
  const store = options?.store;
  if (store && typeof store === 'object' && 'client' in store && store.client) {
    const cluster = (store as { name?: string }).name === 'redis-cluster';
    return new RedisSessionSignal(
      new NodeRedisPubSub(store.client, cluster),
      `${resolved.redis.keyPrefix}session-ended`,
    );
  }
  if (isRedisInput(store)) {
    return new RedisSessionSignal(
      new CommandsPubSub(redisCommandsFor(store)),
      `${resolved.redis.keyPrefix}session-ended`,
    );
  }
  return new MemorySessionSignal();
}

/** The signal closes its subscription with the app. */
class SignalLifecycle {
  constructor(private readonly signal: SessionEndedSignal) {}
  async onApplicationShutdown(): Promise<void> {
    if (this.signal instanceof RedisSessionSignal) await this.signal.close();
  }
}

export const sessionSignalProviders: Provider[] = [
  {
    provide: SessionEndedSignal,
    useFactory: createSessionSignal,
    inject: [SESSION_MODULE_OPTIONS, SESSION_RESOLVED_OPTIONS],
  },
  {
    provide: SignalLifecycle,
    useFactory: (s: SessionEndedSignal) => new SignalLifecycle(s),
    inject: [SessionEndedSignal],
  },
];
