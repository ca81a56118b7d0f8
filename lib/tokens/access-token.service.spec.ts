import {
  createHash,
  createHmac,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
  randomBytes,
  sign as cryptoSign,
  verify as cryptoVerify,
} from 'node:crypto';
import jwt from 'jsonwebtoken';
import { resolveSessionOptions } from '../session-options.js';
import type { SessionModuleOptions } from '../interfaces/session-module-options.interface.js';
import { AccessTokenService } from './access-token.service.js';
import { RefreshTokenService } from './refresh-token.service.js';
import { InvalidTokenError } from '../session.errors.js';

// A fixed, random-looking secret and a fixed clock, so every expectation is reproducible.
const SECRET = createHash('sha256').update('access-token.service.spec').digest('base64url');
const NOW = 1_900_000_000_000;
const NOW_S = NOW / 1000;
const TTL = 900;
const SID = 'AbCdEfGhIjKlMnOpQrStUv';
const ACCESS_KEY = Buffer.from(hkdfSync('sha256', SECRET, Buffer.alloc(0), 'nestjs-jwt-session access-token', 32));

const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** Builds a compact JWS by hand, so a test changes exactly one thing relative to a valid token. */
function craft(header: unknown, payload: unknown, key: Buffer | KeyObject = ACCESS_KEY, hash = 'sha256'): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac(hash, key).update(input).digest('base64url')}`;
}

const HEADER = { alg: 'HS256', typ: 'at+jwt' };
const claims = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  sub: 'u-alice',
  sid: SID,
  jti: 'j-0123456789ab',
  typ: 'access',
  iat: NOW_S,
  exp: NOW_S + TTL,
  ...over,
});
const without = (name: string): Record<string, unknown> => {
  const c = claims();
  delete c[name];
  return c;
};

/** `clock` is the module's internal time source (not an option): fixed here for the key-retirement window. */
function service({ clock, ...options }: SessionModuleOptions & { clock?: () => number } = {}): AccessTokenService {
  const time = clock ? { now: clock, store: 'server' as const } : undefined;
  return new AccessTokenService(resolveSessionOptions({ secret: SECRET, ...options }, 'auth', time));
}

function decode(token: string): { header: unknown; payload: Record<string, unknown> } {
  const [h, p] = token.split('.') as [string, string];
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString()),
    payload: JSON.parse(Buffer.from(p, 'base64url').toString()),
  };
}

/** The only acceptable failure is InvalidTokenError; anything else (TypeError, JsonWebTokenError…) fails the test. */
function expectInvalid(svc: AccessTokenService, token: unknown, now = NOW): InvalidTokenError {
  let thrown: unknown;
  try {
    svc.verify(token, now);
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(InvalidTokenError);
  return thrown as InvalidTokenError;
}

describe('AccessTokenService', () => {
  const svc = service();

  describe('valid tokens', () => {
    it('a hand-crafted canonical token verifies, so the hostile variants below differ only in their flaw', () => {
      expect(svc.verify(craft(HEADER, claims()), NOW)).toEqual({
        sub: 'u-alice',
        sid: SID,
        jti: 'j-0123456789ab',
        iat: NOW_S,
        exp: NOW_S + TTL,
      });
    });

    it('carries exactly sub, sid, jti, typ, iat, exp and the header {alg: HS256, typ: at+jwt}', () => {
      const { token, expiresAt } = svc.issue('u-alice', SID, NOW + 123);
      const { header, payload } = decode(token);
      expect(header).toEqual({ alg: 'HS256', typ: 'at+jwt' });
      expect(Object.keys(payload).sort()).toEqual(['exp', 'iat', 'jti', 'sid', 'sub', 'typ']);
      expect(payload).toMatchObject({ sub: 'u-alice', sid: SID, typ: 'access', iat: NOW_S, exp: NOW_S + TTL });
      expect(expiresAt).toBe(NOW_S + TTL);
      expect(svc.verify(token, NOW)).toMatchObject({ sub: 'u-alice', sid: SID, iat: NOW_S, exp: NOW_S + TTL });
    });

    it('adds only iss and aud when configured', () => {
      const s = service({ accessToken: { issuer: 'https://id.example.com', audience: 'api' } });
      const { payload } = decode(s.issue('u-alice', SID, NOW).token);
      expect(Object.keys(payload).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'jti', 'sid', 'sub', 'typ']);
      expect(payload).toMatchObject({ iss: 'https://id.example.com', aud: 'api' });
    });

    it('gives every token its own unguessable jti', () => {
      const jtis = new Set(
        Array.from({ length: 200 }, () => String(decode(svc.issue('u', SID, NOW).token).payload.jti)),
      );
      expect(jtis.size).toBe(200);
      for (const j of jtis) expect(Buffer.from(j, 'base64url').length).toBeGreaterThanOrEqual(12);
    });

    it('honours the documented 5 s clock tolerance on exp, and not one second more', () => {
      const token = svc.issue('u-alice', SID, NOW).token;
      const exp = NOW_S + TTL;
      expect(svc.verify(token, (exp + 4) * 1000 + 999).exp).toBe(exp);
      expectInvalid(svc, token, (exp + 5) * 1000);
      expectInvalid(svc, token, (exp + 3600) * 1000);
    });

    it('accepts iat and nbf slightly ahead of the clock (within tolerance) only', () => {
      expect(svc.verify(craft(HEADER, claims({ iat: NOW_S + 5, exp: NOW_S + 5 + TTL })), NOW).iat).toBe(NOW_S + 5);
      expect(svc.verify(craft(HEADER, claims({ nbf: NOW_S + 5 })), NOW).sub).toBe('u-alice');
      expectInvalid(svc, craft(HEADER, claims({ iat: NOW_S + 6, exp: NOW_S + 6 + TTL })));
      expectInvalid(svc, craft(HEADER, claims({ nbf: NOW_S + 6 })));
    });

    it('keyFor returns the verify key for our header and undefined (never a throw) for anything else', () => {
      expect(svc.keyFor(svc.issue('u', SID, NOW).token)?.export()).toEqual(ACCESS_KEY);
      for (const t of [undefined, null, 42, {}, '', 'a.b', 'x'.repeat(5000), craft({ alg: 'none' }, claims())]) {
        expect(svc.keyFor(t)).toBeUndefined();
      }
    });
  });

  describe('hostile headers (S-01, S-02, S-04, S-05, S-13)', () => {
    const payload = b64(claims());
    const hmac = (input: string, hash = 'sha256') => createHmac(hash, ACCESS_KEY).update(input).digest('base64url');
    const cases: Array<[string, () => string]> = [];
    for (const alg of ['none', 'NONE', 'nOnE', 'None']) {
      const h = b64({ alg, typ: 'at+jwt' });
      cases.push([`alg ${alg}, empty signature`, () => `${h}.${payload}.`]);
      cases.push([`alg ${alg}, no third segment`, () => `${h}.${payload}`]);
      cases.push([`alg ${alg}, HMAC signature`, () => `${h}.${payload}.${hmac(`${h}.${payload}`)}`]);
    }
    cases.push([
      'HS384 with the right key',
      () => craft({ alg: 'HS384', typ: 'at+jwt' }, claims(), ACCESS_KEY, 'sha384'),
    ]);
    cases.push([
      'HS512 with the right key',
      () => craft({ alg: 'HS512', typ: 'at+jwt' }, claims(), ACCESS_KEY, 'sha512'),
    ]);
    cases.push([
      'RS256 header over an HMAC signature (alg confusion)',
      () => craft({ alg: 'RS256', typ: 'at+jwt' }, claims()),
    ]);
    cases.push(['ES256 header over an HMAC signature', () => craft({ alg: 'ES256', typ: 'at+jwt' }, claims())]);
    cases.push(['hs256 in lower case', () => craft({ alg: 'hs256', typ: 'at+jwt' }, claims())]);
    cases.push(['unknown crit header', () => craft({ ...HEADER, crit: ['exp2'], exp2: 1 }, claims())]);
    cases.push(['empty crit header', () => craft({ ...HEADER, crit: [] }, claims())]);
    cases.push(['jku', () => craft({ ...HEADER, jku: 'https://evil.example/jwks.json' }, claims())]);
    cases.push(['x5u', () => craft({ ...HEADER, x5u: 'https://evil.example/cert.pem' }, claims())]);
    cases.push(['jwk', () => craft({ ...HEADER, jwk: { kty: 'oct', k: ACCESS_KEY.toString('base64url') } }, claims())]);
    cases.push(['x5c', () => craft({ ...HEADER, x5c: ['MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'] }, claims())]);
    for (const kid of ['unknown', '../../etc/passwd', "' OR 1=1 --", '', '0', 'k1\u0000']) {
      cases.push([`kid ${JSON.stringify(kid)}`, () => craft({ ...HEADER, kid }, claims())]);
    }
    cases.push(['typ JWT (a generic JWT, not an access token)', () => craft({ alg: 'HS256', typ: 'JWT' }, claims())]);
    cases.push(['no typ header', () => craft({ alg: 'HS256' }, claims())]);
    cases.push(['typ rt+jwt (refresh header)', () => craft({ alg: 'HS256', typ: 'rt+jwt' }, claims())]);
    cases.push(['reordered header members', () => craft({ typ: 'at+jwt', alg: 'HS256' }, claims())]);
    cases.push(['header with whitespace', () => craft('{"alg": "HS256", "typ": "at+jwt"}', claims())]);
    cases.push(['header that is not JSON', () => craft('not json', claims())]);
    cases.push(['header that is an array', () => craft(['HS256'], claims())]);
    cases.push(['signature from another key', () => craft(HEADER, claims(), randomBytes(32))]);

    it.each(cases)('%s → InvalidTokenError', (_name, make) => {
      expectInvalid(svc, make());
    });

    it('refuses unknown and injected kids when a kid is configured too', () => {
      const s = service({ accessToken: { kid: 'k1' } });
      expect(s.verify(craft({ ...HEADER, kid: 'k1' }, claims()), NOW).sub).toBe('u-alice');
      for (const kid of ['k2', '../../etc/passwd', "' OR 1=1 --", 'K1', 'k1 ']) {
        expectInvalid(s, craft({ ...HEADER, kid }, claims()));
      }
      expectInvalid(s, craft(HEADER, claims()));
    });
  });

  describe('hostile payloads (S-06, S-07, S-08, S-11, S-14)', () => {
    const cases: Array<[string, unknown]> = [
      ['missing exp', without('exp')],
      ['missing iat', without('iat')],
      ['exp 1e20', claims({ exp: 1e20 })],
      ['exp as a string', claims({ exp: String(NOW_S + TTL) })],
      ['fractional exp', claims({ exp: NOW_S + 0.5 })],
      ['far-future iat', claims({ iat: NOW_S + 86400 * 365, exp: NOW_S + 86400 * 365 + TTL })],
      ['iat 1 h ahead', claims({ iat: NOW_S + 3600, exp: NOW_S + 3600 + TTL })],
      ['future nbf', claims({ nbf: NOW_S + 60 })],
      ['nbf as a string', claims({ nbf: 'soon' })],
      ['expired long ago', claims({ iat: NOW_S - 2 * TTL, exp: NOW_S - TTL })],
      ['expired 6 s ago', claims({ iat: NOW_S - TTL - 6, exp: NOW_S - 6 })],
      ['lifetime longer than the ttl', claims({ exp: NOW_S + TTL + 1 })],
      ['exp before iat', claims({ exp: NOW_S - 1, iat: NOW_S })],
      ['array payload', [claims()]],
      ['empty array payload', []],
      ['string payload', 'u-alice'],
      ['number payload', 42],
      ['null payload', null],
      ['typ refresh', claims({ typ: 'refresh' })],
      ['typ missing', without('typ')],
      ['typ ACCESS', claims({ typ: 'ACCESS' })],
      ['missing sub', without('sub')],
      ['empty sub', claims({ sub: '' })],
      ['numeric sub', claims({ sub: 42 })],
      ['object sub', claims({ sub: { $ne: null } })],
      ['array sub', claims({ sub: ['u-alice'] })],
      ['sub longer than 256', claims({ sub: 'u'.repeat(257) })],
      ['missing sid', without('sid')],
      ['sid of 21 chars', claims({ sid: SID.slice(1) })],
      ['sid of 23 chars', claims({ sid: `${SID}A` })],
      ['sid with a dot', claims({ sid: `${SID.slice(1)}.` })],
      ['sid with base64 "+"', claims({ sid: `${SID.slice(1)}+` })],
      ['sid with a newline', claims({ sid: `${SID.slice(1)}\n` })],
      ['numeric sid', claims({ sid: 1e21 })],
      ['missing jti', without('jti')],
      ['numeric jti', claims({ jti: 7 })],
    ];

    it.each(cases)('%s → InvalidTokenError', (_name, payload) => {
      expectInvalid(svc, craft(HEADER, payload));
    });

    it('refuses a token with a non-JSON payload', () => {
      expectInvalid(svc, craft(HEADER, '{"sub":'));
    });

    it('checkClaims (the Passport path) refuses odd payloads with InvalidTokenError only', () => {
      for (const p of [undefined, null, 'x', 1, true, [], [claims()], claims({ typ: 'refresh' }), without('exp')]) {
        let thrown: unknown;
        try {
          svc.checkClaims(p, NOW);
        } catch (e) {
          thrown = e;
        }
        expect(thrown).toBeInstanceOf(InvalidTokenError);
      }
    });
  });

  describe('malformed compact serialisation (S-11, S-64)', () => {
    const good = craft(HEADER, claims());
    const [h, p, s] = good.split('.') as [string, string, string];
    const cases: Array<[string, unknown]> = [
      ['undefined', undefined],
      ['null', null],
      ['a number', 42],
      ['an object', { token: good }],
      ['a Buffer', Buffer.from(good)],
      ['empty string', ''],
      ['one segment', h],
      ['two segments', `${h}.${p}`],
      ['empty signature', `${h}.${p}.`],
      ['truncated signature', `${h}.${p}.${s.slice(0, -1)}`],
      ['truncated payload', `${h}.${p.slice(0, -2)}.${s}`],
      ['four segments', `${good}.${s}`],
      ['JWE-like five segments', `${h}.${p}.${s}.${s}.${s}`],
      ['double dot', `${h}..${p}.${s}`],
      ['leading dot', `.${good}`],
      ['trailing dot', `${good}.`],
      ['base64 "+" and "/"', `${h}.${p}.${s.replace(/-/g, '+').replace(/_/g, '/')}+/`],
      ['base64 padding', `${h}.${p}.${s}=`],
      ['space inside', `${h}.${p} .${s}`],
      ['leading whitespace', ` ${good}`],
      ['trailing newline', `${good}\n`],
      ['non-ASCII letters', `${h}.${p}.${s.slice(0, -1)}é`],
      ['NUL byte', `${h}.${p}.${s}\u0000`],
      ['Bearer prefix kept', `Bearer ${good}`],
      ['> 2 KB, validly signed', craft(HEADER, claims({ pad: 'x'.repeat(2100) }))],
      ['1 MB of junk', 'a'.repeat(1 << 20)],
    ];

    it.each(cases)('%s → InvalidTokenError', (_name, token) => {
      expectInvalid(svc, token);
    });

    it('a flipped character anywhere in a valid token invalidates it', () => {
      const token = svc.issue('u-alice', SID, NOW).token;
      for (let i = 0; i < token.length; i += 1) {
        if (token[i] === '.') continue;
        const flipped = token[i] === 'A' ? 'B' : 'A';
        const tampered = token.slice(0, i) + flipped + token.slice(i + 1);
        // A different last base64url character can decode to the same bytes; that is not tampering.
        const same = tampered
          .split('.')
          .every((seg, k) => Buffer.from(seg, 'base64url').equals(Buffer.from(token.split('.')[k], 'base64url')));
        if (same) continue;
        expectInvalid(svc, tampered);
      }
    });
  });

  describe('type confusion with refresh tokens (S-08)', () => {
    const options = resolveSessionOptions({ secret: SECRET });
    const access = new AccessTokenService(options);
    const refresh = new RefreshTokenService(options);

    it('refuses a refresh token as an access token', () => {
      const rt = refresh.sign('u-alice', SID, 0, NOW_S, NOW_S + 3600);
      expectInvalid(access, rt);
    });

    it('refuses a payload with typ refresh even when signed with the access key and access header', () => {
      expectInvalid(access, craft(HEADER, { ...claims({ typ: 'refresh' }), gen: 0 }));
    });

    it('refuses an access token as a refresh token', () => {
      let thrown: unknown;
      try {
        refresh.verify(access.issue('u-alice', SID, NOW).token, NOW);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(InvalidTokenError);
    });
  });

  describe('issuer and audience (S-09, S-58)', () => {
    const prod = service({ accessToken: { issuer: 'https://id.prod', audience: 'prod-api' } });

    it('accepts its own iss/aud and refuses another environment or none', () => {
      expect(prod.verify(prod.issue('u', SID, NOW).token, NOW).sub).toBe('u');
      const staging = service({ accessToken: { issuer: 'https://id.staging', audience: 'prod-api' } });
      const otherAud = service({ accessToken: { issuer: 'https://id.prod', audience: 'staging-api' } });
      expectInvalid(prod, staging.issue('u', SID, NOW).token);
      expectInvalid(prod, otherAud.issue('u', SID, NOW).token);
      expectInvalid(prod, service().issue('u', SID, NOW).token);
      expectInvalid(prod, craft(HEADER, claims({ iss: 'https://id.prod' })));
      expectInvalid(prod, craft(HEADER, claims({ aud: 'prod-api' })));
      expectInvalid(prod, craft(HEADER, claims({ iss: ['https://id.prod'], aud: 'prod-api' })));
    });
  });

  describe('asymmetric algorithms', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });

    it.each([
      ['RS256', rsa],
      ['PS256', rsa],
      ['ES256', ec],
    ] as const)('%s: issues tokens that verify here and with jsonwebtoken and the public key', (algorithm, pair) => {
      const s = service({ accessToken: { algorithm, privateKey: pair.privateKey, publicKey: pair.publicKey } });
      const { token } = s.issue('u-alice', SID, NOW);
      expect(decode(token).header).toEqual({ alg: algorithm, typ: 'at+jwt' });
      expect(s.verify(token, NOW).sub).toBe('u-alice');
      const verified = jwt.verify(token, pair.publicKey, { algorithms: [algorithm], clockTimestamp: NOW_S });
      expect(verified).toMatchObject({ sub: 'u-alice', sid: SID, typ: 'access' });
    });

    it('RS256: refuses HS256 tokens keyed with the public key (alg confusion) and tokens from another key pair', () => {
      const s = service({ accessToken: { algorithm: 'RS256', privateKey: rsa.privateKey, publicKey: rsa.publicKey } });
      const pem = Buffer.from(rsa.publicKey.export({ type: 'spki', format: 'pem' }));
      expectInvalid(s, craft(HEADER, claims(), pem));
      expectInvalid(s, craft({ alg: 'RS256', typ: 'at+jwt' }, claims(), pem));
      const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const input = `${b64({ alg: 'RS256', typ: 'at+jwt' })}.${b64(claims())}`;
      const forged = `${input}.${cryptoSign('sha256', Buffer.from(input), other.privateKey).toString('base64url')}`;
      expectInvalid(s, forged);
      const genuine = `${input}.${cryptoSign('sha256', Buffer.from(input), rsa.privateKey).toString('base64url')}`;
      expect(s.verify(genuine, NOW).sub).toBe('u-alice');
    });

    it('ES256: refuses a token whose header names ES256 but is HMAC-signed', () => {
      const s = service({ accessToken: { algorithm: 'ES256', privateKey: ec.privateKey, publicKey: ec.publicKey } });
      expectInvalid(s, craft({ alg: 'ES256', typ: 'at+jwt' }, claims()));
      expectInvalid(s, svc.issue('u', SID, NOW).token);
    });
  });

  describe('EdDSA (Ed25519; jsonwebtoken has none, so the module signs and verifies it itself)', () => {
    const ed = generateKeyPairSync('ed25519');
    const EDDSA = { alg: 'EdDSA', typ: 'at+jwt' };
    const edService = (over: Record<string, unknown> = {}) =>
      service({ accessToken: { algorithm: 'EdDSA', privateKey: ed.privateKey, publicKey: ed.publicKey, ...over } });
    const edCraft = (header: unknown, payload: unknown, key = ed.privateKey) => {
      const input = `${b64(header)}.${b64(payload)}`;
      return `${input}.${cryptoSign(null, Buffer.from(input), key).toString('base64url')}`;
    };

    it('issues tokens with a canonical EdDSA header whose Ed25519 signature checks out with node:crypto', () => {
      const s = edService();
      const { token } = s.issue('u-alice', SID, NOW);
      const [h, p, sig] = token.split('.') as [string, string, string];
      expect(decode(token).header).toEqual(EDDSA);
      expect(cryptoVerify(null, Buffer.from(`${h}.${p}`), ed.publicKey, Buffer.from(sig, 'base64url'))).toBe(true);
      expect(s.verify(token, NOW)).toMatchObject({ sub: 'u-alice', sid: SID });
      expect(s.verify(edCraft(EDDSA, claims()), NOW).sub).toBe('u-alice');
    });

    it('refuses another key pair, a tampered payload, HMAC under an EdDSA header and a non-canonical signature', () => {
      const s = edService();
      expectInvalid(s, edCraft(EDDSA, claims(), generateKeyPairSync('ed25519').privateKey));
      const good = edCraft(EDDSA, claims());
      const [h, , sig] = good.split('.') as [string, string, string];
      expectInvalid(s, `${h}.${b64(claims({ sub: 'u-mallory' }))}.${sig}`);
      expectInvalid(s, craft(EDDSA, claims()));
      expectInvalid(s, craft(EDDSA, claims(), Buffer.from(ed.publicKey.export({ type: 'spki', format: 'pem' }))));
      // 64 bytes are 86 base64url characters whose last one carries 4 unused bits: flip one of them.
      const last = sig.at(-1)!;
      const sibling = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[
        'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(last) ^ 1
      ];
      expectInvalid(s, `${good.slice(0, -1)}${sibling}`);
      expectInvalid(s, `${good}A`);
      expectInvalid(s, `${good.slice(0, -2)}`);
    });

    it('adds and requires iss and aud when configured, and applies the usual claim checks', () => {
      const s = edService({ issuer: 'https://id.example', audience: 'api' });
      const { token } = s.issue('u-alice', SID, NOW);
      expect(decode(token).payload).toMatchObject({ iss: 'https://id.example', aud: 'api' });
      expect(s.verify(token, NOW).sub).toBe('u-alice');
      expectInvalid(s, edCraft(EDDSA, claims({ iss: 'https://id.example' })));
      expectInvalid(s, edCraft(EDDSA, claims({ iss: 'https://other.example', aud: 'api' })));
      expect(expectInvalid(s, token, (NOW_S + TTL + 60) * 1000)).toBeInstanceOf(InvalidTokenError);
      expectInvalid(edService(), edCraft(EDDSA, claims({ typ: 'refresh' })));
    });

    it('rotates keys by kid with previous public keys', () => {
      const next = generateKeyPairSync('ed25519');
      const old = service({
        accessToken: { algorithm: 'EdDSA', kid: 'e1', privateKey: ed.privateKey, publicKey: ed.publicKey },
      }).issue('u', SID, NOW).token;
      const during = service({
        clock: () => NOW,
        accessToken: {
          algorithm: 'EdDSA',
          kid: 'e2',
          privateKey: next.privateKey,
          publicKey: next.publicKey,
          previousKeys: [{ kid: 'e1', key: ed.publicKey }],
        },
      });
      expect(during.verify(old, NOW).sub).toBe('u');
      expect(decode(during.issue('u', SID, NOW).token).header).toEqual({ ...EDDSA, kid: 'e2' });
    });
  });

  describe('key rotation by kid (S-59)', () => {
    const k1 = randomBytes(32);
    const k2 = randomBytes(32);

    it('HS256: old tokens verify while the old kid is listed and fail once it is removed; new tokens carry the new kid', () => {
      const before = service({ accessToken: { secret: k1, kid: 'k1' } });
      const old = before.issue('u-alice', SID, NOW).token;
      expect(decode(old).header).toEqual({ alg: 'HS256', typ: 'at+jwt', kid: 'k1' });

      const during = service({
        clock: () => NOW,
        accessToken: { secret: k2, kid: 'k2', previousKeys: [{ kid: 'k1', key: k1 }] },
      });
      expect(during.verify(old, NOW).sub).toBe('u-alice');
      const fresh = during.issue('u-alice', SID, NOW).token;
      expect(decode(fresh).header).toEqual({ alg: 'HS256', typ: 'at+jwt', kid: 'k2' });
      expect(jwt.verify(fresh, k2, { algorithms: ['HS256'], clockTimestamp: NOW_S })).toMatchObject({ sub: 'u-alice' });

      const after = service({ accessToken: { secret: k2, kid: 'k2' } });
      expectInvalid(after, old);
      expect(after.verify(fresh, NOW).sub).toBe('u-alice');
    });

    it('previous keys retire one access lifetime (plus clock tolerance) after startup, even for tokens that have not expired', () => {
      const during = service({
        clock: () => NOW,
        accessToken: { secret: k2, kid: 'k2', previousKeys: [{ kid: 'k1', key: k1 }] },
      });
      // Minted with the old key late in the window (as by a replica not yet rotated, or a leaked key).
      const late = craft({ ...HEADER, kid: 'k1' }, claims({ iat: NOW_S + 800, exp: NOW_S + 800 + TTL }), k1);
      const current = craft({ ...HEADER, kid: 'k2' }, claims({ iat: NOW_S + 800, exp: NOW_S + 800 + TTL }), k2);
      const retiredAt = NOW + (TTL + 5) * 1000; // default clockTolerance: 5 s
      expect(during.verify(late, retiredAt).sub).toBe('u-alice');
      expect(expectInvalid(during, late, retiredAt + 1).reason).toBe('retired_key');
      expect(during.verify(current, retiredAt + 1).sub).toBe('u-alice');
    });

    it('a kid is bound to its key: the new key under the old kid (and the reverse) is refused', () => {
      const during = service({
        clock: () => NOW,
        accessToken: { secret: k2, kid: 'k2', previousKeys: [{ kid: 'k1', key: k1 }] },
      });
      expectInvalid(during, craft({ ...HEADER, kid: 'k1' }, claims(), k2));
      expectInvalid(during, craft({ ...HEADER, kid: 'k2' }, claims(), k1));
      expect(during.verify(craft({ ...HEADER, kid: 'k1' }, claims(), k1), NOW).sub).toBe('u-alice');
    });

    it('ES256: rotation works with public keys', () => {
      const a = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const b = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const before = service({
        accessToken: { algorithm: 'ES256', kid: 'a', privateKey: a.privateKey, publicKey: a.publicKey },
      });
      const old = before.issue('u', SID, NOW).token;
      const during = service({
        clock: () => NOW,
        accessToken: {
          algorithm: 'ES256',
          kid: 'b',
          privateKey: b.privateKey,
          publicKey: b.publicKey,
          previousKeys: [{ kid: 'a', key: a.publicKey }],
        },
      });
      expect(during.verify(old, NOW).sub).toBe('u');
      expect(decode(during.issue('u', SID, NOW).token).header).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: 'b' });
      const after = service({
        accessToken: { algorithm: 'ES256', kid: 'b', privateKey: b.privateKey, publicKey: b.publicKey },
      });
      expectInvalid(after, old);
    });
  });
});
