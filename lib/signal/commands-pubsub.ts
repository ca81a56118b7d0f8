import type { RedisCommands, RedisSubscription } from '../redis/redis-commands.js';
import type { SignalPubSub } from './signal-pubsub.interface.js';

/**
 * The signal's pub/sub over the client-neutral `RedisCommands` (used for ioredis). The client
 * re-subscribes by itself after a reconnect and reports the drop through `onStatus`; the signal's
 * self-heartbeat covers whatever the client does not report.
 */
export class CommandsPubSub implements SignalPubSub {
  private subscription: RedisSubscription | undefined;

  constructor(private readonly commands: RedisCommands) {}

  async publish(channel: string, message: string): Promise<void> {
    await this.commands.publish(channel, message);
  }

  async subscribe(
    channel: string,
    onMessage: (message: string) => void,
    onStatus: (up: boolean) => void,
  ): Promise<void> {
    this.subscription = await this.commands.subscribe(channel, onMessage, onStatus);
  }

  async close(): Promise<void> {
    await this.subscription?.close();
    this.subscription = undefined;
  }
}
