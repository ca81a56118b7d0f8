import { ForbiddenException, Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { attachPrincipal, verifiedPrincipal } from '../auth/session-checks.js';
import { SessionCsrfPolicy } from '../csrf/csrf-policy.js';
import { RETRY_AFTER_SECONDS } from '../http/http-errors.js';
import { SessionTransport } from '../http/session-transport.js';
import type { SessionPrincipal } from '../interfaces/session-record.interface.js';
import type { ResolvedSessionOptions } from '../session-options.js';
import { SessionStoreUnavailableError, SessionUnauthorizedError } from '../session.errors.js';
import { SESSION_RESOLVED_OPTIONS } from '../session.internal-constants.js';
import { SessionService } from '../session.service.js';
import { SessionEndedSignal, type SessionSignalMessage } from '../signal/session-signal.interface.js';
import { asHttpRequest, type HandshakeRequest, rememberHandshake } from './handshake-request.js';

/** The close code a socket gets when its session ends. @publicApi */
export const SESSION_ENDED_CLOSE_CODE = 4001;

/** The outcome of a WebSocket handshake: the session, or the HTTP status to refuse the upgrade with. @publicApi */
export type HandshakeOutcome =
  { ok: true; principal: SessionPrincipal } | { ok: false; status: 401 | 403 | 503; headers: Record<string, string> };

/** Closes one socket: `ws`'s `socket.close(code, reason)`, socket.io's `socket.disconnect(true)`. */
export type CloseSocket = (code: number, reason: string) => void;

/** The `ws` server fields `protect` uses (`WebSocketServer`, as `@WebSocketServer()` injects it). */
export interface WsServerLike {
  options: { verifyClient?: unknown };
  on(event: 'connection', listener: (socket: WsSocketLike, req: HandshakeRequest) => void): unknown;
}

/** The `ws` socket fields `protect` uses. */
export interface WsSocketLike {
  close(code?: number, reason?: string): void;
  once(event: 'close', listener: () => void): unknown;
}

type VerifyClientCallback = (ok: boolean, code?: number, message?: string, headers?: Record<string, string>) => void;

interface Tracked {
  userId: string;
  sessionId: string;
  close: CloseSocket;
  timer?: NodeJS.Timeout;
}

/** Re-check after this long when the store could not answer. */
const RETRY_MS = 2000;
/** setTimeout's largest delay. */
const MAX_DELAY_MS = 2 ** 31 - 1;
/** Past the deadline by this much, the store certainly sees the session as expired. */
const DEADLINE_MARGIN_MS = 25;

/**
 * WebSockets that live only as long as their session. Authenticates handshakes (access cookie
 * with the CSRF origin check, or `Authorization: Bearer`) and closes every socket with code 4001
 * when its session ends: at once on the session-ended signal (logout, logout-all, revoke, theft,
 * on any replica), and by a timer per socket at the session's idle or absolute deadline. After a
 * lost signal subscription comes back, every socket's session is re-checked.
 *
 * With `ws` (`@nestjs/platform-ws`): call `protect(server)` in the gateway's `afterInit`. With
 * another library: `authenticateHandshake` before accepting, then `track`.
 * @publicApi
 */
@Injectable()
export class SessionSockets implements OnApplicationShutdown {
  private readonly logger = new Logger('SessionSockets');
  private readonly byUser = new Map<string, Set<Tracked>>();
  private subscription: Promise<() => void> | undefined;

  constructor(
    private readonly sessions: SessionService,
    private readonly transport: SessionTransport,
    private readonly csrf: SessionCsrfPolicy,
    @Inject(SessionEndedSignal) private readonly signal: SessionEndedSignal,
    @Inject(SESSION_RESOLVED_OPTIONS) private readonly options: ResolvedSessionOptions,
  ) {}

  /** How many sockets are tracked (for tests and metrics). */
  get size(): number {
    let n = 0;
    for (const set of this.byUser.values()) n += set.size;
    return n;
  }

  /**
   * Checks a handshake: 401 without a live session, 403 for a cookie handshake from a foreign
   * origin (cross-site WebSocket hijacking: the same check as CSRF), 503 when the store is down.
   * On success the principal is attached to `req` for `@CurrentSession()` and `@Authenticated()`.
   */
  async authenticateHandshake(handshake: HandshakeRequest): Promise<HandshakeOutcome> {
    const req = asHttpRequest(handshake);
    try {
      const credential = this.transport.credential(req);
      if (!credential) throw new SessionUnauthorizedError('no_credentials');
      // Before the store: a cross-site page learns nothing and costs no round trip.
      if (credential.transport === 'cookie') this.csrf.assertSameOrigin(req);
      const principal = await this.sessions.authenticate(credential.token, credential.transport, req.ip);
      attachPrincipal(req, principal);
      return { ok: true, principal };
    } catch (err) {
      if (err instanceof ForbiddenException) return { ok: false, status: 403, headers: {} };
      if (err instanceof SessionStoreUnavailableError)
        return { ok: false, status: 503, headers: { 'Retry-After': RETRY_AFTER_SECONDS } };
      if (err instanceof SessionUnauthorizedError) return { ok: false, status: 401, headers: {} };
      this.logger.error(`handshake check failed: ${(err as Error)?.message ?? String(err)}`);
      return { ok: false, status: 503, headers: { 'Retry-After': RETRY_AFTER_SECONDS } };
    }
  }

  /**
   * Authenticates every upgrade of a `ws` server before it happens (`verifyClient`: refused
   * handshakes get their HTTP status and never become sockets) and tracks the sockets it accepts.
   */
  protect(server: WsServerLike): void {
    server.options.verifyClient = (info: { req: HandshakeRequest }, done: VerifyClientCallback) => {
      this.authenticateHandshake(info.req).then(
        (outcome) => (outcome.ok ? done(true) : done(false, outcome.status, undefined, outcome.headers)),
        () => done(false, 503, undefined, { 'Retry-After': RETRY_AFTER_SECONDS }),
      );
    };
    server.on('connection', (socket, req) => {
      rememberHandshake(socket, req);
      const principal = verifiedPrincipal(asHttpRequest(req));
      if (!principal) {
        socket.close(SESSION_ENDED_CLOSE_CODE, 'session_ended');
        return;
      }
      const untrack = this.track(principal, (code, reason) => socket.close(code, reason));
      socket.once('close', untrack);
    });
  }

  /** Closes `close`'s socket when the session ends; returns the function to call when it closes first. */
  track(principal: Pick<SessionPrincipal, 'id' | 'userId'>, close: CloseSocket): () => void {
    const t: Tracked = { userId: principal.userId, sessionId: principal.id, close };
    let set = this.byUser.get(t.userId);
    if (!set) this.byUser.set(t.userId, (set = new Set()));
    set.add(t);
    // The deadline is not in the access token: learn it from the store (once per socket, not per
    // message), once the subscription is up, so that an end signalled before it is not missed.
    const check = () => {
      if (this.byUser.get(t.userId)?.has(t)) this.schedule(t, 0);
    };
    this.listen().then(check, check);
    return () => this.untrack(t);
  }

  onApplicationShutdown(): void {
    for (const set of this.byUser.values()) for (const t of set) clearTimeout(t.timer);
    this.byUser.clear();
    void this.subscription?.then((unsubscribe) => unsubscribe()).catch(() => undefined);
  }

  private listen(): Promise<() => void> {
    this.subscription ??= this.signal.subscribe((m) => this.onSignal(m));
    this.subscription.catch((err: unknown) => {
      // Sockets still close at their deadlines; the next socket tries to subscribe again.
      this.subscription = undefined;
      this.logger.warn(`no session-ended subscription: ${(err as Error)?.message ?? String(err)}`);
    });
    return this.subscription;
  }

  private onSignal(m: SessionSignalMessage): void {
    if (m.kind === 'restored') {
      for (const userId of [...this.byUser.keys()]) void this.recheckUser(userId);
      return;
    }
    if (m.kind !== 'ended') return;
    for (const t of [...(this.byUser.get(m.userId) ?? [])]) {
      if (m.sessionId === t.sessionId || (m.sessionId === null && m.except !== t.sessionId)) this.end(t);
    }
  }

  private untrack(t: Tracked): void {
    clearTimeout(t.timer);
    const set = this.byUser.get(t.userId);
    if (!set) return;
    set.delete(t);
    if (set.size === 0) this.byUser.delete(t.userId);
  }

  private end(t: Tracked): void {
    this.untrack(t);
    try {
      t.close(SESSION_ENDED_CLOSE_CODE, 'session_ended');
    } catch (err) {
      this.logger.warn(`closing a socket failed: ${(err as Error)?.message ?? String(err)}`);
    }
  }

  private schedule(t: Tracked, delayMs: number): void {
    clearTimeout(t.timer);
    t.timer = setTimeout(() => void this.recheckUser(t.userId, t), Math.min(Math.max(0, delayMs), MAX_DELAY_MS));
    t.timer.unref();
  }

  /** One store read (the user's live sessions, no idle touch) for all of the user's sockets, or just `only`. */
  private async recheckUser(userId: string, only?: Tracked): Promise<void> {
    const tracked = only ? [only] : [...(this.byUser.get(userId) ?? [])];
    if (tracked.length === 0) return;
    let live: Map<string, number>;
    try {
      const list = await this.sessions.list(userId);
      live = new Map(list.map((s) => [s.id, s.expiresAt]));
    } catch {
      for (const t of tracked) if (this.byUser.get(userId)?.has(t)) this.schedule(t, RETRY_MS);
      return;
    }
    const now = this.options.clock();
    for (const t of tracked) {
      if (!this.byUser.get(userId)?.has(t)) continue;
      const expiresAt = live.get(t.sessionId);
      if (expiresAt === undefined || expiresAt <= now) this.end(t);
      else this.schedule(t, expiresAt - now + DEADLINE_MARGIN_MS);
    }
  }
}
