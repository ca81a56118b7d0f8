import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { LocalSignalListeners } from './memory-session.signal.js';
import type {
  SessionChangedMessage,
  SessionEndedMessage,
  SessionEndedReason,
  SessionEndedSignal,
  SessionSignalListener,
  SessionSignalMessage,
} from './session-signal.interface.js';
import type { SignalPubSub } from './signal-pubsub.interface.js';

/** How often a subscribed replica checks that its own heartbeat comes back. */
const HEARTBEAT_MS = 2000;

/**
 * On the wire: `o` origin replica, `u` user, `s` session (or null: all), `r` reason; `hb` a
 * heartbeat; `c: 1` a changed session (no `r`, so replicas of earlier versions skip it).
 */
interface WireMessage {
  c?: unknown;
  o?: unknown;
  u?: unknown;
  s?: unknown;
  r?: unknown;
  x?: unknown;
  hb?: unknown;
}

/**
 * The session-ended signal over Redis pub/sub. A publishing replica delivers to its own
 * subscribers at once and to the others over one channel. The subscription is opened by the
 * first subscriber only, so an app without sockets or a cache holds no extra connection.
 *
 * A lost subscription is reported (`lost`, then `restored`), from the client's connection events
 * and from a heartbeat each replica sends itself over the channel: a silent loss (a cluster shard
 * moving, a killed connection) is noticed within two heartbeats.
 */
export class RedisSessionSignal implements SessionEndedSignal {
  readonly kind = 'redis';
  private readonly logger = new Logger('SessionEndedSignal');
  private readonly local = new LocalSignalListeners();
  private readonly origin = randomBytes(8).toString('base64url');
  private subscribing: Promise<void> | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private lastHeartbeatSeen = 0;
  private up = false;
  private closed = false;

  constructor(
    private readonly pubsub: SignalPubSub,
    private readonly channel: string,
    private readonly heartbeatMs = HEARTBEAT_MS,
  ) {}

  get listening(): boolean {
    return this.up && !this.closed;
  }

  async publish(message: Omit<SessionEndedMessage, 'kind'>): Promise<void> {
    this.deliver({ kind: 'ended', ...message });
    const wire = JSON.stringify({
      o: this.origin,
      u: message.userId,
      s: message.sessionId,
      r: message.reason,
      ...(message.except ? { x: message.except } : {}),
    });
    await this.send(wire);
  }

  async publishChanged(message: Omit<SessionChangedMessage, 'kind'>): Promise<void> {
    this.deliver({ kind: 'changed', ...message });
    await this.send(JSON.stringify({ o: this.origin, u: message.userId, s: message.sessionId, c: 1 }));
  }

  private async send(wire: string): Promise<void> {
    try {
      await this.pubsub.publish(this.channel, wire);
    } catch (err) {
      // The store holds the change already; other replicas' sockets find out at their next check,
      // caches within their staleness bound.
      this.logger.warn(`session-ended signal not published: ${(err as Error)?.message ?? String(err)}`);
    }
  }

  async subscribe(listener: SessionSignalListener): Promise<() => void> {
    const remove = this.local.add(listener);
    this.subscribing ??= this.open().catch((err: unknown) => {
      this.subscribing = undefined;
      throw err;
    });
    try {
      await this.subscribing;
    } catch (err) {
      remove();
      throw err;
    }
    return remove;
  }

  /** Closes the subscription (the module calls it at shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.pubsub.close().catch(() => undefined);
  }

  private async open(): Promise<void> {
    await this.pubsub.subscribe(
      this.channel,
      (raw) => this.receive(raw),
      (up) => this.status(up),
    );
    this.up = true;
    this.lastHeartbeatSeen = Date.now();
    this.heartbeat = setInterval(() => this.beat(), this.heartbeatMs);
    this.heartbeat.unref();
  }

  private beat(): void {
    if (this.closed) return;
    if (Date.now() - this.lastHeartbeatSeen > 2 * this.heartbeatMs + 500) this.status(false);
    this.pubsub.publish(this.channel, JSON.stringify({ hb: this.origin })).catch(() => this.status(false));
  }

  private status(up: boolean): void {
    if (this.closed || up === this.up) return;
    this.up = up;
    if (up) this.lastHeartbeatSeen = Date.now();
    this.logger.warn(up ? 'session-ended subscription restored' : 'session-ended subscription lost');
    this.deliver({ kind: up ? 'restored' : 'lost' });
  }

  private receive(raw: string): void {
    let m: WireMessage;
    try {
      m = JSON.parse(raw) as WireMessage;
    } catch {
      return;
    }
    if (m.hb === this.origin) {
      this.lastHeartbeatSeen = Date.now();
      this.status(true);
      return;
    }
    // Our own publications were delivered locally already.
    if (m.o === this.origin || typeof m.u !== 'string') return;
    if (m.c === 1) {
      if (typeof m.s === 'string') this.deliver({ kind: 'changed', userId: m.u, sessionId: m.s });
      return;
    }
    if (typeof m.r !== 'string') return;
    if (m.s !== null && typeof m.s !== 'string') return;
    const except = typeof m.x === 'string' ? { except: m.x } : {};
    this.deliver({ kind: 'ended', userId: m.u, sessionId: m.s, reason: m.r as SessionEndedReason, ...except });
  }

  private deliver(message: SessionSignalMessage): void {
    this.local.deliver(message, (err) =>
      this.logger.error(`a session-ended subscriber failed: ${(err as Error)?.message ?? String(err)}`),
    );
  }
}
