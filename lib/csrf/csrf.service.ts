import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { ResolvedSessionOptions } from '../session-options.js';
import { SESSION_RESOLVED_OPTIONS } from '../session.internal-constants.js';

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/;

/**
 * HMAC CSRF tokens bound to the session (OWASP "signed double submit"):
 * `<random>.<HMAC(csrfKey, sessionId "." random)>`. A token minted for another session fails.
 */
@Injectable()
export class CsrfService {
  constructor(@Inject(SESSION_RESOLVED_OPTIONS) private readonly options: ResolvedSessionOptions) {}

  issue(sessionId: string): string {
    const nonce = randomBytes(16).toString('base64url');
    return `${nonce}.${this.mac(sessionId, nonce)}`;
  }

  verify(sessionId: string, token: unknown): boolean {
    if (typeof token !== 'string' || !TOKEN_PATTERN.test(token)) return false;
    const [nonce, mac] = token.split('.') as [string, string];
    return timingSafeEqual(Buffer.from(mac), Buffer.from(this.mac(sessionId, nonce)));
  }

  private mac(sessionId: string, nonce: string): string {
    return createHmac('sha256', this.options.csrfKey).update(`${sessionId}.${nonce}`).digest('base64url');
  }
}
