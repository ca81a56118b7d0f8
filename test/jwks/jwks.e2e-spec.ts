/**
 * Issue 14 §7: with an asymmetric SESSION_ALG the sample publishes its access-token public keys at
 * GET /.well-known/jwks.json, and another service verifies our access tokens with `jose` against
 * it (createRemoteJWKSet over HTTP), for ES256, EdDSA and RS256, on memory and Redis. It cannot
 * see revocation: after logout the token still verifies there while the sample answers 401.
 * With HS256 there is nothing to publish: 404.
 */
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import request from 'supertest';
import { ALICE } from '../utils/http.js';
import { E2eHarness, STORES } from '../e2e/helpers/store-matrix.js';
import type { RunningSample } from '../utils/sample-app.js';
import { type AsymmetricAlg, setSigningEnv } from './signing-env.js';

const ISSUER = 'https://auth.example.test';
const AUDIENCE = 'notes-api';
const ALGS: AsymmetricAlg[] = ['ES256', 'EdDSA', 'RS256'];
const CASES = ALGS.flatMap((alg) => STORES.map((store) => ({ alg, store, name: `${alg} on ${store.name}` })));

const harness = new E2eHarness();
beforeAll(() => harness.start());
afterAll(() => harness.stop());

async function loginHeader(url: string): Promise<string> {
  const res = await request(url).post('/auth/login').set('X-Auth-Transport', 'header').send(ALICE).expect(200);
  return res.body.accessToken as string;
}

describe.each(CASES)('JWKS with $name', ({ alg, store }) => {
  let sample: RunningSample;

  beforeAll(async () => {
    const restore = setSigningEnv({ SESSION_ALG: alg, SESSION_ISSUER: ISSUER, SESSION_AUDIENCE: AUDIENCE });
    try {
      sample = await harness.sample(store);
    } finally {
      restore();
    }
  });

  it('serves the public key with kid, alg and use:"sig", and nothing private', async () => {
    const res = await request(sample.url).get('/.well-known/jwks.json').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    expect(res.body.keys).toHaveLength(1);
    const [key] = res.body.keys as Array<Record<string, string>>;
    expect(key).toMatchObject({ alg, use: 'sig', kty: { ES256: 'EC', EdDSA: 'OKP', RS256: 'RSA' }[alg] });
    expect(key.kid).toMatch(/^[A-Za-z0-9_-]{16}$/);
    for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(key).not.toHaveProperty(secret);
    // The tokens name that key.
    expect(decodeProtectedHeader(await loginHeader(sample.url))).toEqual({ alg, typ: 'at+jwt', kid: key.kid });
  });

  it('another service verifies our access token with jose against the JWKS over HTTP', async () => {
    const token = await loginHeader(sample.url);
    const jwks = createRemoteJWKSet(new URL(`${sample.url}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: [alg],
      typ: 'at+jwt',
    });
    expect(protectedHeader.alg).toBe(alg);
    expect(payload).toMatchObject({ sub: 'u-alice', typ: 'access', iss: ISSUER, aud: AUDIENCE });
    expect(typeof payload.sid).toBe('string');
    // A tampered payload does not verify there either.
    const [h, p, s] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...payload, sub: 'u-admin' })).toString('base64url');
    await expect(jwtVerify(`${h}.${forged}.${s}`, jwks)).rejects.toThrow();
    expect(p).not.toBe(forged);
  });

  it('what the JWKS cannot see: after logout the token still verifies with jose, while the sample answers 401', async () => {
    const token = await loginHeader(sample.url);
    const jwks = createRemoteJWKSet(new URL(`${sample.url}/.well-known/jwks.json`));
    await request(sample.url).get('/me').set('Authorization', `Bearer ${token}`).expect(200);
    await request(sample.url).post('/auth/logout').set('Authorization', `Bearer ${token}`).expect(204);
    await expect(jwtVerify(token, jwks, { issuer: ISSUER, audience: AUDIENCE })).resolves.toBeDefined();
    await request(sample.url).get('/me').set('Authorization', `Bearer ${token}`).expect(401);
  });
});

describe.each(STORES)('no JWKS with HS256 on $name', (store) => {
  it('GET /.well-known/jwks.json answers 404', async () => {
    const restore = setSigningEnv({});
    let sample: RunningSample;
    try {
      sample = await harness.sample(store);
    } finally {
      restore();
    }
    await request(sample.url).get('/.well-known/jwks.json').expect(404);
    // The sample itself works as before.
    await request(sample.url)
      .get('/me')
      .set('Authorization', `Bearer ${await loginHeader(sample.url)}`)
      .expect(200);
  });
});
