/**
 * Issue 14 §7, S-09: the sample sets `iss`/`aud` from SESSION_ISSUER / SESSION_AUDIENCE, and a
 * token without them or with others is refused with 401 — for HS256 (key derived from the
 * secret) and for ES256, EdDSA and RS256 (key pair from SESSION_PRIVATE_KEY_FILE), on memory and
 * Redis. The refused tokens are signed with the real key, under the real header, for a live
 * session: only the claim differs, and a control token with the right claims passes.
 */
import type { KeyObject } from 'node:crypto';
import { decodeProtectedHeader } from 'jose';
import request from 'supertest';
import { jwtPayload } from '../e2e/helpers/tokens.js';
import { E2eHarness, STORES } from '../e2e/helpers/store-matrix.js';
import { ALICE } from '../utils/http.js';
import type { RunningSample } from '../utils/sample-app.js';
import {
  type AsymmetricAlg,
  derivedAccessKey,
  forgeAccessToken,
  generatePrivateKey,
  setSigningEnv,
  writeKeyFile,
} from './signing-env.js';

const ISSUER = 'https://auth.example.test';
const AUDIENCE = 'notes-api';
const ALGS: Array<'HS256' | AsymmetricAlg> = ['HS256', 'ES256', 'EdDSA', 'RS256'];
const CASES = ALGS.flatMap((alg) => STORES.map((store) => ({ alg, store, name: `${alg} on ${store.name}` })));

const harness = new E2eHarness();
beforeAll(() => harness.start());
afterAll(() => harness.stop());

describe.each(CASES)('issuer and audience with $name', ({ alg, store }) => {
  let sample: RunningSample;
  let key: KeyObject | Uint8Array;
  let removeKeyFile = (): void => undefined;

  beforeAll(async () => {
    const env: Record<string, string> = { SESSION_ISSUER: ISSUER, SESSION_AUDIENCE: AUDIENCE };
    if (alg === 'HS256') {
      key = derivedAccessKey();
    } else {
      const privateKey = generatePrivateKey(alg);
      key = privateKey;
      const file = writeKeyFile(privateKey);
      removeKeyFile = file.remove;
      Object.assign(env, { SESSION_ALG: alg, SESSION_PRIVATE_KEY_FILE: file.file });
    }
    const restore = setSigningEnv(env);
    try {
      sample = await harness.sample(store);
    } finally {
      restore();
    }
  });

  afterAll(() => removeKeyFile());

  /** A live session's token, and claims like it minus `iss`/`aud`. */
  async function live(): Promise<{
    token: string;
    header: { alg: string; kid?: string };
    claims: Record<string, unknown>;
  }> {
    const res = await request(sample.url).post('/auth/login').set('X-Auth-Transport', 'header').send(ALICE).expect(200);
    const token = res.body.accessToken as string;
    const { iss, aud, ...claims } = jwtPayload(token);
    expect({ iss, aud }).toEqual({ iss: ISSUER, aud: AUDIENCE });
    const header = decodeProtectedHeader(token) as { alg: string; kid?: string };
    return { token, header, claims };
  }

  const me = (token: string) => request(sample.url).get('/me').set('Authorization', `Bearer ${token}`);

  it('issued tokens carry iss and aud from the environment and are accepted', async () => {
    const { token } = await live();
    await me(token).expect(200);
  });

  it('a token signed with our key and the right iss/aud is accepted (control for the refusals below)', async () => {
    const { header, claims } = await live();
    await me(await forgeAccessToken(key, header, { ...claims, iss: ISSUER, aud: AUDIENCE })).expect(200);
  });

  it.each([
    ['neither iss nor aud', {}],
    ['no iss', { aud: AUDIENCE }],
    ['no aud', { iss: ISSUER }],
    ['another issuer', { iss: 'https://other.example.test', aud: AUDIENCE }],
    ['another audience', { iss: ISSUER, aud: 'billing-api' }],
    ['an issuer that only starts like ours', { iss: `${ISSUER}.evil.test`, aud: AUDIENCE }],
  ])('a token with %s → 401 with WWW-Authenticate: Bearer', async (_name, extra) => {
    const { header, claims } = await live();
    const res = await me(await forgeAccessToken(key, header, { ...claims, ...extra })).expect(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
  });
});
