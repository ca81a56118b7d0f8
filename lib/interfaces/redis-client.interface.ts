/** The Redis clients the `store` option accepts (through a cache-manager-redis-yet store). */

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
