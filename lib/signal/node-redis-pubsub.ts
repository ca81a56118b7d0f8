import type { SignalPubSub } from './signal-pubsub.interface.js';

type Listener = (message: string, channel: string) => void;

/** The node-redis 4 calls used for pub/sub (a cache-manager-redis-yet store's `client`). */
interface NodeRedisPubSubClient {
  duplicate(): NodeRedisPubSubClient;
  connect(): Promise<unknown>;
  disconnect?(): Promise<unknown>;
  quit?(): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  readonly isOpen?: boolean;
  publish?(channel: string, message: string): Promise<unknown>;
  subscribe?(channel: string, listener: Listener): Promise<unknown>;
  sPublish?(channel: string, message: string): Promise<unknown>;
  sSubscribe?(channel: string, listener: Listener): Promise<unknown>;
}

/**
 * Pub/sub over a node-redis 4 client: PUBLISH/SUBSCRIBE on a single node, SPUBLISH/SSUBSCRIBE on
 * a cluster (a sharded channel lives on one shard, so a message is not broadcast to every node).
 * Subscribes on a duplicate of the client, which node-redis re-subscribes after a reconnect.
 */
export class NodeRedisPubSub implements SignalPubSub {
  private subscriber: NodeRedisPubSubClient | undefined;

  constructor(
    private readonly client: unknown,
    private readonly cluster: boolean,
  ) {}

  private get redis(): NodeRedisPubSubClient {
    return this.client as NodeRedisPubSubClient;
  }

  async publish(channel: string, message: string): Promise<void> {
    if (this.cluster) await this.redis.sPublish!(channel, message);
    else await this.redis.publish!(channel, message);
  }

  async subscribe(
    channel: string,
    onMessage: (message: string) => void,
    onStatus: (up: boolean) => void,
  ): Promise<void> {
    const sub = this.redis.duplicate();
    this.subscriber = sub;
    // Errors surface as a lost subscription; node-redis keeps reconnecting on its own.
    sub.on('error', () => onStatus(false));
    sub.on('end', () => onStatus(false));
    sub.on('reconnecting', () => onStatus(false));
    if (!this.cluster) sub.on('ready', () => onStatus(true));
    await sub.connect();
    const listener: Listener = (message) => onMessage(message);
    if (this.cluster) await sub.sSubscribe!(channel, listener);
    else await sub.subscribe!(channel, listener);
  }

  async close(): Promise<void> {
    const sub = this.subscriber;
    this.subscriber = undefined;
    if (!sub || sub.isOpen === false) return;
    await (sub.disconnect?.() ?? sub.quit?.());
  }
}
