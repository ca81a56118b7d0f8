import type { SessionRecord, ValidatedSession } from './session-record.interface.js';

/** Everything the repository stores for a new session. Times are epoch ms. */
export interface NewSession {
  id: string;
  userId: string;
  roles: string[];
  userAgent: string;
  ip: string;
  data: Record<string, unknown> | undefined;
  now: number;
  idleTimeoutMs: number;
  absoluteExpiresAt: number;
  /** Hash of refresh token generation 0. */
  refreshHash: string;
  /** `iat` (seconds) of refresh token generation 0. */
  refreshIssuedAt: number;
}

/** Validation outcome: the session, or why there is none. */
export type ValidateResult =
  | { status: 'ok'; session: ValidatedSession }
  | { status: 'missing' }
  | { status: 'expired' };

/** One refresh attempt, as the rotation script sees it. */
export interface RotateRequest {
  now: number;
  idleTimeoutMs: number;
  graceMs: number;
  presentedGeneration: number;
  presentedHash: string;
  /** Hash and `iat` of the successor (generation + 1), computed before the round trip. */
  nextHash: string;
  nextIssuedAt: number;
}

/**
 * Rotation outcome. `rotated`: the presented token was current, its successor is now current.
 * `raced`: the presented token was rotated out inside the grace window; the caller re-creates
 * the current successor from `generation` + `issuedAt`. `reused`: theft, the session is gone.
 */
export type RotateResult =
  | {
      status: 'rotated' | 'raced';
      generation: number;
      issuedAt: number;
      absoluteExpiresAt: number;
      roles: string[];
    }
  | { status: 'reused' }
  | { status: 'invalid' }
  | { status: 'missing' }
  | { status: 'expired' };

/** Counts from one cleanup pass. */
export interface CleanupResult {
  /** Index keys (Redis) or users (memory) examined. */
  scanned: number;
  /** Expired index entries and sessions removed. */
  removed: number;
}

/**
 * Storage for sessions. Every method is one atomic step (one round trip on Redis).
 * @publicApi
 */
export interface SessionRepository {
  /** `memory`, `redis` or `redis-cluster`: what `/health` reports. */
  readonly kind: string;
  create(session: NewSession): Promise<void>;
  /**
   * Checks the session and slides its idle deadline when the last touch is older than `touchIntervalMs`.
   * A store may then also drop what only the refresh grace window needs once `graceMs` is long past.
   */
  validate(
    userId: string,
    sessionId: string,
    now: number,
    idleTimeoutMs: number,
    touchIntervalMs: number,
    graceMs?: number,
  ): Promise<ValidateResult>;
  rotate(userId: string, sessionId: string, request: RotateRequest): Promise<RotateResult>;
  /** True when the session existed. */
  revoke(userId: string, sessionId: string): Promise<boolean>;
  /** Number of sessions revoked. */
  revokeAll(userId: string): Promise<number>;
  list(userId: string, now: number, idleTimeoutMs: number): Promise<SessionRecord[]>;
  /** Prunes expired entries in bounded batches. */
  cleanup(now: number, batchSize: number, idleTimeoutMs: number): Promise<CleanupResult>;
  /** Rejects when the store cannot serve. */
  ping(): Promise<void>;
  /** Takes a short lock so one replica runs a cleanup tick; returns a release function or null. */
  acquireLock(name: string, ttlMs: number): Promise<(() => Promise<void>) | null>;
}

/** Injection token of the active repository. */
export const SessionRepository = Symbol('SessionRepository');
