import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import type { ResolvedSessionOptions } from '../session-options.js';
import { SESSION_RESOLVED_OPTIONS } from '../session.internal-constants.js';
import { asClaims, checkTimes, encodeHeader, headerSegment, SESSION_ID_PATTERN, stringClaim } from './jwt-format.js';
import { InvalidTokenError } from '../session.errors.js';

export const REFRESH_HEADER_TYP = 'rt+jwt';

/** Verified refresh-token claims. */
export interface RefreshClaims {
  sub: string;
  sid: string;
  gen: number;
  iat: number;
  exp: number;
}

/**
 * Refresh tokens are deterministic: (sub, sid, generation, iat, exp) signed with the refresh key.
 * The store keeps only a hash, yet the server can re-create the current successor for clients
 * that lost a refresh race inside the grace window.
 */
@Injectable()
export class RefreshTokenService {
  private readonly jwt: JwtService;
  private readonly header: string;

  constructor(@Inject(SESSION_RESOLVED_OPTIONS) private readonly options: ResolvedSessionOptions) {
    const header = { alg: 'HS256', typ: REFRESH_HEADER_TYP };
    this.header = encodeHeader(header);
    this.jwt = new JwtService({
      secret: options.refreshKey as unknown as string,
      signOptions: { algorithm: 'HS256', header: header },
      verifyOptions: { algorithms: ['HS256'], clockTolerance: options.clockTolerance },
    });
  }

  /** Signs generation `gen` of a session's refresh token; `exp` is the absolute deadline (seconds). */
  sign(userId: string, sessionId: string, gen: number, iat: number, exp: number): string {
    return this.jwt.sign({ sub: userId, sid: sessionId, gen, typ: 'refresh', iat, exp });
  }

  /** Short digest kept in the store instead of the token. */
  hash(token: string): string {
    return createHash('sha256').update(token).digest().subarray(0, 16).toString('base64url');
  }

  /** `jti` of the access token issued with a refresh token: derived from it, so every answer with that successor is identical. */
  accessJti(token: string): string {
    return createHash('sha256').update('access-jti\0').update(token).digest().subarray(0, 12).toString('base64url');
  }

  verify(token: unknown, now: number): RefreshClaims {
    if (headerSegment(token) !== this.header) throw new InvalidTokenError('header');
    const nowSeconds = Math.floor(now / 1000);
    let payload: unknown;
    try {
      payload = this.jwt.verify(token as string, { clockTimestamp: nowSeconds });
    } catch {
      throw new InvalidTokenError('signature_or_claims');
    }
    const claims = asClaims(payload);
    if (claims.typ !== 'refresh') throw new InvalidTokenError('typ');
    const sid = stringClaim(claims, 'sid', 22);
    if (!SESSION_ID_PATTERN.test(sid)) throw new InvalidTokenError('sid_invalid');
    if (!Number.isSafeInteger(claims.gen) || (claims.gen as number) < 0) throw new InvalidTokenError('gen_invalid');
    const maxLifetime = Math.ceil(this.options.absoluteTimeoutMs / 1000);
    const { iat, exp } = checkTimes(claims, nowSeconds, this.options.clockTolerance, maxLifetime);
    return { sub: stringClaim(claims, 'sub'), sid, gen: claims.gen as number, iat, exp };
  }
}
