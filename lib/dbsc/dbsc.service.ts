import { Inject, Injectable, NotFoundException, Optional } from '@nestjs/common';
import { HttpException } from '@nestjs/common';
import { SessionEvents } from '../events/session-events.service.js';
import { AMBIGUOUS, readCookies } from '../http/cookies.js';
import { clientIp, header, type HttpRequestLike, type HttpResponseLike } from '../http/http-request.js';
import { SessionTransport } from '../http/session-transport.js';
import { SessionRepository } from '../interfaces/session-repository.interface.js';
import type { ResolvedSessionOptions } from '../session-options.js';
import { SESSION_RESOLVED_OPTIONS } from '../session.internal-constants.js';
import { InvalidTokenError, SessionConfigError, SessionStoreUnavailableError } from '../session.errors.js';
import { SessionEndedSignal } from '../signal/session-signal.interface.js';
import { AccessTokenService } from '../tokens/access-token.service.js';
import { DbscChallenges, type DbscSessionRef } from './dbsc-challenges.js';
import { DbscRefusal } from './dbsc-errors.js';
import { challengeHeader, readDbscString, registrationHeader } from './dbsc-headers.js';
import { DBSC_OPTIONS, type ResolvedDbscOptions } from './dbsc-options.js';
import { parseDbscProof, verifyDbscProof } from './dbsc-proof.js';
import { deviceKeyFromJwk, deviceKeyFromStored } from './device-key.js';

/** The session instructions (JSON) of a registration or refresh answer. */
export interface DbscSessionInstructions {
  session_identifier: string;
  refresh_url: string;
  scope: { include_site: false };
  credentials: Array<{ type: 'cookie'; name: string; attributes: string }>;
}

/** A registration challenge issued a little in the future (another replica's clock) is still fine. */
const CLOCK_SLACK_MS = 5000;

/**
 * The spec's advice for the refresh endpoint (no credentialed CORS, no framing), applied to both
 * DBSC endpoints; and the module's no-store headers.
 */
const FRAMING_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['X-Frame-Options', 'DENY'],
  ['Content-Security-Policy', "frame-ancestors 'none'"],
  ['Cross-Origin-Resource-Policy', 'same-origin'],
];

/**
 * Device Bound Session Credentials (W3C DBSC) over the module's sessions: the registration header
 * on cookie logins, the registration endpoint that binds a session to the browser's device key,
 * and the refresh endpoint that renews the access cookie only against a proof signed with it.
 * What the module's `<prefix>/dbsc/register` and `<prefix>/dbsc/refresh` run; call `register` /
 * `refresh` from your own routes when the module's routes are off (`routes: false`).
 * @publicApi
 */
@Injectable()
export class SessionDbscService {
  private readonly challenges: DbscChallenges;
  private readonly registerPath: string;
  private readonly refreshPath: string;

  constructor(
    @Inject(SESSION_RESOLVED_OPTIONS) private readonly options: ResolvedSessionOptions,
    @Inject(DBSC_OPTIONS) private readonly dbsc: ResolvedDbscOptions,
    @Inject(SessionRepository) private readonly repository: SessionRepository,
    private readonly accessTokens: AccessTokenService,
    private readonly transport: SessionTransport,
    private readonly events: SessionEvents,
    // Binding changes validation (`deviceBound`): validation caches on every replica re-read.
    @Optional() @Inject(SessionEndedSignal) private readonly signal?: SessionEndedSignal,
  ) {
    this.challenges = new DbscChallenges(options.csrfKey);
    const base = options.routePrefix ? `/${options.routePrefix}/dbsc` : '/dbsc';
    this.registerPath = `${base}/register`;
    this.refreshPath = `${base}/refresh`;
    const r = repository;
    if (dbsc.enabled && !(r.bindDevice && r.deviceKey && r.refreshDevice)) {
      throw new SessionConfigError(
        'dbsc.enabled needs a repository with bindDevice, deviceKey and refreshDevice (the built-in ones have them)',
      );
    }
  }

  get enabled(): boolean {
    return this.dbsc.enabled;
  }

  /**
   * Adds `Secure-Session-Registration` to a cookie login's answer: browsers with DBSC then
   * register a device key; others ignore the header and keep today's flow.
   */
  offerRegistration(res: HttpResponseLike, ref: DbscSessionRef): void {
    if (!this.dbsc.enabled) return;
    const challenge = this.challenges.registrationChallenge(ref, this.options.clock());
    this.transport.setHeader(
      res,
      'Secure-Session-Registration',
      registrationHeader(this.registerPath, challenge, this.challenges.authorization(ref)),
    );
  }

  /**
   * `POST <prefix>/dbsc/register`: the browser's proof (`Secure-Session-Response`, a `dbsc+jwt`
   * with its public key in `jwk`) for the session of the access cookie. Binds the session to that
   * key and answers the session instructions with a fresh access cookie.
   */
  async register(req: HttpRequestLike, res: unknown): Promise<DbscSessionInstructions> {
    const out = this.begin(req, res);
    try {
      const cookie = readCookies(header(req, 'cookie'), [this.options.cookies.accessName])[
        this.options.cookies.accessName
      ];
      if (!cookie || cookie === AMBIGUOUS) throw new DbscRefusal(401, 'no_session_cookie');
      const ref = this.sessionOfAccessToken(cookie);
      const compact = readDbscString(header(req, 'secure-session-response'), 'response');
      if (!compact) throw new DbscRefusal(400, 'no_proof');
      const proof = parseDbscProof(compact, true);
      const issuedAt = this.challenges.openRegistrationChallenge(ref, proof.jti);
      const now = this.options.clock();
      if (issuedAt === null) throw new DbscRefusal(403, 'registration_challenge');
      if (now - issuedAt > this.dbsc.challengeMaxAgeMs || issuedAt > now + CLOCK_SLACK_MS) {
        throw new DbscRefusal(403, 'registration_challenge_stale');
      }
      if (proof.authorization !== this.challenges.authorization(ref)) throw new DbscRefusal(403, 'authorization');
      const key = deviceKeyFromJwk(proof.alg, proof.jwk);
      verifyDbscProof(proof, key);
      const bound = await this.repository.bindDevice!(ref.userId, ref.sessionId, {
        now,
        idleTimeoutMs: this.options.idleTimeoutMs,
        key: key.stored,
      });
      if (bound === 'already_bound') throw new DbscRefusal(403, 'already_bound');
      if (bound !== 'bound') throw new DbscRefusal(401, `session_${bound}`);
      // Only caches listen for `changed` (see SessionService.publishChanged).
      if (this.options.localCache) void this.signal?.publishChanged?.(ref);
      this.events.emit('session_renewed', { ...ref, ip: clientIp(req), reason: 'dbsc_bound' });
      return this.renew(out, ref, now);
    } catch (err) {
      throw this.refuse(req, out, err, undefined);
    }
  }

  /**
   * `POST <prefix>/dbsc/refresh`: `Sec-Secure-Session-Id` names the session. Without a proof, or
   * with one for a stale or used challenge: 403 and a new `Secure-Session-Challenge`. With a proof
   * that verifies against the session's key: a new access cookie and the session instructions.
   */
  async refresh(req: HttpRequestLike, res: unknown): Promise<DbscSessionInstructions> {
    const out = this.begin(req, res);
    let ref: DbscSessionRef | undefined;
    try {
      const id = readDbscString(header(req, 'sec-secure-session-id'), 'session_id');
      if (!id) throw new DbscRefusal(400, 'no_session_id');
      ref = this.challenges.openSessionIdentifier(id) ?? undefined;
      if (!ref) throw new DbscRefusal(401, 'unknown_session_id');
      const compact = readDbscString(header(req, 'secure-session-response'), 'response');
      if (!compact) throw new DbscRefusal(403, 'proof_needed');
      const proof = parseDbscProof(compact, false);
      const challenge = this.challenges.openRefreshChallenge(ref, proof.jti);
      if (!challenge) throw new DbscRefusal(403, 'refresh_challenge');
      verifyDbscProof(proof, deviceKeyFromStored(challenge.key));
      const now = this.options.clock();
      const result = await this.repository.refreshDevice!(ref.userId, ref.sessionId, {
        now,
        idleTimeoutMs: this.options.idleTimeoutMs,
        key: challenge.key,
        challengeIssuedAt: challenge.issuedAt,
        challengeMaxAgeMs: this.dbsc.challengeMaxAgeMs,
      });
      if (result === 'replayed' || result === 'stale') throw new DbscRefusal(403, `challenge_${result}`);
      if (result !== 'ok') throw new DbscRefusal(401, `session_${result}`);
      this.events.emit('session_renewed', { ...ref, ip: clientIp(req), reason: 'dbsc_refresh' });
      return this.renew(out, ref, now);
    } catch (err) {
      throw await this.refuseWithChallenge(req, out, err, ref);
    }
  }

  /** Shared first steps of both endpoints: HTTPS when required, headers, 404 while DBSC is off. */
  private begin(req: HttpRequestLike, res: unknown): HttpResponseLike {
    const out = res as HttpResponseLike;
    this.transport.protectTokenAnswer(out);
    for (const [name, value] of FRAMING_HEADERS) this.transport.setHeader(out, name, value);
    // Never readable cross-origin with credentials, whatever CORS the app set up (spec: refresh endpoint).
    (out as { removeHeader?: (name: string) => void }).removeHeader?.('Access-Control-Allow-Credentials');
    if (!this.dbsc.enabled) throw new NotFoundException();
    this.transport.assertHttps(req);
    return out;
  }

  /** The session an access token names; its signature and claims are checked, the store is not (bindDevice does). */
  private sessionOfAccessToken(token: string): DbscSessionRef {
    try {
      const claims = this.accessTokens.verify(token, this.options.clock());
      return { userId: claims.sub, sessionId: claims.sid };
    } catch (err) {
      if (err instanceof InvalidTokenError) throw new DbscRefusal(401, `access_${err.reason}`);
      throw err;
    }
  }

  private renew(res: HttpResponseLike, ref: DbscSessionRef, now: number): DbscSessionInstructions {
    const access = this.accessTokens.issue(ref.userId, ref.sessionId, now);
    this.transport.setAccessCookie(res, access.token, access.expiresAt * 1000);
    return this.instructions(ref);
  }

  private instructions(ref: DbscSessionRef): DbscSessionInstructions {
    const c = this.options.cookies;
    const attributes = [
      ...(c.domain ? [`Domain=${c.domain}`] : []),
      'Path=/',
      ...(c.secure ? ['Secure'] : []),
      'HttpOnly',
      `SameSite=${c.accessSameSite}`,
    ].join('; ');
    return {
      session_identifier: this.challenges.sessionIdentifier(ref),
      refresh_url: this.refreshPath,
      scope: { include_site: false },
      credentials: [{ type: 'cookie', name: c.accessName, attributes }],
    };
  }

  /** A 403 of the refresh endpoint carries a new challenge (one store read for the key); other refusals do not. */
  private async refuseWithChallenge(
    req: HttpRequestLike,
    res: HttpResponseLike,
    err: unknown,
    ref: DbscSessionRef | undefined,
  ): Promise<Error> {
    if (!(err instanceof DbscRefusal) || err.status !== 403 || !ref) return this.refuse(req, res, err, ref);
    try {
      const now = this.options.clock();
      const found = await this.repository.deviceKey!(ref.userId, ref.sessionId, {
        now,
        idleTimeoutMs: this.options.idleTimeoutMs,
      });
      if (found.status !== 'ok') return this.refuse(req, res, new DbscRefusal(401, `session_${found.status}`), ref);
      const challenge = this.challenges.refreshChallenge(ref, { issuedAt: found.now, key: found.key });
      this.transport.setHeader(
        res,
        'Secure-Session-Challenge',
        challengeHeader(challenge, this.challenges.sessionIdentifier(ref)),
      );
      // Asking for a proof is the protocol's normal first step, not a failure worth an audit event.
      if (err.reason !== 'proof_needed') {
        this.events.emit('authn_token_invalid', { ...ref, ip: clientIp(req), reason: `dbsc_${err.reason}` });
      }
      return new HttpException('A proof signed with the device key is needed', 403);
    } catch (storeErr) {
      return this.refuse(req, res, storeErr, ref);
    }
  }

  /**
   * DBSC refusals answer their status (a browser ends its DBSC session on any 4xx but 403); a
   * store outage is 503 with Retry-After (the browser keeps the session and retries), never 401.
   */
  private refuse(req: HttpRequestLike, res: HttpResponseLike, err: unknown, ref: DbscSessionRef | undefined): Error {
    if (err instanceof DbscRefusal) {
      this.events.emit('authn_token_invalid', { ...ref, ip: clientIp(req), reason: `dbsc_${err.reason}` });
      const message = err.status === 400 ? 'Malformed DBSC request' : 'DBSC request refused';
      return new HttpException(message, err.status);
    }
    if (err instanceof SessionStoreUnavailableError) return this.transport.refuse(res, err, false);
    return err as Error;
  }
}
