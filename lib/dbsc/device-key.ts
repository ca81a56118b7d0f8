import { createPublicKey, ECDH, type KeyObject } from 'node:crypto';
import { DbscRefusal } from './dbsc-errors.js';

/** Signature algorithms the module offers and accepts for device keys (never `none`). */
export type DbscAlgorithm = 'ES256' | 'RS256';
export const DBSC_ALGORITHMS: readonly DbscAlgorithm[] = ['ES256', 'RS256'];

/** A device public key, usable for verification, with its compact stored form. */
export interface DeviceKey {
  alg: DbscAlgorithm;
  key: KeyObject;
  /**
   * `E` + base64url of the compressed P-256 point (45 chars: a short field of the packed session
   * record), or `R` + base64url of the RSA modulus (the exponent must be 65537).
   */
  stored: string;
}

const B64URL = /^[A-Za-z0-9_-]+$/;
const MIN_RSA_BYTES = 256;
const MAX_RSA_BYTES = 512;

function bytes(value: unknown, what: string): Buffer {
  if (typeof value !== 'string' || value.length > 700 || !B64URL.test(value)) throw new DbscRefusal(400, `jwk_${what}`);
  return Buffer.from(value, 'base64url');
}

function publicKey(jwk: Record<string, string>): KeyObject {
  try {
    return createPublicKey({ key: jwk, format: 'jwk' });
  } catch {
    throw new DbscRefusal(400, 'jwk_invalid');
  }
}

/** The device key a registration proof names in its `jwk` header; only P-256 (ES256) and RSA ≥ 2048 bits (RS256). */
export function deviceKeyFromJwk(alg: DbscAlgorithm, jwk: unknown): DeviceKey {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw new DbscRefusal(400, 'jwk_missing');
  const j = jwk as Record<string, unknown>;
  if (alg === 'ES256') {
    if (j.kty !== 'EC' || j.crv !== 'P-256') throw new DbscRefusal(400, 'jwk_type');
    const x = bytes(j.x, 'x');
    const y = bytes(j.y, 'y');
    if (x.length !== 32 || y.length !== 32) throw new DbscRefusal(400, 'jwk_size');
    // Builds the key first: OpenSSL refuses a point that is not on the curve.
    const key = publicKey({ kty: 'EC', crv: 'P-256', x: j.x as string, y: j.y as string });
    const compressed = Buffer.concat([Buffer.of(y[31] & 1 ? 3 : 2), x]);
    return { alg, key, stored: 'E' + compressed.toString('base64url') };
  }
  if (j.kty !== 'RSA' || j.e !== 'AQAB') throw new DbscRefusal(400, 'jwk_type');
  const n = bytes(j.n, 'n');
  if (n.length < MIN_RSA_BYTES || n.length > MAX_RSA_BYTES || n[0] === 0) throw new DbscRefusal(400, 'jwk_size');
  return { alg, key: publicKey({ kty: 'RSA', n: j.n as string, e: 'AQAB' }), stored: 'R' + (j.n as string) };
}

/** The key back from its stored form. Throws on a form this module never writes. */
export function deviceKeyFromStored(stored: string): DeviceKey {
  const body = stored.slice(1);
  if (stored[0] === 'E') {
    const point = ECDH.convertKey(Buffer.from(body, 'base64url'), 'prime256v1', undefined, undefined, 'uncompressed');
    const raw = Buffer.isBuffer(point) ? point : Buffer.from(point, 'latin1');
    const x = raw.subarray(1, 33).toString('base64url');
    const y = raw.subarray(33, 65).toString('base64url');
    return { alg: 'ES256', key: publicKey({ kty: 'EC', crv: 'P-256', x, y }), stored };
  }
  if (stored[0] === 'R') return { alg: 'RS256', key: publicKey({ kty: 'RSA', n: body, e: 'AQAB' }), stored };
  throw new Error('dbsc: unknown stored key form');
}
