import type {
  SessionChangedMessage,
  SessionEndedMessage,
  SessionEndedSignal,
  SessionSignalListener,
  SessionSignalMessage,
} from './session-signal.interface.js';

/** Subscribers of one process; the base of every signal (local delivery never waits for a network). */
export class LocalSignalListeners {
  private readonly listeners = new Set<SessionSignalListener>();

  get size(): number {
    return this.listeners.size;
  }

  add(listener: SessionSignalListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /** A throwing subscriber must not keep the others from hearing it. */
  deliver(message: SessionSignalMessage, onError: (err: unknown) => void): void {
    for (const l of [...this.listeners]) {
      try {
        l(message);
      } catch (err) {
        onError(err);
      }
    }
  }
}

/**
 * The signal for the memory store: one process, so in-process delivery is all there is.
 * @publicApi
 */
export class MemorySessionSignal implements SessionEndedSignal {
  readonly kind = 'memory';
  private readonly local = new LocalSignalListeners();

  async publish(message: Omit<SessionEndedMessage, 'kind'>): Promise<void> {
    this.local.deliver({ kind: 'ended', ...message }, () => undefined);
  }

  async publishChanged(message: Omit<SessionChangedMessage, 'kind'>): Promise<void> {
    this.local.deliver({ kind: 'changed', ...message }, () => undefined);
  }

  async subscribe(listener: SessionSignalListener): Promise<() => void> {
    return this.local.add(listener);
  }
}
