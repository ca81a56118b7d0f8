import { generateKeyPairSync, hkdfSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { HKDF_INFO } from '../../lib/index.js';
import { TEST_SECRET } from '../utils/sample-app.js';

/** The signing variables the sample reads (sample/signing.config.ts). */
export const SIGNING_ENV = ['SESSION_ALG', 'SESSION_PRIVATE_KEY_FILE', 'SESSION_ISSUER', 'SESSION_AUDIENCE'] as const;
export type SigningEnv = Partial<Record<(typeof SIGNING_ENV)[number], string>>;

/**
 * Sets the signing variables for the next sample started in this test file (each Jest file has
 * its own process.env) and returns a function that restores them.
 */
export function setSigningEnv(vars: SigningEnv): () => void {
  const saved = SIGNING_ENV.map((n) => [n, process.env[n]] as const);
  for (const n of SIGNING_ENV) delete process.env[n];
  Object.assign(process.env, vars);
  return () => {
    for (const [n, v] of saved) {
      if (v === undefined) delete process.env[n];
      else process.env[n] = v;
    }
  };
}

export type AsymmetricAlg = 'ES256' | 'EdDSA' | 'RS256';

export function generatePrivateKey(alg: AsymmetricAlg): KeyObject {
  if (alg === 'ES256') return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  if (alg === 'EdDSA') return generateKeyPairSync('ed25519').privateKey;
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
}

/** A PEM private key in a fresh temporary folder; `remove()` deletes the folder. */
export function writeKeyFile(key: KeyObject): { file: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'jwks-key-'));
  const file = join(dir, 'access-key.pem');
  writeFileSync(file, key.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The HS256 access-token key the module derives from TEST_SECRET (README: HKDF-SHA256, empty salt). */
export function derivedAccessKey(): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', Buffer.from(TEST_SECRET), Buffer.alloc(0), HKDF_INFO.access, 32));
}

/**
 * Signs access-token claims under exactly the header the module issues (`alg`, `typ: at+jwt`,
 * `kid` when it has one), so only the claims decide whether the token is accepted.
 */
export async function forgeAccessToken(
  key: KeyObject | Uint8Array,
  header: { alg: string; kid?: string },
  claims: Record<string, unknown>,
): Promise<string> {
  const protectedHeader = { alg: header.alg, typ: 'at+jwt', ...(header.kid ? { kid: header.kid } : {}) };
  return new SignJWT(claims).setProtectedHeader(protectedHeader).sign(key);
}
