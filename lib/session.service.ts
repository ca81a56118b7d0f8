import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Optional } from '@nestjs/common';
import { SessionEvents } from './events/session-events.service.js';
import type { SessionRevokeReason } from './interfaces/session-event.interface.js';
import type { SessionPrincipal, SessionRecord, SessionUser } from './interfaces/session-record.interface.js';
import { SessionRepository } from './interfaces/session-repository.interface.js';
import type { ResolvedSessionOptions } from './session-options.js';
import { SESSION_RESOLVED_OPTIONS } from './session.internal-constants.js';
import { InvalidTokenError, SessionUnauthorizedError } from './session.errors.js';
import { SessionForbiddenError, SessionLimitError, SessionStepUpRequiredError } from './session.errors.js';
import { AccessTokenService, type AccessClaims } from './tokens/access-token.service.js';
import { RefreshTokenService } from './tokens/refresh-token.service.js';
import { CsrfService } from './csrf/csrf.service.js';
import { deviceLabel } from './device/device-label.js';
import { SessionEndedSignal } from './signal/session-signal.interface.js';
import { SessionValidationCache } from './cache/session-validation-cache.js';
import type { ValidatedSession } from './interfaces/session-record.interface.js';

/** Request facts stored with a session. */
export interface SessionMeta {
  userAgent?: string;
  ip?: string;
  /** Small application data kept with the session (≤ 1 KiB as JSON). */
  data?: Record<string, unknown>;
}

/** Tokens for a session, as issued at login or refresh. */
export interface IssuedTokens {
  sessionId: string;
  userId: string;
  accessToken: string;
  /** Access token `exp` as a Date. */
  accessTokenExpiresAt: Date;
  refreshToken: string;
  /** Refresh token `exp` (the session's absolute deadline) as a Date. */
  refreshTokenExpiresAt: Date;
  csrfToken: string;
  roles: string[];
}

const MAX_DATA_BYTES = 1024;
const MAX_ROLES = 32;
/** Stored in every session record: a whole desktop User-Agent (~110 B) costs ~64 B more per session in Redis. */
const MAX_USER_AGENT_BYTES = 64;
const MAX_IP_BYTES = 64;
/** The actor of an impersonation session is stored in the record too: same budget. */
const MAX_ACTOR_BYTES = 64;

/** The longest prefix of `s` that fits in `max` UTF-8 bytes, never splitting a character. */
function truncateUtf8(s: string, max: number): string {
  if (s.length <= max && Buffer.byteLength(s) <= max) return s;
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    bytes += Buffer.byteLength(ch);
    if (bytes > max) break;
    out += ch;
  }
  return out;
}

/** Audit-event address: callers may pass a function so the request path never computes it. */
function resolveIp(ip: string | (() => string) | undefined): string | undefined {
  return typeof ip === 'function' ? ip() : ip;
}

/**
 * The session core, free of HTTP: create, authenticate, refresh, revoke, list.
 * @publicApi
 */
@Injectable()
export class SessionService {
  constructor(
    @Inject(SESSION_RESOLVED_OPTIONS) private readonly options: ResolvedSessionOptions,
    @Inject(SessionRepository) private readonly repository: SessionRepository,
    private readonly accessTokens: AccessTokenService,
    private readonly refreshTokens: RefreshTokenService,
    private readonly csrf: CsrfService,
    private readonly events: SessionEvents,
    // Tells sockets (and caches) on every replica that a session ended; not awaited, so no answer waits for it.
    @Optional() @Inject(SessionEndedSignal) private readonly signal?: SessionEndedSignal,
    // `localCache`: null when off.
    @Optional() @Inject(SessionValidationCache) private readonly cache?: SessionValidationCache | null,
  ) {}

  /**
   * Tells the validation caches of every replica that a live session changed. Only with
   * `localCache` on (replicas share their options): without caches nobody listens, and a refresh
   * would pay a PUBLISH for nothing.
   */
  private publishChanged(userId: string, sessionId: string): void {
    if (this.cache) void this.signal?.publishChanged?.({ userId, sessionId });
  }

  /** Which store backs the sessions: `memory`, `redis` or `redis-cluster`. */
  get storeKind(): string {
    return this.repository.kind;
  }

  /**
   * Creates a new session (always a fresh id) and issues its tokens. At the per-user cap the least
   * recently used sessions end (`session_revoked`, reason `evicted`), or with `sessionCapPolicy:
   * 'refuse'` this throws `SessionLimitError` (409).
   */
  create(user: SessionUser, meta: SessionMeta = {}): Promise<IssuedTokens> {
    return this.createSession(user, meta);
  }

  /**
   * Starts a session as `target` for an admin (`actor`): it holds the target's roles only, records
   * the actor (`impersonator` on its principal, in the session list and in its audit events),
   * cannot impersonate again or change credentials, and lives at most `impersonationTimeout`.
   * The app checks that the actor may do this (role, fresh authentication) and that the target exists.
   */
  async impersonate(actor: SessionPrincipal, target: SessionUser, meta: SessionMeta = {}): Promise<IssuedTokens> {
    if (actor.impersonator) throw new SessionForbiddenError('nested_impersonation');
    if (Buffer.byteLength(actor.userId) > MAX_ACTOR_BYTES) {
      throw new TypeError(`SessionService.impersonate: the actor's user id must be at most ${MAX_ACTOR_BYTES} bytes`);
    }
    const tokens = await this.createSession(target, meta, {
      impersonator: actor.userId,
      lifetimeMs: Math.min(this.options.impersonationTimeoutMs, this.options.absoluteTimeoutMs),
    });
    this.events.emit('authn_impersonation_start', {
      userId: target.id,
      sessionId: tokens.sessionId,
      ip: meta.ip,
      impersonator: actor.userId,
    });
    return tokens;
  }

  private async createSession(
    user: SessionUser,
    meta: SessionMeta,
    special: { impersonator?: string; lifetimeMs?: number } = {},
  ): Promise<IssuedTokens> {
    if (typeof user?.id !== 'string' || user.id.length === 0 || user.id.length > 256) {
      throw new TypeError('SessionService.create: user.id must be a non-empty string (≤ 256 chars)');
    }
    const roles = user.roles ?? [];
    if (roles.length > MAX_ROLES || roles.some((r) => typeof r !== 'string' || !/^[\w.:-]{1,64}$/.test(r))) {
      throw new TypeError('SessionService.create: roles must be ≤ 32 names of [A-Za-z0-9_.:-]');
    }
    if (meta.data !== undefined && Buffer.byteLength(JSON.stringify(meta.data)) > MAX_DATA_BYTES) {
      throw new TypeError(`SessionService.create: data must be at most ${MAX_DATA_BYTES} bytes as JSON`);
    }
    const now = this.options.clock();
    const sessionId = randomBytes(16).toString('base64url');
    const absoluteExpiresAt = now + (special.lifetimeMs ?? this.options.absoluteTimeoutMs);
    const iat = Math.floor(now / 1000);
    const refreshExp = Math.floor(absoluteExpiresAt / 1000);
    const refreshToken = this.refreshTokens.sign(user.id, sessionId, 0, iat, refreshExp);
    const created = await this.repository.create({
      id: sessionId,
      userId: user.id,
      roles,
      userAgent: truncateUtf8(meta.userAgent ?? '', MAX_USER_AGENT_BYTES),
      ip: truncateUtf8(meta.ip ?? '', MAX_IP_BYTES),
      // From the whole User-Agent: its first 64 bytes often end before the browser's name.
      device: deviceLabel(meta.userAgent),
      data: meta.data,
      now,
      idleTimeoutMs: this.options.idleTimeoutMs,
      absoluteExpiresAt,
      refreshHash: this.refreshTokens.hash(refreshToken),
      refreshIssuedAt: iat,
      maxSessions: this.options.maxSessionsPerUser,
      capPolicy: this.options.sessionCapPolicy,
      impersonator: special.impersonator,
    });
    if (created.status === 'refused') {
      this.events.emit('authn_login_fail', { userId: user.id, ip: meta.ip, reason: 'session_limit' });
      throw new SessionLimitError();
    }
    for (const evicted of created.evicted) {
      this.events.emit('session_revoked', { userId: user.id, sessionId: evicted, ip: meta.ip, reason: 'evicted' });
      void this.signal?.publish({ userId: user.id, sessionId: evicted, reason: 'evicted' });
    }
    const impersonator = special.impersonator;
    this.events.emit('session_created', { userId: user.id, sessionId, ip: meta.ip, impersonator });
    return this.tokens(user.id, sessionId, now, refreshToken, refreshExp, roles);
  }

  private tokens(
    userId: string,
    sessionId: string,
    now: number,
    refreshToken: string,
    refreshExp: number,
    roles: string[],
    fixed?: { iat: number; jti: string },
  ): IssuedTokens {
    const access = this.accessTokens.issue(userId, sessionId, now, fixed);
    return {
      sessionId,
      userId,
      accessToken: access.token,
      accessTokenExpiresAt: new Date(access.expiresAt * 1000),
      refreshToken,
      refreshTokenExpiresAt: new Date(refreshExp * 1000),
      csrfToken: this.csrf.issue(sessionId),
      roles,
    };
  }

  /**
   * Verifies an access token and checks its session in the store (one round trip, which also
   * slides the idle timeout when due). Throws `SessionUnauthorizedError` or
   * `SessionStoreUnavailableError`. `ip` (for audit events) may be a function, called only
   * when an event needs it.
   */
  async authenticate(
    token: unknown,
    transport: 'cookie' | 'bearer',
    ip?: string | (() => string),
  ): Promise<SessionPrincipal> {
    const now = this.options.clock();
    let claims: AccessClaims;
    try {
      claims = this.accessTokens.verify(token, now);
    } catch (err) {
      throw this.invalid(err, ip);
    }
    return await this.authenticateClaims(claims, transport, now, ip);
  }

  /** The store half of `authenticate`, for callers (Passport) that verified the signature already. */
  async authenticateVerified(
    payload: unknown,
    transport: 'cookie' | 'bearer',
    ip?: string | (() => string),
  ): Promise<SessionPrincipal> {
    const now = this.options.clock();
    let claims: AccessClaims;
    try {
      claims = this.accessTokens.checkClaims(payload, now);
    } catch (err) {
      throw this.invalid(err, ip);
    }
    return await this.authenticateClaims(claims, transport, now, ip);
  }

  private async authenticateClaims(
    claims: AccessClaims,
    transport: 'cookie' | 'bearer',
    now: number,
    lazyIp: string | (() => string) | undefined,
  ): Promise<SessionPrincipal> {
    const cached = this.cache?.get(claims.sub, claims.sid, now);
    if (cached) return this.principal(claims, transport, cached);
    // Taken before the read: an answer that raced a change is not cached.
    const ticket = this.cache?.ticket(claims.sub, claims.sid);
    const result = await this.repository.validate(claims.sub, claims.sid, {
      now,
      idleTimeoutMs: this.options.idleTimeoutMs,
      touchIntervalMs: this.options.touchIntervalMs,
      graceMs: this.options.graceMs,
    });
    if (result.status !== 'ok') {
      this.cache?.drop(claims.sub, claims.sid);
      const ip = resolveIp(lazyIp);
      if (result.status === 'expired') {
        const impersonator = result.impersonator;
        this.events.emit('session_expired', { userId: claims.sub, sessionId: claims.sid, ip, impersonator });
      } else {
        this.events.emit('authn_token_invalid', {
          userId: claims.sub,
          sessionId: claims.sid,
          ip,
          reason: 'session_' + result.status,
        });
      }
      throw new SessionUnauthorizedError(`session_${result.status}`);
    }
    if (ticket) this.cache!.offer(ticket, result.session, now);
    return this.principal(claims, transport, result.session);
  }

  /** A principal of its own per request: callers may change it (`reauthenticate` sets `authTime`). */
  private principal(claims: AccessClaims, transport: 'cookie' | 'bearer', session: ValidatedSession): SessionPrincipal {
    const principal: SessionPrincipal = {
      id: claims.sid,
      userId: claims.sub,
      roles: this.cache ? [...session.roles] : session.roles,
      data: this.cache && session.data !== undefined ? structuredClone(session.data) : session.data,
      tokenExpiresAt: claims.exp,
      transport,
      authTime: session.authTime,
      ...(session.deviceBound && { deviceBound: true }),
    };
    if (session.impersonator) principal.impersonator = { id: session.impersonator };
    return principal;
  }

  private invalid(err: unknown, ip: string | (() => string) | undefined): Error {
    if (!(err instanceof InvalidTokenError)) return err as Error;
    this.events.emit('authn_token_invalid', { ip: resolveIp(ip), reason: err.reason });
    return new SessionUnauthorizedError(err.reason);
  }

  /** Reads the session id from a refresh token that verifies, without using it (CSRF binding). */
  peekRefreshSession(refreshToken: unknown): { userId: string; sessionId: string } | null {
    try {
      const c = this.refreshTokens.verify(refreshToken, this.options.clock());
      return { userId: c.sub, sessionId: c.sid };
    } catch {
      return null;
    }
  }

  /**
   * Rotates a refresh token. A token rotated out less than `refreshGrace` ago (up to 3 generations
   * back) answers the current successor — the same refresh and access token as the request that
   * rotated it, and no new event; any older token is theft and ends the session.
   */
  async refresh(refreshToken: unknown, ip?: string): Promise<IssuedTokens> {
    const now = this.options.clock();
    let claims;
    try {
      claims = this.refreshTokens.verify(refreshToken, now);
    } catch (err) {
      throw this.invalid(err, ip);
    }
    const nowSeconds = Math.floor(now / 1000);
    const next = this.refreshTokens.sign(claims.sub, claims.sid, claims.gen + 1, nowSeconds, claims.exp);
    const result = await this.repository.rotate(claims.sub, claims.sid, {
      now,
      idleTimeoutMs: this.options.idleTimeoutMs,
      graceMs: this.options.graceMs,
      presentedGeneration: claims.gen,
      presentedHash: this.refreshTokens.hash(refreshToken as string),
      nextHash: this.refreshTokens.hash(next),
      nextIssuedAt: nowSeconds,
    });
    const who = {
      userId: claims.sub,
      sessionId: claims.sid,
      ip,
      impersonator: 'impersonator' in result ? result.impersonator : undefined,
    };
    switch (result.status) {
      case 'rotated':
      case 'raced': {
        // Every generation carries the first token's exp, so a re-created successor is byte-identical.
        const successor =
          result.status === 'rotated'
            ? next
            : this.refreshTokens.sign(claims.sub, claims.sid, result.generation, result.issuedAt, claims.exp);
        // One event per generation: replays inside the window are answers, not renewals.
        if (result.status === 'rotated') {
          this.events.emit('session_renewed', { ...who, reason: result.status });
          // A refresh is a use (the idle deadline moved): caches re-read the session.
          this.publishChanged(claims.sub, claims.sid);
        }
        const access = { iat: result.issuedAt, jti: this.refreshTokens.accessJti(successor) };
        return this.tokens(claims.sub, claims.sid, now, successor, claims.exp, result.roles, access);
      }
      case 'reused':
        this.events.emit('authn_token_reuse', who);
        this.events.emit('session_revoked', { ...who, reason: 'theft' });
        void this.signal?.publish({ userId: claims.sub, sessionId: claims.sid, reason: 'theft' });
        throw new SessionUnauthorizedError('refresh_reuse');
      case 'expired':
        this.events.emit('session_expired', who);
        throw new SessionUnauthorizedError('session_expired');
      default:
        this.events.emit('authn_token_invalid', { ...who, reason: `refresh_${result.status}` });
        throw new SessionUnauthorizedError(`refresh_${result.status}`);
    }
  }

  /**
   * Ends one session. Returns false when it did not exist (or belongs to someone else).
   * `impersonator`: the actor, when the session is an impersonation session (for its audit event).
   */
  async revoke(
    userId: string,
    sessionId: string,
    reason: SessionRevokeReason = 'admin',
    ip?: string,
    impersonator?: string,
  ): Promise<boolean> {
    const existed = await this.repository.revoke(userId, sessionId);
    if (existed) {
      this.events.emit('session_revoked', { userId, sessionId, ip, reason, impersonator });
      void this.signal?.publish({ userId, sessionId, reason });
    }
    return existed;
  }

  /** Ends every session of a user. Returns how many there were. */
  async revokeAll(userId: string, reason: SessionRevokeReason = 'logout_all', ip?: string): Promise<number> {
    const n = await this.repository.revokeAll(userId);
    this.events.emit('session_revoked', { userId, ip, reason });
    void this.signal?.publish({ userId, sessionId: null, reason });
    return n;
  }

  /** Ends every session of the user but `keepSessionId` ("log out other devices"). Returns how many. */
  async revokeOthers(
    userId: string,
    keepSessionId: string,
    reason: SessionRevokeReason = 'logout_others',
    ip?: string,
  ): Promise<number> {
    const n = await this.repository.revokeOthers(userId, keepSessionId, {
      now: this.options.clock(),
      idleTimeoutMs: this.options.idleTimeoutMs,
    });
    this.events.emit('session_revoked', { userId, ip, reason });
    void this.signal?.publish({ userId, sessionId: null, except: keepSessionId, reason });
    return n;
  }

  /**
   * Call after the user's credentials changed (password, passkey, MFA): every other session of
   * the user ends (`password_changed`) and the current one continues with its tokens and counts
   * as freshly authenticated. A per-user "not before" time also kills any session authenticated
   * earlier that the index missed. Pass a user id instead of a principal (a reset by e-mail) to
   * end every session. An impersonation session may not do this (`SessionForbiddenError`).
   */
  async credentialsChanged(current: SessionPrincipal | string, ip?: string): Promise<number> {
    if (typeof current !== 'string' && current.impersonator) {
      throw new SessionForbiddenError('impersonation_credentials');
    }
    const userId = typeof current === 'string' ? current : current.userId;
    const keep = typeof current === 'string' ? '' : current.id;
    const n = await this.repository.revokeOthers(userId, keep, {
      now: this.options.clock(),
      idleTimeoutMs: this.options.idleTimeoutMs,
      // Outlives every session authenticated before now (none lives longer than absoluteTimeout).
      notBefore: { ttlMs: this.options.absoluteTimeoutMs },
    });
    this.events.emit('authn_password_change', { userId, sessionId: keep || undefined, ip });
    this.events.emit('session_revoked', { userId, ip, reason: 'password_changed' });
    void this.signal?.publish({
      userId,
      sessionId: null,
      ...(keep ? { except: keep } : {}),
      reason: 'password_changed',
    });
    return n;
  }

  /**
   * Call after the app re-verified the user's credentials in this session (step-up): the session
   * counts as authenticated now. Returns the new authentication time; throws
   * `SessionUnauthorizedError` when the session is gone.
   */
  async reauthenticate(principal: SessionPrincipal, ip?: string): Promise<Date> {
    const at = await this.repository.reauthenticate(
      principal.userId,
      principal.id,
      this.options.clock(),
      this.options.idleTimeoutMs,
    );
    if (at === null) throw new SessionUnauthorizedError('session_missing');
    principal.authTime = at;
    // `fresh` checks read authTime: every replica's cache must see the new one.
    this.publishChanged(principal.userId, principal.id);
    this.events.emit('authn_reauth_success', {
      userId: principal.userId,
      sessionId: principal.id,
      ip,
      impersonator: principal.impersonator?.id,
    });
    return new Date(at);
  }

  /**
   * Step-up check: throws `SessionStepUpRequiredError` when the session's last login or
   * re-authentication is older than `fresh` seconds (`true`: the `freshAge` option).
   */
  assertFresh(principal: SessionPrincipal, fresh: boolean | number | undefined, ip?: string | (() => string)): void {
    if (fresh === undefined || fresh === false) return;
    const maxAge = fresh === true ? this.options.freshAge : fresh;
    if (this.options.clock() - principal.authTime <= maxAge * 1000) return;
    this.events.emit('authz_fail', {
      userId: principal.userId,
      sessionId: principal.id,
      ip: resolveIp(ip),
      reason: 'step_up',
      impersonator: principal.impersonator?.id,
    });
    throw new SessionStepUpRequiredError(maxAge);
  }

  /** The user's live sessions, oldest first. */
  list(userId: string): Promise<SessionRecord[]> {
    return this.repository.list(userId, this.options.clock(), this.options.idleTimeoutMs);
  }

  /** A new access token for a live session (silent renewal). */
  renewAccessToken(principal: SessionPrincipal): { token: string; expiresAt: number } {
    return this.accessTokens.issue(principal.userId, principal.id, this.options.clock());
  }

  /** A CSRF token bound to the session. */
  csrfToken(sessionId: string): string {
    return this.csrf.issue(sessionId);
  }

  verifyCsrfToken(sessionId: string, token: unknown): boolean {
    return this.csrf.verify(sessionId, token);
  }

  /** Records a failed login the application detected (the module never sees passwords). */
  reportLoginFailure(attemptedUser: string, ip?: string): void {
    this.events.emit('authn_login_fail', { userId: attemptedUser, ip });
  }

  /** Resolves when the store answers; rejects with `SessionStoreUnavailableError` otherwise. */
  ping(): Promise<void> {
    return this.repository.ping();
  }
}
