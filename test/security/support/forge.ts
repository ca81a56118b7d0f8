/**
 * Hand-made JWTs for hostile-input tests. Keys are derived from TEST_SECRET exactly as the README
 * documents (HKDF-SHA256, empty salt, 32 bytes), so a forged token differs from a real one only in
 * the part a case changes.
 */
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { HKDF_INFO } from '../../../lib/index.js';
import { TEST_SECRET } from '../../utils/sample-app.js';

export const b64url = (v: string | Buffer): string => Buffer.from(v).toString('base64url');
const json = (v: unknown): string => b64url(JSON.stringify(v));

function derive(info: string, secret = TEST_SECRET): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), info, 32));
}

export const ACCESS_KEY = derive(HKDF_INFO.access);
export const REFRESH_KEY = derive(HKDF_INFO.refresh);
/** Key a deployment with another secret would use. */
export const OTHER_ACCESS_KEY = derive(HKDF_INFO.access, 'Another-Strong-Secret-9f8e7d6c5b4a3Z2Y1X0W');

export const ACCESS_HEADER = { alg: 'HS256', typ: 'at+jwt' };
export const REFRESH_HEADER = { alg: 'HS256', typ: 'rt+jwt' };

/** Signs `header.payload` with HMAC; `hash` picks HS256/384/512. Segments may be raw strings. */
export function sign(
  header: object | string,
  payload: unknown,
  key: Buffer = ACCESS_KEY,
  hash: 'sha256' | 'sha384' | 'sha512' = 'sha256',
): string {
  const h = typeof header === 'string' ? header : json(header);
  const p = typeof payload === 'string' ? payload : json(payload);
  const sig = createHmac(hash, key).update(`${h}.${p}`).digest('base64url');
  return `${h}.${p}.${sig}`;
}

export const newSid = (): string => randomBytes(16).toString('base64url');

/** Claims of a well-formed access token; `over` replaces (or with `undefined`, drops) claims. */
export function accessClaims(sub: string, sid: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  const iat = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    sub,
    sid,
    jti: b64url(randomBytes(12)),
    typ: 'access',
    iat,
    exp: iat + 600,
    ...over,
  };
  for (const k of Object.keys(claims)) if (claims[k] === undefined) delete claims[k];
  return claims;
}

/** Decodes a compact JWT's payload (no verification). */
export function payloadOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}
