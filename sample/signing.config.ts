import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import { type AccessTokenAlgorithm, type AccessTokenOptions, SessionConfigError } from '../lib/index.js';

/** The algorithms the sample offers through SESSION_ALG (the module also has PS256). */
const SAMPLE_ALGORITHMS = ['HS256', 'ES256', 'EdDSA', 'RS256'] as const;

function generate(algorithm: Exclude<AccessTokenAlgorithm, 'HS256'>): KeyObject {
  if (algorithm === 'ES256') return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  if (algorithm === 'EdDSA') return generateKeyPairSync('ed25519').privateKey;
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
}

function readPrivateKey(file: string): KeyObject {
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (err) {
    throw new SessionConfigError(
      `SESSION_PRIVATE_KEY_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  try {
    return createPrivateKey(pem);
  } catch {
    throw new SessionConfigError(`SESSION_PRIVATE_KEY_FILE: ${file} does not hold a PEM private key`);
  }
}

/**
 * Access-token signing from SESSION_ALG (HS256 | ES256 | EdDSA | RS256), SESSION_PRIVATE_KEY_FILE
 * (PEM; unset with an asymmetric algorithm → a key pair generated per process, with a warning),
 * SESSION_ISSUER and SESSION_AUDIENCE. The module checks that the key fits the algorithm.
 */
export function signingOptionsFromEnv(): AccessTokenOptions {
  const env = process.env;
  const algorithm = (env.SESSION_ALG || 'HS256') as AccessTokenAlgorithm;
  if (!(SAMPLE_ALGORITHMS as readonly string[]).includes(algorithm)) {
    throw new SessionConfigError(`SESSION_ALG must be one of ${SAMPLE_ALGORITHMS.join(', ')}, got "${algorithm}"`);
  }
  const claims = {
    ...(env.SESSION_ISSUER ? { issuer: env.SESSION_ISSUER } : {}),
    ...(env.SESSION_AUDIENCE ? { audience: env.SESSION_AUDIENCE } : {}),
  };
  if (algorithm === 'HS256') {
    if (env.SESSION_PRIVATE_KEY_FILE)
      throw new SessionConfigError('SESSION_PRIVATE_KEY_FILE needs an asymmetric SESSION_ALG (ES256, EdDSA or RS256)');
    return { ...claims };
  }
  let privateKey: KeyObject;
  if (env.SESSION_PRIVATE_KEY_FILE) {
    privateKey = readPrivateKey(env.SESSION_PRIVATE_KEY_FILE);
  } else {
    privateKey = generate(algorithm);
    new Logger('Sample').warn(
      `SESSION_PRIVATE_KEY_FILE is not set: using an ${algorithm} key pair generated for this process, so its tokens and JWKS change at every start`,
    );
  }
  const publicKey = createPublicKey(privateKey);
  // A kid derived from the public key: verifiers pick the key by it, and it changes with the key.
  const kid = createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64url')
    .slice(0, 16);
  return { algorithm, privateKey, publicKey, kid, ...claims };
}
