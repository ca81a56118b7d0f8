import { verify as verifySignature } from 'node:crypto';
import { DbscRefusal } from './dbsc-errors.js';
import { DBSC_ALGORITHMS, type DbscAlgorithm, type DeviceKey } from './device-key.js';

/** A `dbsc+jwt` proof whose structure has been checked; its signature not yet. */
export interface DbscProof {
  alg: DbscAlgorithm;
  /** The `jwk` header member (registration only). */
  jwk: unknown;
  /** The challenge the proof signs. */
  jti: string;
  authorization: string | undefined;
  signingInput: string;
  signature: Buffer;
}

/** Far above what a browser sends (an RSA-4096 `jwk` proof is about 1.3 KB). */
const MAX_PROOF_LENGTH = 4096;
const MAX_CLAIM_LENGTH = 1024;
const SEGMENT = /^[A-Za-z0-9_-]+$/;
const HEADER_MEMBERS = new Set(['alg', 'typ', 'jwk']);

function json(segment: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw new DbscRefusal(400, `proof_${what}_json`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DbscRefusal(400, `proof_${what}`);
  return value as Record<string, unknown>;
}

function optionalString(value: unknown, what: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > MAX_CLAIM_LENGTH) throw new DbscRefusal(400, `proof_${what}`);
  return value;
}

/**
 * Checks a proof's shape: three base64url segments, header `typ: dbsc+jwt`, `alg` ES256 or RS256
 * (`none` and every other value refused, any casing), no member beyond `alg`/`typ`/`jwk` (so no
 * `crit`, `jku`, `x5u`), `jwk` present exactly when `registration`, and a string `jti`.
 */
export function parseDbscProof(compact: string, registration: boolean): DbscProof {
  if (compact.length > MAX_PROOF_LENGTH) throw new DbscRefusal(400, 'proof_too_long');
  const parts = compact.split('.');
  if (parts.length !== 3 || !parts.every((p) => SEGMENT.test(p))) throw new DbscRefusal(400, 'proof_format');
  const [h, p, s] = parts as [string, string, string];
  const header = json(h, 'header');
  const payload = json(p, 'payload');
  if (header.typ !== 'dbsc+jwt') throw new DbscRefusal(400, 'proof_typ');
  if (!DBSC_ALGORITHMS.includes(header.alg as DbscAlgorithm)) throw new DbscRefusal(400, 'proof_alg');
  if (Object.keys(header).some((k) => !HEADER_MEMBERS.has(k))) throw new DbscRefusal(400, 'proof_header_member');
  if (registration !== (header.jwk !== undefined)) throw new DbscRefusal(400, 'proof_jwk');
  const jti = optionalString(payload.jti, 'jti');
  if (!jti) throw new DbscRefusal(400, 'proof_jti');
  return {
    alg: header.alg as DbscAlgorithm,
    jwk: header.jwk,
    jti,
    authorization: optionalString(payload.authorization, 'authorization'),
    signingInput: `${h}.${p}`,
    signature: Buffer.from(s, 'base64url'),
  };
}

/** Verifies the signature with `key` (ES256: raw r‖s as JWS writes it; RS256: PKCS#1 v1.5); 401 when it fails. */
export function verifyDbscProof(proof: DbscProof, key: DeviceKey): void {
  if (proof.alg !== key.alg) throw new DbscRefusal(401, 'proof_alg_mismatch');
  const data = Buffer.from(proof.signingInput);
  let ok: boolean;
  try {
    ok =
      key.alg === 'ES256'
        ? proof.signature.length === 64 &&
          verifySignature('sha256', data, { key: key.key, dsaEncoding: 'ieee-p1363' }, proof.signature)
        : verifySignature('sha256', data, key.key, proof.signature);
  } catch {
    // A signature of the wrong size or shape: refused like a wrong one.
    ok = false;
  }
  if (!ok) throw new DbscRefusal(401, 'proof_signature');
}
