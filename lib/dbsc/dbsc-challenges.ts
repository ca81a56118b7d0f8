import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { SESSION_ID_PATTERN } from '../tokens/jwt-format.js';

/** The session a DBSC identifier names. */
export interface DbscSessionRef {
  userId: string;
  sessionId: string;
}

/** What a refresh challenge carries: when the store issued it, and the key it was issued for. */
export interface RefreshChallenge {
  issuedAt: number;
  key: string;
}

const MAC = /^[A-Za-z0-9_-]{43}$/;
const NONCE = /^[A-Za-z0-9_-]{22}$/;
const TIME = /^[0-9a-z]{1,11}$/;
const STORED_KEY = /^[ER][A-Za-z0-9_-]{40,700}$/;
const MAX_USER_ID = 256;

/**
 * Stateless, HMAC-signed values of the DBSC exchange, all bound to one session, so that issuing
 * them needs no store write and a forged one costs no store read:
 * - the session identifier `<sid>.<b64url(userId)>.<mac>` the browser echoes in `Sec-Secure-Session-Id`;
 * - registration challenges `g<time>.<nonce>.<mac>` (node clock) and the `authorization` value;
 * - refresh challenges `r<time>.<nonce>.<key>.<mac>` (store clock), carrying the device key they
 *   were issued for, so a proof is verified before the one store round trip that accepts it.
 * The key is derived from the CSRF key (HMAC with a DBSC label), so it is never the CSRF key itself.
 */
export class DbscChallenges {
  private readonly key: Buffer;

  constructor(csrfKey: Buffer | string) {
    this.key = createHmac('sha256', csrfKey).update('nestjs-jwt-session dbsc').digest();
  }

  private mac(parts: ReadonlyArray<string | number>): string {
    return createHmac('sha256', this.key).update(JSON.stringify(parts)).digest('base64url');
  }

  private same(a: string, b: string): boolean {
    return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
  }

  sessionIdentifier(ref: DbscSessionRef): string {
    const user = Buffer.from(ref.userId).toString('base64url');
    return `${ref.sessionId}.${user}.${this.mac(['i', ref.userId, ref.sessionId])}`;
  }

  /** The session an identifier names, or null when it is not one this module issued. */
  openSessionIdentifier(id: string): DbscSessionRef | null {
    const parts = id.split('.');
    if (parts.length !== 3) return null;
    const [sessionId, user, mac] = parts as [string, string, string];
    if (!SESSION_ID_PATTERN.test(sessionId) || !MAC.test(mac) || !/^[A-Za-z0-9_-]{1,400}$/.test(user)) return null;
    const userId = Buffer.from(user, 'base64url').toString('utf8');
    if (userId.length === 0 || userId.length > MAX_USER_ID) return null;
    return this.same(mac, this.mac(['i', userId, sessionId])) ? { userId, sessionId } : null;
  }

  /** The `authorization` value of the registration header: the proof must echo it. */
  authorization(ref: DbscSessionRef): string {
    return this.mac(['a', ref.userId, ref.sessionId]).slice(0, 22);
  }

  registrationChallenge(ref: DbscSessionRef, now: number): string {
    const time = now.toString(36);
    const nonce = randomBytes(16).toString('base64url');
    return `g${time}.${nonce}.${this.mac(['g', ref.userId, ref.sessionId, time, nonce])}`;
  }

  /** When a registration challenge for this session was issued, or null when it is not one. */
  openRegistrationChallenge(ref: DbscSessionRef, challenge: string): number | null {
    const parts = challenge.split('.');
    if (parts.length !== 3 || challenge[0] !== 'g') return null;
    const [time, nonce, mac] = [parts[0].slice(1), parts[1], parts[2]];
    if (!TIME.test(time) || !NONCE.test(nonce) || !MAC.test(mac)) return null;
    return this.same(mac, this.mac(['g', ref.userId, ref.sessionId, time, nonce])) ? parseInt(time, 36) : null;
  }

  refreshChallenge(ref: DbscSessionRef, c: RefreshChallenge): string {
    const time = c.issuedAt.toString(36);
    const nonce = randomBytes(16).toString('base64url');
    return `r${time}.${nonce}.${c.key}.${this.mac(['r', ref.userId, ref.sessionId, time, nonce, c.key])}`;
  }

  openRefreshChallenge(ref: DbscSessionRef, challenge: string): RefreshChallenge | null {
    const parts = challenge.split('.');
    if (parts.length !== 4 || challenge[0] !== 'r') return null;
    const [time, nonce, key, mac] = [parts[0].slice(1), parts[1], parts[2], parts[3]];
    if (!TIME.test(time) || !NONCE.test(nonce) || !STORED_KEY.test(key) || !MAC.test(mac)) return null;
    if (!this.same(mac, this.mac(['r', ref.userId, ref.sessionId, time, nonce, key]))) return null;
    return { issuedAt: parseInt(time, 36), key };
  }
}
