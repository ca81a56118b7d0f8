import type { SessionRevokeReason } from '../interfaces/session-event.interface.js';

/** Why a session ended, as the signal tells it. */
export type SessionEndedReason = SessionRevokeReason | 'evicted' | 'expired';

/**
 * One session (or, with `sessionId: null`, every session of the user) has ended. Carries the raw
 * session id: it never leaves the process except over the store's own connection, and is never logged.
 * @publicApi
 */
export interface SessionEndedMessage {
  kind: 'ended';
  userId: string;
  /** `null`: every session of the user. */
  sessionId: string | null;
  /** With `sessionId: null`: every session of the user but this one (log out other devices). */
  except?: string;
  reason: SessionEndedReason;
}

/**
 * One session lives on but validates differently now (re-authentication, refresh rotation, device
 * binding): validation caches drop it; sockets ignore it.
 * @publicApi
 */
export interface SessionChangedMessage {
  kind: 'changed';
  userId: string;
  sessionId: string;
}

/**
 * What a subscriber hears: ended and changed sessions, and the health of the subscription itself.
 * After `lost`, messages may have been missed until `restored`: a subscriber re-checks what it
 * holds (sockets re-validate their sessions, a cache flushes). Ignore kinds you do not know.
 * @publicApi
 */
export type SessionSignalMessage =
  SessionEndedMessage | SessionChangedMessage | { kind: 'lost' } | { kind: 'restored' };

/** @publicApi */
export type SessionSignalListener = (message: SessionSignalMessage) => void;

/**
 * The session-ended signal across replicas: `SessionService` publishes whenever it ends a session
 * (logout, logout-all, revoke, theft); every replica's subscribers hear it. In memory for the
 * memory store; Redis pub/sub (sharded on a cluster) for Redis.
 * @publicApi
 */
export interface SessionEndedSignal {
  /** `memory` or `redis`. */
  readonly kind: string;
  /** False while the subscription is down (between `lost` and `restored`). */
  readonly listening?: boolean;
  /** Delivers to local subscribers at once and to other replicas; never throws (failures are logged). */
  publish(message: Omit<SessionEndedMessage, 'kind'>): Promise<void>;
  /**
   * Like `publish`, for a session that lives on but changed. Optional so that signals written
   * before it still compile; the local validation cache needs it (the built-in signals have it).
   */
  publishChanged?(message: Omit<SessionChangedMessage, 'kind'>): Promise<void>;
  /** Starts listening (the first subscriber opens the subscription); resolves to an unsubscribe function. */
  subscribe(listener: SessionSignalListener): Promise<() => void>;
}

/** Injection token of the active signal. @publicApi */
export const SessionEndedSignal = Symbol('SessionEndedSignal');
