import { createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { resolveSessionOptions } from '../session-options.js';
import { AccessTokenService } from './access-token.service.js';
import { RefreshTokenService } from './refresh-token.service.js';
import { InvalidTokenError } from '../session.errors.js';

const SECRET = createHash('sha256').update('refresh-token.service.spec').digest('base64url');
const NOW = 1_900_000_000_000;
const NOW_S = NOW / 1000;
const ABSOLUTE = 604800;
const EXP = NOW_S + ABSOLUTE;
const SID = 'AbCdEfGhIjKlMnOpQrStUv';
const info = (what: string) =>
  Buffer.from(hkdfSync('sha256', SECRET, Buffer.alloc(0), `nestjs-jwt-session ${what}`, 32));
const REFRESH_KEY = info('refresh-token');
const ACCESS_KEY = info('access-token');

const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
function craft(header: unknown, payload: unknown, key: Buffer = REFRESH_KEY, hash = 'sha256'): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac(hash, key).update(input).digest('base64url')}`;
}
const HEADER = { alg: 'HS256', typ: 'rt+jwt' };
const claims = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  sub: 'u-alice',
  sid: SID,
  gen: 3,
  typ: 'refresh',
  iat: NOW_S,
  exp: EXP,
  ...over,
});

const options = resolveSessionOptions({ secret: SECRET });
const svc = new RefreshTokenService(options);

function expectInvalid(token: unknown, now = NOW, s = svc): void {
  let thrown: unknown;
  try {
    s.verify(token, now);
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(InvalidTokenError);
}

describe('RefreshTokenService', () => {
  it('is deterministic: the same inputs give the identical token', () => {
    const a = svc.sign('u-alice', SID, 3, NOW_S, EXP);
    const b = new RefreshTokenService(resolveSessionOptions({ secret: SECRET })).sign('u-alice', SID, 3, NOW_S, EXP);
    expect(b).toBe(a);
    expect(svc.sign('u-alice', SID, 3, NOW_S, EXP)).toBe(a);
  });

  it('gives a different token for a different generation, session, user, iat or secret', () => {
    const base = svc.sign('u-alice', SID, 3, NOW_S, EXP);
    const variants = [
      svc.sign('u-alice', SID, 4, NOW_S, EXP),
      svc.sign('u-alice', 'ZbCdEfGhIjKlMnOpQrStUv', 3, NOW_S, EXP),
      svc.sign('u-bob', SID, 3, NOW_S, EXP),
      svc.sign('u-alice', SID, 3, NOW_S + 1, EXP),
      new RefreshTokenService(resolveSessionOptions({ secret: randomBytes(32) })).sign('u-alice', SID, 3, NOW_S, EXP),
    ];
    expect(new Set([base, ...variants]).size).toBe(variants.length + 1);
  });

  it('has the header {alg: HS256, typ: rt+jwt}, exactly sub, sid, gen, typ, iat, exp, and the HKDF refresh key', () => {
    const token = svc.sign('u-alice', SID, 3, NOW_S, EXP);
    const [h, p] = token.split('.') as [string, string];
    expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toEqual(HEADER);
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    expect(Object.keys(payload).sort()).toEqual(['exp', 'gen', 'iat', 'sid', 'sub', 'typ']);
    expect(jwt.verify(token, REFRESH_KEY, { algorithms: ['HS256'], clockTimestamp: NOW_S })).toEqual(claims());
    expect(svc.verify(token, NOW)).toEqual({ sub: 'u-alice', sid: SID, gen: 3, iat: NOW_S, exp: EXP });
  });

  describe('hash', () => {
    const token = svc.sign('u-alice', SID, 3, NOW_S, EXP);

    it('is not the token, does not contain it, and is a 128-bit base64url digest', () => {
      const h = svc.hash(token);
      expect(h).not.toBe(token);
      expect(token).not.toContain(h);
      expect(h).not.toContain(token.split('.')[2]);
      expect(h).toMatch(/^[A-Za-z0-9_-]{22}$/);
    });

    it('is stable (across calls and instances) and differs between tokens', () => {
      const other = new RefreshTokenService(resolveSessionOptions({ secret: SECRET }));
      expect(svc.hash(token)).toBe(svc.hash(token));
      expect(other.hash(token)).toBe(svc.hash(token));
      const hashes = new Set(
        Array.from({ length: 100 }, (_, gen) => svc.hash(svc.sign('u-alice', SID, gen, NOW_S, EXP))),
      );
      expect(hashes.size).toBe(100);
    });
  });

  describe('verify', () => {
    const token = svc.sign('u-alice', SID, 3, NOW_S, EXP);

    it('accepts the token until its absolute expiry plus the tolerance, not after', () => {
      expect(svc.verify(token, (EXP + 4) * 1000).gen).toBe(3);
      expectInvalid(token, (EXP + 5) * 1000);
    });

    it('refuses a flipped character in any segment', () => {
      const segments = token.split('.') as [string, string, string];
      for (let k = 0; k < 3; k += 1) {
        const seg = segments[k];
        for (const i of [0, Math.floor(seg.length / 2), seg.length - 2]) {
          const copy = [...segments];
          copy[k] = seg.slice(0, i) + (seg[i] === 'A' ? 'B' : 'A') + seg.slice(i + 1);
          expectInvalid(copy.join('.'));
        }
      }
    });

    const cases: Array<[string, () => unknown]> = [
      [
        'another generation spliced in, old signature',
        () => {
          const [h, , s] = token.split('.');
          return `${h}.${b64(claims({ gen: 4 }))}.${s}`;
        },
      ],
      ['signed with the access key', () => craft(HEADER, claims(), ACCESS_KEY)],
      ['signed with a random key', () => craft(HEADER, claims(), randomBytes(32))],
      ['an access token', () => new AccessTokenService(options).issue('u-alice', SID, NOW).token],
      ['access header, refresh key', () => craft({ alg: 'HS256', typ: 'at+jwt' }, claims())],
      ['typ access in the payload', () => craft(HEADER, claims({ typ: 'access' }))],
      ['typ missing', () => craft(HEADER, { ...claims(), typ: undefined })],
      ['alg none', () => `${b64({ alg: 'none', typ: 'rt+jwt' })}.${b64(claims())}.`],
      ['HS512 with the right key', () => craft({ alg: 'HS512', typ: 'rt+jwt' }, claims(), REFRESH_KEY, 'sha512')],
      ['kid header', () => craft({ ...HEADER, kid: '../../etc/passwd' }, claims())],
      ['negative gen', () => craft(HEADER, claims({ gen: -1 }))],
      ['fractional gen', () => craft(HEADER, claims({ gen: 1.5 }))],
      ['string gen', () => craft(HEADER, claims({ gen: '3' }))],
      ['missing gen', () => craft(HEADER, { ...claims(), gen: undefined })],
      ['missing exp', () => craft(HEADER, { ...claims(), exp: undefined })],
      ['exp 1e20', () => craft(HEADER, claims({ exp: 1e20 }))],
      ['lifetime beyond the absolute timeout', () => craft(HEADER, claims({ exp: NOW_S + ABSOLUTE + 1 }))],
      ['far-future iat', () => craft(HEADER, claims({ iat: NOW_S + 3600 }))],
      ['bad sid', () => craft(HEADER, claims({ sid: 'short' }))],
      ['numeric sub', () => craft(HEADER, claims({ sub: 1 }))],
      ['array payload', () => craft(HEADER, [claims()])],
      ['string payload', () => craft(HEADER, 'refresh')],
      ['> 2 KB', () => craft(HEADER, claims({ pad: 'x'.repeat(2100) }))],
      ['two segments', () => token.split('.').slice(0, 2).join('.')],
      ['not a string', () => ({ refreshToken: token })],
      ['undefined', () => undefined],
    ];
    it.each(cases)('%s → InvalidTokenError', (_name, make) => {
      expectInvalid(make());
    });

    it('accepts a hand-crafted canonical token, so the cases above differ only in their flaw', () => {
      expect(svc.verify(craft(HEADER, claims()), NOW)).toEqual({
        sub: 'u-alice',
        sid: SID,
        gen: 3,
        iat: NOW_S,
        exp: EXP,
      });
    });

    it('refuses tokens of another environment (secret)', () => {
      const staging = new RefreshTokenService(resolveSessionOptions({ secret: randomBytes(32) }));
      expectInvalid(staging.sign('u-alice', SID, 3, NOW_S, EXP));
    });
  });
});
