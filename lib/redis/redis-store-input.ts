import { SessionConfigError } from '../session.errors.js';
import { IoRedisCommands, isIoRedis } from './ioredis.commands.js';
import { isNodeRedisClient, isNodeRedisCluster, NodeRedisCommands } from './node-redis.commands.js';
import type { RedisCommands } from './redis-commands.js';

const ACCEPTED =
  'a cache-manager-redis-yet store (redisStore, redisInsStore, redisClusterStore, redisClusterInsStore), ' +
  'a node-redis client or cluster (createClient / createCluster), an ioredis Redis or Cluster, or a SessionRepository';

/**
 * Keyv (and cache-manager 6+, built on it, and a bare `@keyv/redis` store) turns Redis errors into
 * empty answers: an outage would read as "no session" and log everyone out instead of answering 503.
 */
function isKeyvLike(store: object): boolean {
  const s = store as Record<string, unknown>;
  const keyvShape = (o: Record<string, unknown>) =>
    typeof o.get === 'function' &&
    typeof o.set === 'function' &&
    typeof o.delete === 'function' &&
    'opts' in o &&
    'iterator' in o;
  return (
    keyvShape(s) ||
    (Array.isArray(s.stores) && s.stores.some((x) => typeof x === 'object' && x !== null && keyvShape(x as never)))
  );
}

/** True when `store` is a Redis client or store this module can talk to (not a repository, not Keyv). */
export function isRedisInput(store: unknown): store is object {
  if (typeof store !== 'object' || store === null || isKeyvLike(store)) return false;
  return isRedisYetStore(store) || isIoRedis(store) || isNodeRedisCluster(store) || isNodeRedisClient(store);
}

/** A cache-manager-redis-yet store: a `name` and the node-redis `client` it wraps. */
function isRedisYetStore(store: object): store is { name: string; client: object } {
  const s = store as { name?: unknown; client?: unknown };
  return typeof s.name === 'string' && typeof s.client === 'object' && s.client !== null;
}

/**
 * The `RedisCommands` for whatever the `store` option holds; a clear `SessionConfigError` for
 * anything else, a Keyv store in particular.
 */
export function redisCommandsFor(store: unknown): RedisCommands {
  if (typeof store !== 'object' || store === null) throw new SessionConfigError(`\`store\` must be ${ACCEPTED}`);
  if (isKeyvLike(store)) {
    throw new SessionConfigError(
      '`store` is a Keyv store (or a cache-manager built on Keyv): it turns Redis errors into empty answers, so an outage ' +
        `would log users out instead of answering 503. Pass its Redis client instead: ${ACCEPTED}`,
    );
  }
  if (isRedisYetStore(store)) {
    if (isIoRedis(store.client)) return new IoRedisCommands(store.client);
    if (isNodeRedisCluster(store.client) || isNodeRedisClient(store.client))
      return new NodeRedisCommands(store.client, 'redis-yet');
  }
  if (isIoRedis(store)) return new IoRedisCommands(store);
  if (isNodeRedisCluster(store) || isNodeRedisClient(store)) return new NodeRedisCommands(store, 'node-redis');
  throw new SessionConfigError(`\`store\` must be ${ACCEPTED}`);
}
