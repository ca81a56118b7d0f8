import { createHmac, KeyObject, randomBytes, sign, timingSafeEqual, verify } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import type { Algorithm } from 'jsonwebtoken';
import type { ResolvedSessionOptions } from '../session-options.js';
import { SESSION_RESOLVED_OPTIONS } from '../session.internal-constants.js';
import { asClaims, checkTimes, encodeHeader, headerSegment, SESSION_ID_PATTERN, stringClaim } from './jwt-format.js';
import { InvalidTokenError } from '../session.errors.js';

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
  /** The canonical header segment of the tokens this service signs. */
  private readonly header: string;
  /** HS256 and EdDSA are checked here (`verifyDirect`); the others by jsonwebtoken. */
  private readonly direct: boolean;
  /** Canonical header segment → jsonwebtoken verifier for that key (RS256, PS256, ES256 only). */
  private readonly verifiers = new Map<string, JwtService>();
  private readonly keysByHeader = new Map<string, KeyObject>();
  /** Header segments of `previousKeys`, and when they stop verifying (ms). */
  private readonly retired = new Set<string>();
  private readonly retiredUntil: number;

  constructor(@Inject(SESSION_RESOLVED_OPTIONS) private readonly options: ResolvedSessionOptions) {
    const { algorithm, kid, signKey, verifyKey, issuer, audience, previousKeys } = options.access;
    // jsonwebtoken rejects `issuer: undefined`, so the claims are only named when configured.
    const claimOptions = { ...(issuer ? { issuer } : {}), ...(audience ? { audience } : {}) };
    // EdDSA never reaches jsonwebtoken (it has no EdDSA): signEdDsa and verifyDirect handle it.
    const jwtAlgorithm = algorithm as Algorithm;
    const verifyOptions = { algorithms: [jwtAlgorithm], clockTolerance: options.clockTolerance, ...claimOptions };
    const header: Record<string, string> = { alg: algorithm, typ: ACCESS_HEADER_TYP };
    if (kid) header.kid = kid;
    // jsonwebtoken accepts KeyObjects; @nestjs/jwt's types only name strings and Buffers.
    const keyOpts = (sign: unknown, verify: unknown) =>
      algorithm === 'HS256' ? { secret: sign as string } : { privateKey: sign as string, publicKey: verify as string };
    this.signer = new JwtService({
      ...keyOpts(signKey, verifyKey),
      signOptions: { algorithm: jwtAlgorithm, header: header as never, ...claimOptions },
      verifyOptions,
    });
    this.direct = algorithm === 'HS256' || algorithm === 'EdDSA';
    const segment = encodeHeader(header);
    this.header = segment;
    if (!this.direct) this.verifiers.set(segment, this.signer);
    this.keysByHeader.set(segment, verifyKey);
    const accept = (otherKid: string, key: KeyObject): string => {
      const segment = encodeHeader({ alg: algorithm, typ: ACCESS_HEADER_TYP, kid: otherKid });
      if (!this.direct) this.verifiers.set(segment, new JwtService({ ...keyOpts(key, key), verifyOptions }));
      this.keysByHeader.set(segment, key);
      return segment;
    };
    for (const [oldKid, key] of previousKeys) this.retired.add(accept(oldKid, key));
    // Announced keys verify for as long as they are configured: another replica may already sign with one.
    for (const [nextKid, key] of options.access.nextKeys) accept(nextKid, key);
    // Every token signed with a previous key before this process started has expired one access
    // lifetime later; after that, an old-kid token can only come from a retired (maybe leaked) key.
    this.retiredUntil = options.clock() + (options.accessTtl + options.clockTolerance) * 1000;
  }

  /** The verification key (or verifier) for a header, unless it is absent or a retired key past its time. */
  private forHeader<T>(map: Map<string, T>, segment: string, now: number): T {
    const found = map.get(segment);
    if (!found) throw new InvalidTokenError('header');
    if (now > this.retiredUntil && this.retired.has(segment)) throw new InvalidTokenError('retired_key');
    return found;
  }

  get algorithm(): string {
    return this.options.access.algorithm;
  }

  /** Until when (epoch ms) tokens of `previousKeys` still verify. */
  get previousKeysValidUntil(): number {
    return this.retiredUntil;
  }

  get issuer(): string | undefined {
    return this.options.access.issuer;
  }

  get audience(): string | undefined {
    return this.options.access.audience;
  }

  /**
   * Signs a new access token for a session. `now` in ms. `fixed` pins `iat` (seconds) and `jti`,
   * so a refresh replayed inside the grace window answers the very same token.
   */
  issue(
    userId: string,
    sessionId: string,
    now: number,
    fixed?: { iat: number; jti: string },
  ): { token: string; expiresAt: number } {
    const iat = fixed?.iat ?? Math.floor(now / 1000);
    const exp = iat + this.options.accessTtl;
    const jti = fixed?.jti ?? randomBytes(12).toString('base64url');
    const claims = { sub: userId, sid: sessionId, jti, typ: 'access', iat, exp };
    const token = this.options.access.algorithm === 'EdDSA' ? this.signEdDsa(claims) : this.signer.sign(claims);
    return { token, expiresAt: exp };
  }

  /** jsonwebtoken has no EdDSA: Ed25519 over the compact serialization, with the claims jsonwebtoken would add. */
  private signEdDsa(claims: Record<string, unknown>): string {
    const { issuer, audience, signKey } = this.options.access;
    const payload = { ...claims, ...(issuer ? { iss: issuer } : {}), ...(audience ? { aud: audience } : {}) };
    const input = `${this.header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
    return `${input}.${sign(null, Buffer.from(input), signKey).toString('base64url')}`;
  }

  /** Verifies signature first, then every claim; throws `InvalidTokenError`. `now` in ms. */
  verify(token: unknown, now: number): AccessClaims {
    const segment = headerSegment(token);
    if (this.direct) {
      const key = this.forHeader(this.keysByHeader, segment, now);
      return this.checkClaims(this.verifyDirect(token as string, key, now), now);
    }
    const verifier = this.forHeader(this.verifiers, segment, now);
    let payload: unknown;
    try {
      payload = verifier.verify(token as string, { clockTimestamp: Math.floor(now / 1000) });
    } catch {
      throw new InvalidTokenError('signature_or_claims');
    }
    return this.checkClaims(payload, now);
  }

  /**
   * HS256 and EdDSA without JOSE parsing (HS256: about 2.5× cheaper than jsonwebtoken, which has
   * no EdDSA at all): the header is already known byte for byte, so what is left is the signature
   * — an HMAC compared as base64url text in constant time like jws does, or Ed25519 over exactly
   * the bytes sent — then exactly the checks jsonwebtoken makes with our options (nbf, exp, iss,
   * aud), failing with the same reason. `checkClaims` follows.
   */
  private verifyDirect(token: string, key: KeyObject, now: number): unknown {
    const dot = token.lastIndexOf('.');
    if (!this.signatureValid(token.slice(0, dot), token.slice(dot + 1), key)) {
      throw new InvalidTokenError('signature_or_claims');
    }
    // As jsonwebtoken's decode: a payload that is not a JSON object stays text (refused by checkClaims).
    let payload: unknown = Buffer.from(token.slice(token.indexOf('.') + 1, dot), 'base64url').toString('utf8');
    try {
      const parsed: unknown = JSON.parse(payload as string);
      if (parsed !== null && typeof parsed === 'object') payload = parsed;
    } catch {
      // stays text
    }
    const claims = payload as Record<string, unknown>;
    const nowSeconds = Math.floor(now / 1000);
    const tolerance = this.options.clockTolerance;
    const { issuer, audience } = this.options.access;
    const { nbf, exp, iss, aud } = claims;
    if (
      (nbf !== undefined && (typeof nbf !== 'number' || nbf > nowSeconds + tolerance)) ||
      (exp !== undefined && (typeof exp !== 'number' || nowSeconds >= exp + tolerance)) ||
      (issuer && iss !== issuer) ||
      (audience && aud !== audience && !(Array.isArray(aud) && aud.includes(audience)))
    ) {
      throw new InvalidTokenError('signature_or_claims');
    }
    return payload;
  }

  private signatureValid(input: string, signatureText: string, key: KeyObject): boolean {
    if (this.options.access.algorithm === 'EdDSA') {
      const signature = Buffer.from(signatureText, 'base64url');
      // The decoder skips stray characters: only the canonical text of a 64-byte signature counts.
      return (
        signature.length === 64 &&
        signature.toString('base64url') === signatureText &&
        verify(null, Buffer.from(input), key, signature)
      );
    }
    const signature = Buffer.from(signatureText);
    const expected = Buffer.from(createHmac('sha256', key).update(input).digest('base64url'));
    return signature.length === expected.length && timingSafeEqual(signature, expected);
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
      return this.forHeader(this.keysByHeader, headerSegment(token), this.options.clock());
    } catch {
      return undefined;
    }
  }
}
