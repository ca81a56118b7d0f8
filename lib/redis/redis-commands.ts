import type { LuaScript } from '../repository/redis-scripts.js';

/** Which client library a Redis repository talks through (reported by `GET /health` in the sample). */
export type RedisClientKind = 'redis-yet' | 'node-redis' | 'ioredis';

/** One master of the deployment (the only node, on a single Redis). */
export interface RedisNodeCommands {
  /** One SCAN step: `cursor` '0' starts, a returned '0' ends; `type` '' matches every type. */
  scan(cursor: string, match: string, count: number, type: string): Promise<{ cursor: string; keys: string[] }>;
  ping(): Promise<unknown>;
}

/** A live subscription on a connection of its own; `close()` ends that connection. */
export interface RedisSubscription {
  close(): Promise<void>;
}

/**
 * The Redis commands the module needs, the same for every client it accepts (node-redis 4 through
 * a cache-manager-redis-yet store, node-redis of the current major, ioredis; single node or
 * cluster). Every difference between the clients lives behind this interface, in `lib/redis/`.
 *
 * Guarantees each implementation keeps:
 * - `evalScript` is one round trip once the script is cached (EVALSHA, EVAL only after
 *   NOSCRIPT), sent to the node that owns `keys[0]`'s slot (every key of a call shares a hash tag).
 * - Nothing here bounds time: the caller does (`RedisSessionRepository` cuts every call off at
 *   `redis.commandTimeout` and caps the calls in flight).
 * - The client as given is never closed; only connections made here (`subscribe`) are.
 * - An `error` listener is on the client, so a lost connection never crashes the process.
 *
 * Pub/sub: on a cluster, `publish` is SPUBLISH and `subscribe` SSUBSCRIBE (sharded: a message
 * travels only within the channel's shard). `subscribe` duplicates the client's connection,
 * because a connection in subscriber mode takes no other commands; the client library
 * re-subscribes on its own after a reconnect, and messages published meanwhile are lost (pub/sub
 * has no history), so a user of it must treat a lost connection as "may have missed messages".
 */
export interface RedisCommands {
  readonly kind: RedisClientKind;
  readonly cluster: boolean;
  /** The client as handed over (a cache-manager-redis-yet store's client for `redis-yet`). */
  readonly client: unknown;
  /** False while the client knows it is disconnected: callers fail at once instead of queueing. */
  isReady(): boolean;
  /** EVALSHA `script` (EVAL on NOSCRIPT) with `keys` and `args`, routed by `keys[0]`; the raw reply. */
  evalScript(script: LuaScript, keys: string[], args: string[]): Promise<unknown>;
  /**
   * MGET `keys` (one slot) on the node that owns it — never a replica, whose copy may not have a
   * revocation yet. Absent when the client could send reads to replicas (ioredis `scaleReads`):
   * the repository then validates with its script, as before issue 16.
   */
  mget?(keys: string[]): Promise<unknown[]>;
  /** Every master: the client itself on a single node. */
  masters(): Promise<RedisNodeCommands[]>;
  /** PUBLISH (SPUBLISH on a cluster); resolves to the number of receivers Redis reports. */
  publish(channel: string, message: string): Promise<number>;
  /**
   * SUBSCRIBE (SSUBSCRIBE on a cluster) on a duplicated connection. `onStatus(false)` when that
   * connection drops (messages may be missed), `onStatus(true)` when it is subscribed again, where
   * the client reports it.
   */
  subscribe(
    channel: string,
    onMessage: (message: string) => void,
    onStatus?: (up: boolean) => void,
  ): Promise<RedisSubscription>;
}

/** Node-redis and ioredis both start a NOSCRIPT reply's message with the error code. */
export function isNoScript(err: unknown): boolean {
  return String((err as Error | undefined)?.message).startsWith('NOSCRIPT');
}

/** A client without an `error` listener would crash the process (node-redis) on a lost connection. */
export function ensureErrorListener(client: unknown): void {
  const emitter = client as { on?: (e: string, f: () => void) => unknown; listenerCount?: (e: string) => number };
  if (typeof emitter.on === 'function' && emitter.listenerCount?.('error') === 0) emitter.on('error', () => undefined);
}
