/**
 * The pub/sub a Redis signal needs, kept this small so that another client library (node-redis 5,
 * ioredis) only needs another implementation of it.
 */
export interface SignalPubSub {
  /** Sharded on a cluster (SPUBLISH), plain PUBLISH on a single node. */
  publish(channel: string, message: string): Promise<void>;
  /**
   * Subscribes on a connection of its own (a subscribed connection cannot run commands).
   * `onStatus(false)` when that connection drops, `onStatus(true)` when it is subscribed again.
   */
  subscribe(channel: string, onMessage: (message: string) => void, onStatus: (up: boolean) => void): Promise<void>;
  /** Closes the subscribing connection (never the client it was duplicated from). */
  close(): Promise<void>;
}
