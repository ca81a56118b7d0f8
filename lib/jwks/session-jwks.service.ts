import type { KeyObject } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ResolvedSessionOptions } from '../session-options.js';
import { SESSION_RESOLVED_OPTIONS } from '../session.internal-constants.js';
import { AccessTokenService } from '../tokens/access-token.service.js';
import { jwkThumbprint, publicJwk, type SessionJwk } from './jwk.js';

/** A JWK Set document (RFC 7517 §5). */
export interface SessionJwks {
  keys: SessionJwk[];
}

/**
 * The public keys of asymmetric access tokens as a JWKS, for services that verify our access
 * tokens themselves: the current key, announced `nextKeys`, and `previousKeys` while they still
 * verify. With HS256 there is nothing to publish (`jwks()` answers undefined). Mount it with the
 * ready-made `SessionJwksController` or from a route of your own.
 * @publicApi
 */
@Injectable()
export class SessionJwksService {
  private readonly logger = new Logger('SessionJwks');
  private readonly current: SessionJwk[] = [];
  private readonly next: SessionJwk[] = [];
  private readonly previous: SessionJwk[] = [];

  constructor(
    @Inject(SESSION_RESOLVED_OPTIONS) private readonly options: ResolvedSessionOptions,
    private readonly accessTokens: AccessTokenService,
  ) {
    const { algorithm, kid, verifyKey, previousKeys, nextKeys } = options.access;
    if (algorithm === 'HS256') return;
    // Tokens carry a kid only when one is configured; the JWKS needs one anyway (RFC 7638 thumbprint).
    this.add(this.current, kid, verifyKey);
    for (const [k, key] of nextKeys) this.add(this.next, k, key);
    for (const [k, key] of previousKeys) this.add(this.previous, k, key);
  }

  private add(list: SessionJwk[], kid: string | undefined, key: KeyObject): void {
    const jwk = publicJwk(key);
    if (!jwk) {
      this.logger.warn(
        `a ${key.asymmetricKeyType ?? 'non-asymmetric'} key cannot be published as a JWK; give it as a plain RSA/EC/Ed25519 key`,
      );
      return;
    }
    list.push({
      ...(jwk as Omit<SessionJwk, 'kid' | 'alg' | 'use'>),
      kid: kid ?? jwkThumbprint(jwk),
      alg: this.options.access.algorithm,
      use: 'sig',
    });
  }

  /** Whether access tokens are signed with a public-key algorithm (so there is a JWKS at all). */
  get published(): boolean {
    return this.options.access.algorithm !== 'HS256';
  }

  /** The JWKS now: current, next, then previous keys until their tokens have expired. Undefined with HS256. */
  jwks(): SessionJwks | undefined {
    if (!this.published) return undefined;
    const previous = this.options.clock() <= this.accessTokens.previousKeysValidUntil ? this.previous : [];
    return { keys: [...this.current, ...this.next, ...previous].map((k) => ({ ...k })) };
  }
}
