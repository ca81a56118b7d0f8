import { createPrivateKey, createPublicKey, createSecretKey, hkdfSync, KeyObject, sign, verify } from 'node:crypto';
import type {
  AccessTokenAlgorithm,
  KeyInput,
  PreviousAccessKey,
  SessionModuleOptions,
} from './interfaces/session-module-options.interface.js';
import { assertStrongSecret, MIN_SECRET_BYTES } from './secret-strength.js';
import { SessionConfigError } from './session.errors.js';

/**
 * Signing and MAC keys. From one master `secret` each purpose gets its own key with HKDF-SHA256
 * (RFC 5869, empty salt, 32 bytes); explicit per-purpose keys and asymmetric pairs replace them.
 */

/** HKDF `info` strings; documented in the README so other services can derive the same keys. */
export const HKDF_INFO = {
  access: 'nestjs-jwt-session access-token',
  refresh: 'nestjs-jwt-session refresh-token',
  csrf: 'nestjs-jwt-session csrf',
  log: 'nestjs-jwt-session log',
} as const;

/** Every key the module uses, after derivation and checks. */
export interface SessionKeyMaterial {
  access: {
    algorithm: AccessTokenAlgorithm;
    issuer: string | undefined;
    audience: string | undefined;
    kid: string | undefined;
    signKey: KeyObject;
    verifyKey: KeyObject;
    previousKeys: Map<string, KeyObject>;
    /** Announced keys: verifying and published, not yet signing. */
    nextKeys: Map<string, KeyObject>;
  };
  refreshKey: KeyObject;
  csrfKey: Buffer;
  logKey: Buffer;
}

function hkdf(master: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), info, 32));
}

function secretKey(input: KeyInput, what: string): KeyObject {
  if (input instanceof KeyObject) {
    if (input.type !== 'secret') throw new SessionConfigError(`${what} must be a secret key`);
    if ((input.symmetricKeySize ?? 0) < MIN_SECRET_BYTES) {
      throw new SessionConfigError(`${what} must be at least ${MIN_SECRET_BYTES} bytes`);
    }
    return input;
  }
  return createSecretKey(assertStrongSecret(input, what));
}

/**
 * Checks an asymmetric key against its algorithm now, because jsonwebtoken would only refuse a
 * small RSA key or a non-P-256 curve when the first token is signed (a 500 at the first login).
 */
function assertAsymmetricKey(key: KeyObject, algorithm: AccessTokenAlgorithm, what: string): void {
  const expected = algorithm === 'ES256' ? 'ec' : algorithm === 'EdDSA' ? 'ed25519' : 'rsa';
  const type = key.asymmetricKeyType;
  if (type !== expected && !(expected === 'rsa' && type === 'rsa-pss')) {
    throw new SessionConfigError(`${what} is a ${type ?? key.type} key; ${algorithm} needs ${expected}`);
  }
  const details = key.asymmetricKeyDetails ?? {};
  if (expected === 'rsa' && (details.modulusLength ?? 0) < 2048) {
    throw new SessionConfigError(
      `${what} is a ${details.modulusLength}-bit RSA key; ${algorithm} needs at least 2048 bits`,
    );
  }
  if (expected === 'ec' && details.namedCurve !== 'prime256v1') {
    throw new SessionConfigError(`${what} is on curve ${details.namedCurve}; ES256 needs a P-256 (prime256v1) key`);
  }
}

function assertKid(kid: string, what: string): string {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(kid)) {
    throw new SessionConfigError(`${what} must be 1-64 characters of [A-Za-z0-9._-]`);
  }
  return kid;
}

function resolveAccessKeys(options: SessionModuleOptions, master: Buffer | undefined) {
  const a = options.accessToken ?? {};
  const algorithm = a.algorithm ?? 'HS256';
  if (!['HS256', 'RS256', 'PS256', 'ES256', 'EdDSA'].includes(algorithm)) {
    throw new SessionConfigError(
      `accessToken.algorithm "${algorithm}" is not supported (HS256, RS256, PS256, ES256, EdDSA)`,
    );
  }
  const kid = a.kid === undefined ? undefined : assertKid(a.kid, 'accessToken.kid');
  let signKey: KeyObject;
  let verifyKey: KeyObject;
  const asymmetric = algorithm !== 'HS256';
  if (!asymmetric) {
    if (a.secret !== undefined) signKey = secretKey(a.secret, 'accessToken.secret');
    else if (master) signKey = createSecretKey(hkdf(master, HKDF_INFO.access));
    else throw new SessionConfigError('set `secret` (or accessToken.secret)');
    verifyKey = signKey;
  } else {
    if (!a.privateKey || !a.publicKey) {
      throw new SessionConfigError(`accessToken.privateKey and accessToken.publicKey are required for ${algorithm}`);
    }
    signKey = a.privateKey instanceof KeyObject ? a.privateKey : createPrivateKey(a.privateKey);
    verifyKey = a.publicKey instanceof KeyObject ? a.publicKey : createPublicKey(a.publicKey);
    assertAsymmetricKey(verifyKey, algorithm, 'accessToken.publicKey');
    // A pair that does not match would start fine and then refuse every token it issued.
    const probe = Buffer.from('nestjs-jwt-session key check');
    let matches: boolean;
    try {
      const digest = algorithm === 'EdDSA' ? null : 'sha256'; // Ed25519 hashes internally
      matches = verify(digest, probe, verifyKey, sign(digest, probe, signKey));
    } catch {
      matches = false;
    }
    if (!matches) throw new SessionConfigError('accessToken.privateKey and accessToken.publicKey do not match');
  }
  const extraKeys = (list: PreviousAccessKey[] | undefined, name: 'previousKeys' | 'nextKeys', taken: Set<string>) => {
    const keys = new Map<string, KeyObject>();
    for (const entry of list ?? []) {
      const k = assertKid(entry.kid, `accessToken.${name}[].kid`);
      if (k === kid) throw new SessionConfigError(`accessToken.${name} kid "${k}" equals the current kid`);
      // One kid, one key: a kid listed twice would make the key a token is checked with depend on order.
      if (taken.has(k)) throw new SessionConfigError(`accessToken.${name} kid "${k}" is listed twice`);
      taken.add(k);
      const what = `accessToken.${name}["${k}"]`;
      if (asymmetric) {
        const key = entry.key instanceof KeyObject ? entry.key : createPublicKey(entry.key);
        assertAsymmetricKey(key, algorithm, what);
        keys.set(k, key);
      } else {
        keys.set(k, secretKey(entry.key, what));
      }
    }
    if (keys.size > 0 && kid === undefined) {
      throw new SessionConfigError(`accessToken.kid is required when accessToken.${name} are given`);
    }
    return keys;
  };
  const taken = new Set<string>();
  const previousKeys = extraKeys(a.previousKeys, 'previousKeys', taken);
  const nextKeys = extraKeys(a.nextKeys, 'nextKeys', taken);
  return { algorithm, issuer: a.issuer, audience: a.audience, kid, signKey, verifyKey, previousKeys, nextKeys };
}

/** Derives or checks every key; `master` is the already-checked `secret`, if any. */
export function resolveSessionKeys(options: SessionModuleOptions, master: Buffer | undefined): SessionKeyMaterial {
  const access = resolveAccessKeys(options, master);
  const derive = (explicit: KeyInput | undefined, info: string, what: string): Buffer => {
    if (explicit !== undefined) {
      return explicit instanceof KeyObject ? secretKey(explicit, what).export() : assertStrongSecret(explicit, what);
    }
    if (!master) throw new SessionConfigError(`set \`secret\` (or ${what})`);
    return hkdf(master, info);
  };
  const refreshKey = createSecretKey(derive(options.refreshSecret, HKDF_INFO.refresh, 'refreshSecret'));
  const csrfKey = derive(options.csrfSecret, HKDF_INFO.csrf, 'csrfSecret');
  // Log hashes only need to be stable per deployment, so any key material will do.
  const logKey = hkdf(master ?? csrfKey, HKDF_INFO.log);
  const accessBytes = access.algorithm === 'HS256' ? access.signKey.export() : undefined;
  if (accessBytes?.equals(refreshKey.export())) {
    throw new SessionConfigError('the access-token and refresh-token keys must differ');
  }
  // One key per purpose (S-57): a CSRF MAC must never be usable as a token signature or the reverse.
  if (accessBytes?.equals(csrfKey) || refreshKey.export().equals(csrfKey)) {
    throw new SessionConfigError('the CSRF key must differ from the access-token and refresh-token keys');
  }
  return { access, refreshKey, csrfKey, logKey };
}
