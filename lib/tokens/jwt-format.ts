import { InvalidTokenError } from '../session.errors.js';

/** Longest token accepted; ours are ~300 bytes, so anything near this is hostile. */
export const MAX_TOKEN_LENGTH = 2048;
const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** 128-bit ids in base64url. */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;

/** Encodes a JOSE header exactly as jsonwebtoken does, so canonical headers can be compared as text. */
export function encodeHeader(header: Record<string, string>): string {
  return Buffer.from(JSON.stringify(header)).toString('base64url');
}

/**
 * Checks the compact shape and returns the header segment. Only tokens whose header is
 * byte-for-byte one we issue are accepted, which rejects `alg: none`, algorithm confusion,
 * `crit`, `jku`/`jwk`/`x5u`/`x5c` and unknown `kid`s before any parsing or crypto.
 */
export function headerSegment(token: unknown): string {
  if (typeof token !== 'string') throw new InvalidTokenError('not_a_string');
  if (token.length > MAX_TOKEN_LENGTH) throw new InvalidTokenError('too_long');
  if (!JWS_COMPACT.test(token)) throw new InvalidTokenError('malformed');
  return token.slice(0, token.indexOf('.'));
}

/** Plain-object payload check: arrays, strings and null are refused. */
export function asClaims(payload: unknown): Record<string, unknown> {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new InvalidTokenError('payload_not_object');
  }
  return payload as Record<string, unknown>;
}

/** Common time checks jsonwebtoken does not do: `exp` required, sane `iat`/`nbf`/lifetime. */
export function checkTimes(
  claims: Record<string, unknown>,
  nowSeconds: number,
  tolerance: number,
  maxLifetime: number,
): { iat: number; exp: number } {
  const { iat, exp, nbf } = claims;
  if (!Number.isSafeInteger(exp)) throw new InvalidTokenError('exp_missing');
  if (!Number.isSafeInteger(iat)) throw new InvalidTokenError('iat_missing');
  const e = exp as number;
  const i = iat as number;
  if (e <= nowSeconds - tolerance) throw new InvalidTokenError('expired');
  if (i > nowSeconds + tolerance) throw new InvalidTokenError('iat_future');
  if (e <= i || e - i > maxLifetime) throw new InvalidTokenError('lifetime');
  if (nbf !== undefined && (!Number.isSafeInteger(nbf) || (nbf as number) > nowSeconds + tolerance)) {
    throw new InvalidTokenError('nbf');
  }
  return { iat: i, exp: e };
}

export function stringClaim(claims: Record<string, unknown>, name: string, max = 256): string {
  const v = claims[name];
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw new InvalidTokenError(`${name}_invalid`);
  return v;
}
