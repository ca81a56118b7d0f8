import type { DeviceBindingStore } from '../dbsc/device-binding.interface.js';
import type { SessionRecord, ValidatedSession } from './session-record.interface.js';

/**
 * Everything the repository keeps for a new session. Times are epoch ms. A repository whose store
 * has its own clock (Redis) places the session at that time and keeps `absoluteExpiresAt - now` as the lifetime.
 */
export interface NewSession {
  id: string;
  userId: string;
  roles: string[];
  userAgent: string;
  ip: string;
  /** Readable device label from the whole User-Agent (`Chrome 131 on macOS`), at most 64 bytes. */
  device: string;
  data: Record<string, unknown> | undefined;
  now: number;
  idleTimeoutMs: number;
  absoluteExpiresAt: number;
  /** Hash of refresh token generation 0. */
  refreshHash: string;
  /** `iat` (seconds) of refresh token generation 0. */
  refreshIssuedAt: number;
  /** Per-user session cap, counting this one; absent: no cap. */
  maxSessions?: number;
  /** At the cap: end the least recently used sessions (default), or refuse this one. */
  capPolicy?: SessionCapPolicy;
  /** User id (≤ 64 bytes) of the actor of an impersonation session. */
  impersonator?: string;
}

/** What a login beyond the per-user cap does. */
export type SessionCapPolicy = 'evict-oldest' | 'refuse';

/** Create outcome: the ids of sessions evicted to make room, or a refusal at the cap (nothing written). */
export type CreateResult = { status: 'created'; evicted: string[] } | { status: 'refused' };

/** Ending a user's other sessions (`revokeOthers`). */
export interface RevokeOthersRequest {
  now: number;
  idleTimeoutMs: number;
  /**
   * Credential change: also record a per-user "not before" time (now) that kills any session
   * authenticated earlier, kept `notBeforeTtlMs`; the kept session counts as authenticated now.
   */
  notBefore?: { ttlMs: number };
}

/** Validation outcome: the session, or why there is none. */
export type ValidateResult =
  | { status: 'ok'; session: ValidatedSession }
  | { status: 'missing' }
  /** `impersonator`: the actor of an impersonation session, for the audit event. */
  | { status: 'expired'; impersonator?: string };

/** One validation of an access token's session, as the validation script sees it. */
export interface ValidateRequest {
  now: number;
  idleTimeoutMs: number;
  /** Slide the idle deadline only when the last touch is at least this old (0: every time). */
  touchIntervalMs: number;
  /** The refresh grace window; when given, a touch may drop what only that window needs once it is long past. */
  graceMs?: number;
}

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
 * `raced`: the presented token was one of the last 3 generations and was rotated out less than
 * `graceMs` ago; the caller re-creates the current successor from `generation` + `issuedAt`.
 * `reused`: theft, the session is gone. A repository that cannot tell whether a rotation happened
 * throws `SessionStoreUnavailableError` and must then not have consumed the presented token.
 */
export type RotateResult =
  | {
      status: 'rotated' | 'raced';
      generation: number;
      issuedAt: number;
      absoluteExpiresAt: number;
      roles: string[];
      /** User id of the actor of an impersonation session (for its audit events). */
      impersonator?: string;
    }
  | { status: 'reused'; impersonator?: string }
  /** Device-bound (DBSC): refused, nothing changed. */
  | { status: 'bound' }
  | { status: 'invalid' }
  | { status: 'missing' }
  | { status: 'expired'; impersonator?: string };

/** Counts from one cleanup pass. */
export interface CleanupResult {
  /** Index keys (Redis) or users (memory) examined. */
  scanned: number;
  /** Expired index entries and sessions removed. */
  removed: number;
}

/**
 * Storage for sessions. Every method is one atomic step (one round trip on Redis). The `now`
 * arguments are the caller's clock; a repository on a shared store may decide liveness with the
 * store's clock instead (Redis uses TIME), so replicas with skewed clocks agree.
 *
 * Names: a *repository* is an implementation of this interface (ours or yours); the *store* is what
 * it keeps sessions in (memory, Redis) and what the `store` option hands over.
 * @publicApi
 */
export interface SessionRepository extends DeviceBindingStore {
  /** `memory`, `redis` or `redis-cluster`: what `/health` reports. */
  readonly kind: string;
  /** Enforces `maxSessions` atomically with the write: concurrent creates never leave more. */
  create(session: NewSession): Promise<CreateResult>;
  /**
   * Checks the session and slides its idle deadline when the last touch is older than `touchIntervalMs`.
   * A repository may then also drop what only the refresh grace window needs once `graceMs` is long past.
   */
  validate(userId: string, sessionId: string, request: ValidateRequest): Promise<ValidateResult>;
  rotate(userId: string, sessionId: string, request: RotateRequest): Promise<RotateResult>;
  /** True when the session existed. */
  revoke(userId: string, sessionId: string): Promise<boolean>;
  /** Number of sessions revoked. */
  revokeAll(userId: string): Promise<number>;
  /** Ends every session of the user but `keepSessionId` (may be ''); number revoked. */
  revokeOthers(userId: string, keepSessionId: string, request: RevokeOthersRequest): Promise<number>;
  /** Sets the session's authentication time to now (store clock); null when it is not live. */
  reauthenticate(userId: string, sessionId: string, now: number, idleTimeoutMs: number): Promise<number | null>;
  list(userId: string, now: number, idleTimeoutMs: number): Promise<SessionRecord[]>;
  /** Prunes entries of sessions that are gone, in bounded batches; never a live session's. */
  cleanup(now: number, batchSize: number, idleTimeoutMs: number): Promise<CleanupResult>;
  /** Rejects (with `SessionStoreUnavailableError`) when the store cannot serve. */
  ping(): Promise<void>;
  /**
   * Takes a short lock so one replica runs a cleanup tick; returns a release function or null.
   * The lock lapses `ttlMs` after it was taken or last renewed, so it never outlives a dead holder for long.
   */
  acquireLock(name: string, ttlMs: number): Promise<SessionLockRelease | null>;
}

/**
 * Releases a lock (only if still ours). `renew`, when the repository has it, extends the lock by its
 * ttl and answers false once the lock is no longer ours.
 */
export type SessionLockRelease = (() => Promise<void>) & { renew?: () => Promise<boolean> };

/** Injection token of the active repository (`@InjectSessionRepository()`, `getSessionRepositoryToken()`). @publicApi */
export const SessionRepository = Symbol('SessionRepository');
