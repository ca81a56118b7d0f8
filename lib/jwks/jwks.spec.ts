import { generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import type { SessionModuleOptions } from '../interfaces/session-module-options.interface.js';
import { resolveSessionOptions } from '../session-options.js';
import { SessionConfigError } from '../session.errors.js';
import { AccessTokenService } from '../tokens/access-token.service.js';
import { jwkThumbprint, publicJwk } from './jwk.js';
import { SessionJwksService } from './session-jwks.service.js';

const SECRET = 'Zq3v9pT1xK8mW2rB7nL4cY6hJ0dF5gS1aE3uI9oP2tR';
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

function jwks(options: SessionModuleOptions) {
  const resolved = resolveSessionOptions({ secret: SECRET, ...options });
  return new SessionJwksService(resolved, new AccessTokenService(resolved));
}

function refusal(options: SessionModuleOptions): string {
  try {
    resolveSessionOptions({ secret: SECRET, ...options });
  } catch (e) {
    expect(e).toBeInstanceOf(SessionConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a SessionConfigError');
}

describe('JWK helpers', () => {
  it.each([
    ['EC P-256', ec.publicKey],
    ['Ed25519', ed.publicKey],
    ['RSA', rsa.publicKey],
  ])('%s: the thumbprint is RFC 7638 (as jose computes it)', async (_name, key) => {
    const jwk = publicJwk(key)!;
    expect(jwkThumbprint(jwk)).toBe(await calculateJwkThumbprint(jwk as never, 'sha256'));
  });

  it('a private KeyObject yields only its public members', () => {
    for (const { privateKey } of [ec, ed, rsa]) {
      const jwk = publicJwk(privateKey)!;
      expect(jwk.kty).toBeDefined();
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(jwk).not.toHaveProperty(member);
    }
  });

  it('an RSA-PSS typed key, which Node cannot export as a JWK, yields undefined instead of throwing', () => {
    expect(publicJwk(generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).publicKey)).toBeUndefined();
  });
});

describe('SessionJwksService', () => {
  it('HS256: nothing is published', () => {
    const s = jwks({});
    expect(s.published).toBe(false);
    expect(s.jwks()).toBeUndefined();
  });

  it('a key given without kid is published under its thumbprint', () => {
    const { keys } = jwks({ accessToken: { algorithm: 'ES256', ...ec } }).jwks()!;
    expect(keys).toEqual([
      { ...publicJwk(ec.publicKey), kid: jwkThumbprint(publicJwk(ec.publicKey)!), alg: 'ES256', use: 'sig' },
    ]);
  });

  it('a private key given as publicKey is published as its public half only', () => {
    const { keys } = jwks({
      accessToken: { algorithm: 'EdDSA', kid: 'e1', privateKey: ed.privateKey, publicKey: ed.privateKey },
    }).jwks()!;
    expect(keys).toEqual([
      { kty: 'OKP', crv: 'Ed25519', x: publicJwk(ed.publicKey)!.x, kid: 'e1', alg: 'EdDSA', use: 'sig' },
    ]);
  });
});

describe('accessToken.nextKeys options', () => {
  const next = generateKeyPairSync('ed25519');
  const base = { algorithm: 'EdDSA' as const, ...ed };

  it('needs a kid, its own kid, and a key that fits the algorithm', () => {
    expect(refusal({ accessToken: { ...base, nextKeys: [{ kid: 'n', key: next.publicKey }] } })).toMatch(
      /kid is required when accessToken.nextKeys/,
    );
    expect(refusal({ accessToken: { ...base, kid: 'n', nextKeys: [{ kid: 'n', key: next.publicKey }] } })).toMatch(
      /equals the current kid/,
    );
    expect(refusal({ accessToken: { ...base, kid: 'c', nextKeys: [{ kid: 'n', key: ec.publicKey }] } })).toMatch(
      /nextKeys\["n"\] is a ec key; EdDSA needs ed25519/,
    );
    expect(refusal({ accessToken: { ...base, kid: 'c', nextKeys: [{ kid: '../x', key: next.publicKey }] } })).toMatch(
      /nextKeys\[\]\.kid must be/,
    );
  });

  it('refuses one kid listed as both previous and next', () => {
    const old = generateKeyPairSync('ed25519');
    expect(
      refusal({
        accessToken: {
          ...base,
          kid: 'c',
          previousKeys: [{ kid: 'x', key: old.publicKey }],
          nextKeys: [{ kid: 'x', key: next.publicKey }],
        },
      }),
    ).toMatch(/kid "x" is listed twice/);
  });
});
