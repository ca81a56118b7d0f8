import { createHash, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';

/** A public signing key as published in a JWKS (RFC 7517). */
export interface SessionJwk {
  kty: string;
  kid: string;
  alg: string;
  use: 'sig';
  crv?: string;
  n?: string;
  e?: string;
  x?: string;
  y?: string;
}

/** The members RFC 7638 hashes for each key type, in the order it prescribes. */
const THUMBPRINT_MEMBERS: Record<string, readonly string[]> = {
  RSA: ['e', 'kty', 'n'],
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
};

/**
 * The public members of a key as a JWK, or undefined when Node cannot export it (RSA-PSS typed
 * keys). A private KeyObject is reduced to its public half first, and only public members are
 * copied, so a private parameter can never reach the document.
 */
export function publicJwk(key: KeyObject): JsonWebKey | undefined {
  let jwk: JsonWebKey;
  try {
    jwk = (key.type === 'public' ? key : createPublicKey(key)).export({ format: 'jwk' });
  } catch {
    return undefined;
  }
  const members = jwk.kty ? THUMBPRINT_MEMBERS[jwk.kty] : undefined;
  if (!members) return undefined;
  const out: JsonWebKey = {};
  for (const m of members) out[m] = jwk[m];
  return out;
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url): a stable `kid` for a key that was given none. */
export function jwkThumbprint(jwk: JsonWebKey): string {
  const members = THUMBPRINT_MEMBERS[jwk.kty ?? ''] ?? [];
  const canonical = `{${members.map((m) => `${JSON.stringify(m)}:${JSON.stringify(jwk[m])}`).join(',')}}`;
  return createHash('sha256').update(canonical).digest('base64url');
}
