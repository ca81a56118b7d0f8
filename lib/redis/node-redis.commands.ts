import type { LuaScript } from '../repository/redis-scripts.js';
import {
  ensureErrorListener,
  isNoScript,
  type RedisClientKind,
  type RedisCommands,
  type RedisNodeCommands,
  type RedisSubscription,
} from './redis-commands.js';

/** What node-redis 4 and later have in common on a single-node client. */
interface NodeClient {
  readonly isOpen: boolean;
  readonly isReady?: boolean;
  sendCommand(args: string[]): Promise<unknown>;
  duplicate(): SubscriberClient;
}

/** ...and on a cluster client: raw commands are routed by their first key. */
interface NodeCluster {
  readonly isOpen: boolean;
  readonly masters: readonly unknown[];
  nodeClient(master: unknown): NodeClient | Promise<NodeClient>;
  sendCommand(firstKey: string | undefined, isReadonly: boolean | undefined, args: string[]): Promise<unknown>;
  duplicate(): SubscriberClient;
}

interface SubscriberClient {
  on(event: 'error', listener: () => void): unknown;
  connect(): Promise<unknown>;
  subscribe?(channel: string, listener: (message: string) => void): Promise<void>;
  sSubscribe?(channel: string, listener: (message: string) => void): Promise<void>;
  /** Major 5 on. */
  destroy?(): void;
  /** Major 4 (deprecated later). */
  disconnect?(): Promise<void>;
}

/** Duck test: node-redis clusters expose their masters and hand out per-node clients. */
export function isNodeRedisCluster(client: object): boolean {
  return Array.isArray((client as NodeCluster).masters) && typeof (client as NodeCluster).nodeClient === 'function';
}

/** Duck test for a single-node node-redis client (any major from 4): not ioredis, which has `status`. */
export function isNodeRedisClient(client: object): boolean {
  const c = client as NodeClient & { status?: unknown };
  return typeof c.sendCommand === 'function' && typeof c.isOpen === 'boolean' && c.status === undefined;
}

function scanPage(reply: unknown): { cursor: string; keys: string[] } {
  const [cursor, keys] = reply as [string, string[]];
  return { cursor: String(cursor), keys };
}

/**
 * node-redis, major 4 (cache-manager-redis-yet's client) and later, single node or cluster. Raw
 * `sendCommand` keeps one code path across majors, whose typed helpers differ (`evalSha` options,
 * SCAN's cursor type); a cluster call names its first key so node-redis routes it to that slot.
 */
export class NodeRedisCommands implements RedisCommands {
  readonly cluster: boolean;

  constructor(
    readonly client: object,
    readonly kind: Extract<RedisClientKind, 'redis-yet' | 'node-redis'>,
  ) {
    this.cluster = isNodeRedisCluster(client);
    ensureErrorListener(client);
  }

  isReady(): boolean {
    // A cluster client stays open while one of its nodes reconnects; that node's calls fail or time out.
    const c = this.client as { isReady?: boolean; isOpen?: boolean };
    return this.cluster ? c.isOpen !== false : c.isReady !== false;
  }

  private send(firstKey: string, args: string[]): Promise<unknown> {
    return this.cluster
      ? (this.client as NodeCluster).sendCommand(firstKey, false, args)
      : (this.client as NodeClient).sendCommand(args);
  }

  evalScript(script: LuaScript, keys: string[], args: string[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    return this.send(keys[0], ['EVALSHA', script.sha, ...tail]).catch((err: unknown) => {
      if (isNoScript(err)) return this.send(keys[0], ['EVAL', script.source, ...tail]);
      throw err;
    });
  }

  /** Sent as a write (`isReadonly` false) so a cluster client never routes it to a replica. */
  async mget(keys: string[]): Promise<unknown[]> {
    return (await this.send(keys[0], ['MGET', ...keys])) as unknown[];
  }

  async masters(): Promise<RedisNodeCommands[]> {
    const nodes = this.cluster
      ? await Promise.all(
          (this.client as NodeCluster).masters.map((m) => Promise.resolve((this.client as NodeCluster).nodeClient(m))),
        )
      : [this.client as NodeClient];
    return nodes.map((node) => ({
      scan: async (cursor, match, count, type) =>
        scanPage(
          await node.sendCommand([
            'SCAN',
            cursor,
            'MATCH',
            match,
            'COUNT',
            String(count),
            ...(type ? ['TYPE', type] : []),
          ]),
        ),
      ping: () => node.sendCommand(['PING']),
    }));
  }

  async publish(channel: string, message: string): Promise<number> {
    return Number(await this.send(channel, [this.cluster ? 'SPUBLISH' : 'PUBLISH', channel, message]));
  }

  async subscribe(channel: string, onMessage: (message: string) => void): Promise<RedisSubscription> {
    const sub = (this.client as NodeClient | NodeCluster).duplicate();
    sub.on('error', () => undefined);
    const close = async () => {
      if (typeof sub.destroy === 'function') sub.destroy();
      else await sub.disconnect?.().catch(() => undefined);
    };
    try {
      await sub.connect();
      if (this.cluster) await sub.sSubscribe!(channel, onMessage);
      else await sub.subscribe!(channel, onMessage);
    } catch (err) {
      await close();
      throw err;
    }
    return { close };
  }
}
