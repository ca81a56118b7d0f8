import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-jwt';
import { clientIp, type HttpRequestLike } from '../http/http-adapter.js';
import { SessionHttpService } from '../http/session-http.service.js';
import type { SessionPrincipal } from '../interfaces/session-record.interface.js';
import { SESSION_JWT_STRATEGY } from '../session.constants.js';
import { SessionUnauthorizedError } from '../session.errors.js';
import { SessionService } from '../session.service.js';
import { AccessTokenService } from '../tokens/access-token.service.js';

/**
 * The same validation as `SessionGuard`, as a Passport strategy named `session-jwt`, for apps
 * that compose Passport strategies: `@UseGuards(AuthGuard('session-jwt'))`. passport-jwt checks
 * the signature with the pinned algorithm; the session check runs in `validate`.
 * It does not check CSRF: pair it with the CSRF check or use bearer tokens.
 * @publicApi
 */
@Injectable()
export class SessionJwtStrategy extends PassportStrategy(Strategy, SESSION_JWT_STRATEGY) {
  constructor(
    private readonly sessions: SessionService,
    private readonly http: SessionHttpService,
    accessTokens: AccessTokenService,
  ) {
    super({
      passReqToCallback: true,
      // Remembers which transport carried the token; rejects tokens whose header we never issue.
      jwtFromRequest: (req: HttpRequestLike) => {
        try {
          const credential = http.credential(req);
          if (!credential || !accessTokens.keyFor(credential.token)) return null;
          req.sessionTransport = credential.transport;
          return credential.token;
        } catch {
          return null;
        }
      },
      secretOrKeyProvider: (_req: unknown, token: string, done: (err: unknown, key?: unknown) => void) =>
        done(null, accessTokens.keyFor(token)),
      algorithms: [accessTokens.algorithm],
      issuer: accessTokens.issuer,
      audience: accessTokens.audience,
    } as never);
  }

  async validate(req: HttpRequestLike, payload: unknown): Promise<SessionPrincipal> {
    try {
      return await this.sessions.authenticateVerified(payload, req.sessionTransport === 'bearer' ? 'bearer' : 'cookie', clientIp(req));
    } catch (err) {
      if (err instanceof SessionUnauthorizedError) return false as never;
      // Express exposes the response on the request; Passport gives no other way to reach it.
      throw this.http.toHttpError(err, req.res ?? { setHeader: () => undefined, append: () => undefined }, false);
    }
  }
}
