import type { LuaScript } from '../repository/redis-scripts.js';
import {
  ensureErrorListener,
  isNoScript,
  type RedisCommands,
  type RedisNodeCommands,
  type RedisSubscription,
} from './redis-commands.js';

/** The slice of an ioredis `Redis` (one node) used here. */
interface IoNode {
  readonly status: string;
  evalsha(sha: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  eval(script: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  scan(cursor: string, ...args: (string | number)[]): Promise<[string, string[]]>;
  mget(...keys: string[]): Promise<(string | null)[]>;
  ping(): Promise<unknown>;
  publish(channel: string, message: string): Promise<number>;
  duplicate(override?: object): IoSubscriber;
}

/** ...of an ioredis `Cluster`: ioredis routes EVALSHA by its keys. */
interface IoCluster extends Omit<IoNode, 'duplicate' | 'publish'> {
  nodes(role: 'master'): IoNode[];
  spublish(channel: string, message: string): Promise<number>;
  duplicate(startupNodes?: unknown[], override?: object): IoSubscriber;
}

interface IoSubscriber {
  on(event: string, listener: (...args: string[]) => void): unknown;
  connect(): Promise<void>;
  subscribe?(channel: string): Promise<unknown>;
  ssubscribe?(channel: string): Promise<unknown>;
  disconnect(): void;
}

/** Duck test: ioredis clients (single and cluster) carry a `status` string and an `isCluster` flag. */
export function isIoRedis(client: object): boolean {
  const c = client as { status?: unknown; isCluster?: unknown; evalsha?: unknown };
  return typeof c.status === 'string' && typeof c.isCluster === 'boolean' && typeof c.evalsha === 'function';
}

/**
 * ioredis, single node (`Redis`) or cluster (`Cluster`). ioredis routes EVALSHA on a cluster by
 * its first key itself. Its offline queue (on by default) is never fed here: calls are refused
 * while `status` is not `ready`, and the repository bounds the calls in flight.
 */
export class IoRedisCommands implements RedisCommands {
  readonly kind = 'ioredis' as const;
  readonly cluster: boolean;

  constructor(readonly client: object) {
    this.cluster = (client as { isCluster: boolean }).isCluster;
    ensureErrorListener(client);
    // A cluster that reads from replicas would see a revoked session a moment longer: no plain reads then.
    const scaleReads = (client as { options?: { scaleReads?: unknown } }).options?.scaleReads;
    if (this.cluster && scaleReads !== undefined && scaleReads !== 'master') this.mget = undefined;
  }

  mget?: (keys: string[]) => Promise<unknown[]> = (keys) => this.io.mget(...keys);

  private get io(): IoNode | IoCluster {
    return this.client as IoNode | IoCluster;
  }

  isReady(): boolean {
    return this.io.status === 'ready';
  }

  evalScript(script: LuaScript, keys: string[], args: string[]): Promise<unknown> {
    return this.io.evalsha(script.sha, keys.length, ...keys, ...args).catch((err: unknown) => {
      if (isNoScript(err)) return this.io.eval(script.source, keys.length, ...keys, ...args);
      throw err;
    });
  }

  async masters(): Promise<RedisNodeCommands[]> {
    const nodes = this.cluster ? (this.io as IoCluster).nodes('master') : [this.io as IoNode];
    return nodes.map((node) => ({
      scan: async (cursor, match, count, type) => {
        const [next, keys] = await node.scan(cursor, 'MATCH', match, 'COUNT', count, ...(type ? ['TYPE', type] : []));
        return { cursor: String(next), keys };
      },
      ping: () => node.ping(),
    }));
  }

  publish(channel: string, message: string): Promise<number> {
    return this.cluster
      ? (this.io as IoCluster).spublish(channel, message)
      : (this.io as IoNode).publish(channel, message);
  }

  async subscribe(
    channel: string,
    onMessage: (message: string) => void,
    onStatus?: (up: boolean) => void,
  ): Promise<RedisSubscription> {
    // lazyConnect: connect() below resolves once ready, so SUBSCRIBE never meets a disabled offline queue.
    const sub = this.cluster
      ? (this.io as IoCluster).duplicate([], { lazyConnect: true, shardedSubscribers: true })
      : (this.io as IoNode).duplicate({ lazyConnect: true });
    sub.on('error', () => undefined);
    // ioredis re-subscribes by itself on reconnect ('ready' comes after it); a drop in between may lose messages.
    let subscribed = false;
    sub.on('close', () => subscribed && onStatus?.(false));
    sub.on('ready', () => subscribed && onStatus?.(true));
    sub.on(this.cluster ? 'smessage' : 'message', (from, message) => {
      if (from === channel) onMessage(message);
    });
    try {
      await sub.connect();
      if (this.cluster) await sub.ssubscribe!(channel);
      else await sub.subscribe!(channel);
      subscribed = true;
    } catch (err) {
      sub.disconnect();
      throw err;
    }
    return {
      close: async () => {
        sub.disconnect();
      },
    };
  }
}
