import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import fc from 'fast-check';
import { DbscRefusal } from './dbsc-errors.js';
import { parseDbscProof, verifyDbscProof } from './dbsc-proof.js';
import { type DbscAlgorithm, deviceKeyFromJwk, deviceKeyFromStored } from './device-key.js';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

function device(alg: DbscAlgorithm) {
  const pair =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { alg, privateKey: pair.privateKey, jwk: pair.publicKey.export({ format: 'jwk' }) };
}

function proof(
  d: { alg: DbscAlgorithm; privateKey: KeyObject; jwk: unknown },
  payload: object,
  header: object = {},
): string {
  const input = `${b64({ alg: d.alg, typ: 'dbsc+jwt', ...header })}.${b64(payload)}`;
  const sig =
    d.alg === 'ES256'
      ? sign('sha256', Buffer.from(input), { key: d.privateKey, dsaEncoding: 'ieee-p1363' })
      : sign('sha256', Buffer.from(input), d.privateKey);
  return `${input}.${sig.toString('base64url')}`;
}

/** The refusal a call throws (and that it throws nothing else). */
function refusal(work: () => unknown): DbscRefusal {
  try {
    work();
  } catch (err) {
    if (err instanceof DbscRefusal) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe.each(['ES256', 'RS256'] as const)('DBSC proofs with %s', (alg) => {
  const d = device(alg);

  it('a registration proof verifies against the key in its own jwk, and its stored form round-trips', () => {
    const p = parseDbscProof(proof(d, { jti: 'c1', authorization: 'a1' }, { jwk: d.jwk }), true);
    expect(p).toMatchObject({ alg, jti: 'c1', authorization: 'a1' });
    const key = deviceKeyFromJwk(p.alg, p.jwk);
    expect(() => verifyDbscProof(p, key)).not.toThrow();
    // A refresh proof (no jwk) verifies against the stored key.
    const again = deviceKeyFromStored(key.stored);
    expect(() => verifyDbscProof(parseDbscProof(proof(d, { jti: 'c2' }), false), again)).not.toThrow();
    if (alg === 'ES256') expect(key.stored).toHaveLength(45);
  });

  it('refuses a proof signed by another key (401)', () => {
    const key = deviceKeyFromJwk(alg, d.jwk);
    const p = parseDbscProof(proof(device(alg), { jti: 'c' }), false);
    expect(refusal(() => verifyDbscProof(p, key))).toMatchObject({ status: 401, reason: 'proof_signature' });
  });

  it('refuses a proof whose payload was changed after signing (another challenge) (401)', () => {
    const key = deviceKeyFromJwk(alg, d.jwk);
    const [h, , s] = proof(d, { jti: 'issued' }).split('.');
    const p = parseDbscProof(`${h}.${b64({ jti: 'other' })}.${s}`, false);
    expect(refusal(() => verifyDbscProof(p, key)).status).toBe(401);
  });

  it('refuses a registration jwk that names a key of the other algorithm or a private key member', () => {
    const other = device(alg === 'ES256' ? 'RS256' : 'ES256');
    expect(refusal(() => deviceKeyFromJwk(alg, other.jwk)).status).toBe(400);
    expect(refusal(() => deviceKeyFromJwk(alg, 'not an object')).status).toBe(400);
  });
});

describe('DBSC proof structure', () => {
  const d = device('ES256');
  const unsigned = (header: object, payload: object = { jti: 'c' }) => `${b64(header)}.${b64(payload)}.`;

  it.each([
    ['alg none', unsigned({ alg: 'none', typ: 'dbsc+jwt' })],
    ['alg NoNe', unsigned({ alg: 'NoNe', typ: 'dbsc+jwt' })],
    ['alg HS256', proof(d, { jti: 'c' }, { alg: 'HS256' })],
    ['alg ES384', proof(d, { jti: 'c' }, { alg: 'ES384' })],
    ['typ JWT', proof(d, { jti: 'c' }, { typ: 'JWT' })],
    ['crit', proof(d, { jti: 'c' }, { crit: ['x'] })],
    ['jku', proof(d, { jti: 'c' }, { jku: 'https://evil.example/keys' })],
    ['no jti', proof(d, {})],
    ['jti a number', proof(d, { jti: 7 })],
    ['payload an array', `${b64({ alg: 'ES256', typ: 'dbsc+jwt' })}.${b64(['c'])}.AA`],
    ['two segments', 'a.b'],
    ['not base64url', 'a+b.c/d.e'],
    ['header not JSON', `${Buffer.from('{').toString('base64url')}.${b64({ jti: 'c' })}.AA`],
    ['too long', `${'a'.repeat(5000)}.b.c`],
  ])('refuses %s with 400', (_what, compact) => {
    expect(refusal(() => parseDbscProof(compact, false)).status).toBe(400);
  });

  it('a refresh proof must not carry jwk; a registration proof must', () => {
    expect(refusal(() => parseDbscProof(proof(d, { jti: 'c' }, { jwk: d.jwk }), false)).reason).toBe('proof_jwk');
    expect(refusal(() => parseDbscProof(proof(d, { jti: 'c' }), true)).reason).toBe('proof_jwk');
  });

  it('refuses an EC point that is not on P-256 and a short RSA modulus', () => {
    const jwk = d.jwk as { x: string; y: string };
    const y = Buffer.from(jwk.y, 'base64url');
    y[5] = y[5] ^ 1;
    expect(refusal(() => deviceKeyFromJwk('ES256', { ...jwk, y: y.toString('base64url') })).status).toBe(400);
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    expect(refusal(() => deviceKeyFromJwk('RS256', small)).reason).toBe('jwk_size');
  });

  it('a wrong-length ES256 signature is refused, not thrown', () => {
    const key = deviceKeyFromJwk('ES256', d.jwk);
    const [h, p] = proof(d, { jti: 'c' }).split('.');
    const truncated = parseDbscProof(`${h}.${p}.AAAA`, false);
    expect(refusal(() => verifyDbscProof(truncated, key)).status).toBe(401);
  });

  it('arbitrary input only ever yields a refusal (never another error)', () => {
    const key = deviceKeyFromJwk('ES256', d.jwk);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.tuple(fc.string(), fc.string(), fc.string()).map((parts) => parts.join('.')),
          fc
            .tuple(fc.jsonValue(), fc.jsonValue(), fc.uint8Array())
            .map(([h, p, s]) => `${b64(h)}.${b64(p)}.${Buffer.from(s).toString('base64url')}`),
        ),
        fc.boolean(),
        (input, registration) => {
          try {
            const parsed = parseDbscProof(input, registration);
            if (registration) deviceKeyFromJwk(parsed.alg, parsed.jwk);
            else verifyDbscProof(parsed, key);
          } catch (err) {
            expect(err).toBeInstanceOf(DbscRefusal);
            expect([400, 401, 403]).toContain((err as DbscRefusal).status);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
