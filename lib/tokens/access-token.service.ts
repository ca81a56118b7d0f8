import { KeyObject, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import type { ResolvedSessionOptions } from '../session-options.js';
import { SESSION_RESOLVED_OPTIONS } from '../session.internal-constants.js';
import { asClaims, checkTimes, encodeHeader, headerSegment, SESSION_ID_PATTERN, stringClaim } from './jwt-format.js';
import { InvalidTokenError } from './token-errors.js';

/** Header and payload `typ` of access tokens (RFC 9068 style header). */
export const ACCESS_HEADER_TYP = 'at+jwt';

/** Verified access-token claims. */
export interface AccessClaims {
  sub: string;
  sid: string;
  jti: string;
  iat: number;
  exp: number;
}

/** Issues and verifies access tokens. Keys and JwtService instances are built once. */
@Injectable()
export class AccessTokenService {
  private readonly signer: JwtService;
  /** Canonical header segment → verifier for that key. */
  private readonly verifiers = new Map<string, JwtService>();
  private readonly keysByHeader = new Map<string, KeyObject>();

  constructor(@Inject(SESSION_RESOLVED_OPTIONS) private readonly options: ResolvedSessionOptions) {
    const { algorithm, kid, signKey, verifyKey, issuer, audience, previousKeys } = options.access;
    // jsonwebtoken rejects `issuer: undefined`, so the claims are only named when configured.
    const claimOptions = { ...(issuer ? { issuer } : {}), ...(audience ? { audience } : {}) };
    const verifyOptions = { algorithms: [algorithm], clockTolerance: options.clockTolerance, ...claimOptions };
    const header: Record<string, string> = { alg: algorithm, typ: ACCESS_HEADER_TYP };
    if (kid) header.kid = kid;
    // jsonwebtoken accepts KeyObjects; @nestjs/jwt's types only name strings and Buffers.
    const keyOpts = (sign: unknown, verify: unknown) =>
      algorithm === 'HS256'
        ? { secret: sign as string }
        : { privateKey: sign as string, publicKey: verify as string };
    this.signer = new JwtService({
      ...keyOpts(signKey, verifyKey),
      signOptions: { algorithm, header: header as never, ...claimOptions },
      verifyOptions,
    });
    this.verifiers.set(encodeHeader(header), this.signer);
    this.keysByHeader.set(encodeHeader(header), verifyKey);
    for (const [oldKid, key] of previousKeys) {
      const segment = encodeHeader({ alg: algorithm, typ: ACCESS_HEADER_TYP, kid: oldKid });
      this.verifiers.set(segment, new JwtService({ ...keyOpts(key, key), verifyOptions }));
      this.keysByHeader.set(segment, key);
    }
  }

  get algorithm(): string {
    return this.options.access.algorithm;
  }

  get issuer(): string | undefined {
    return this.options.access.issuer;
  }

  get audience(): string | undefined {
    return this.options.access.audience;
  }

  /** Signs a new access token for a session. `now` in ms. */
  issue(userId: string, sessionId: string, now: number): { token: string; expiresAt: number } {
    const iat = Math.floor(now / 1000);
    const exp = iat + this.options.accessTtl;
    const jti = randomBytes(12).toString('base64url');
    const token = this.signer.sign({ sub: userId, sid: sessionId, jti, typ: 'access', iat, exp });
    return { token, expiresAt: exp };
  }

  /** Verifies signature first, then every claim; throws `InvalidTokenError`. `now` in ms. */
  verify(token: unknown, now: number): AccessClaims {
    const verifier = this.verifiers.get(headerSegment(token));
    if (!verifier) throw new InvalidTokenError('header');
    let payload: unknown;
    try {
      payload = verifier.verify(token as string, { clockTimestamp: Math.floor(now / 1000) });
    } catch {
      throw new InvalidTokenError('signature_or_claims');
    }
    return this.checkClaims(payload, now);
  }

  /** Claim checks on a payload whose signature was verified. */
  checkClaims(payload: unknown, now: number): AccessClaims {
    const claims = asClaims(payload);
    if (claims.typ !== 'access') throw new InvalidTokenError('typ');
    const sid = stringClaim(claims, 'sid', 22);
    if (!SESSION_ID_PATTERN.test(sid)) throw new InvalidTokenError('sid_invalid');
    const nowSeconds = Math.floor(now / 1000);
    const { iat, exp } = checkTimes(claims, nowSeconds, this.options.clockTolerance, this.options.accessTtl);
    return { sub: stringClaim(claims, 'sub'), sid, jti: stringClaim(claims, 'jti', 64), iat, exp };
  }

  /** Verification key for a token whose header is one we issue, else undefined (Passport path). */
  keyFor(token: unknown): KeyObject | undefined {
    try {
      return this.keysByHeader.get(headerSegment(token));
    } catch {
      return undefined;
    }
  }
}
