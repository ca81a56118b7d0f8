/** The Redis clients the `store` option accepts: a cache-manager-redis-yet store's node-redis 4 client, node-redis, ioredis. */

/** Keys and arguments of one EVAL / EVALSHA, as node-redis takes them. */
export interface RedisScriptArgs {
  keys: string[];
  arguments: string[];
}

/**
 * The slice of a node-redis 4 client (single node) the Redis repository uses: `createClient()`, or
 * the `client` of a cache-manager-redis-yet `redisStore` / `redisInsStore`.
 * @publicApi
 */
export interface RedisNodeClient {
  readonly isReady?: boolean;
  evalSha(sha: string, options: RedisScriptArgs): Promise<unknown>;
  eval(script: string, options: RedisScriptArgs): Promise<unknown>;
  scan(
    cursor: number,
    options: { MATCH: string; COUNT: number; TYPE?: string },
  ): Promise<{ cursor: number; keys: string[] }>;
  ping(): Promise<unknown>;
}

/**
 * The slice of a node-redis 4 cluster client the Redis repository uses: `createCluster()`, or the
 * `client` of a cache-manager-redis-yet `redisClusterStore` / `redisClusterInsStore`.
 * @publicApi
 */
export interface RedisClusterClient extends Omit<RedisNodeClient, 'scan' | 'ping'> {
  readonly isOpen?: boolean;
  readonly masters: unknown[];
  nodeClient(node: unknown): RedisNodeClient | Promise<RedisNodeClient>;
  /** Sends a raw command to the node that owns `firstKey`'s slot. */
  sendCommand(firstKey: string | undefined, isReadonly: boolean | undefined, args: string[]): Promise<unknown>;
}

/**
 * A node-redis client handed over directly (`createClient()` from `redis`, major 4 or later;
 * the current major is tested). The module uses `sendCommand`, `isReady` and, for pub/sub,
 * `duplicate()`; it never closes the client.
 * @publicApi
 */
export interface NodeRedisClientLike {
  readonly isOpen: boolean;
  readonly isReady?: boolean;
  sendCommand(...args: never[]): Promise<unknown>;
  duplicate(...args: never[]): unknown;
}

/**
 * A node-redis cluster client handed over directly (`createCluster()` from `redis`, major 4 or later).
 * @publicApi
 */
export interface NodeRedisClusterLike extends NodeRedisClientLike {
  readonly masters: readonly unknown[];
  nodeClient(...args: never[]): unknown;
}

/**
 * An ioredis client: `new Redis()` or `new Cluster()` from `ioredis`. The module uses
 * `evalsha`/`eval`, `status`, `nodes('master')` on a cluster and, for pub/sub, `duplicate()`;
 * it never closes the client.
 * @publicApi
 */
export interface IoRedisLike {
  readonly status: string;
  readonly isCluster: boolean;
  evalsha(...args: never[]): Promise<unknown>;
  duplicate(...args: never[]): unknown;
}

/** A Redis client the `store` option takes as it is (beside a cache-manager-redis-yet store). @publicApi */
export type RedisClientInput = NodeRedisClientLike | NodeRedisClusterLike | IoRedisLike;
