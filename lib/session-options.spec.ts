import { createHash, createHmac, createSecretKey, generateKeyPairSync, hkdfSync, randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { CsrfService } from './csrf/csrf.service.js';
import type { SessionModuleOptions } from './interfaces/session-module-options.interface.js';
import { assertStrongSecret } from './secret-strength.js';
import { resolveSessionOptions } from './session-options.js';
import { AccessTokenService } from './tokens/access-token.service.js';
import { RefreshTokenService } from './tokens/refresh-token.service.js';
import { InvalidTokenError, SessionConfigError } from './session.errors.js';

const SECRET = createHash('sha256').update('session-options.spec').digest('base64url');
const NOW = 1_900_000_000_000;
const NOW_S = NOW / 1000;
const SID = 'AbCdEfGhIjKlMnOpQrStUv';

const hkdf = (secret: string | Buffer, info: string): Buffer =>
  Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), info, 32));

/** Resolves and returns the SessionConfigError message, failing if anything else happens. */
function refusal(options: SessionModuleOptions): string {
  let thrown: unknown;
  try {
    resolveSessionOptions(options);
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(SessionConfigError);
  return (thrown as Error).message;
}

function services(options: SessionModuleOptions) {
  const resolved = resolveSessionOptions(options);
  return {
    resolved,
    access: new AccessTokenService(resolved),
    refresh: new RefreshTokenService(resolved),
    csrf: new CsrfService(resolved),
  };
}

/** Deterministic stand-in for CSPRNG output (SHA-256 in counter mode), so the corpus is reproducible. */
function pseudoRandom(seed: string, i: number): Buffer {
  return createHash('sha256').update(`${seed}:${i}`).digest();
}

describe('resolveSessionOptions', () => {
  describe('secret strength (S-55)', () => {
    it('refuses a secret shorter than 32 bytes and says how to make a good one', () => {
      const message = refusal({ secret: SECRET.slice(0, 31) });
      expect(message).toMatch(/31 bytes/);
      expect(message).toMatch(/at least 32/);
      expect(message).toMatch(/randomBytes\(32\)/);
      expect(refusal({ secret: randomBytes(31) })).toMatch(/at least 32/);
      expect(refusal({ secret: '' })).toMatch(/at least 32/);
    });

    it('accepts 32 random bytes, as a Buffer or as base64url text', () => {
      const bytes = pseudoRandom('accept', 0);
      expect(() => resolveSessionOptions({ secret: bytes })).not.toThrow();
      expect(() => resolveSessionOptions({ secret: bytes.toString('base64url') })).not.toThrow();
      expect(() => resolveSessionOptions({ secret: SECRET })).not.toThrow();
    });

    it.each([
      'change-me-change-me-change-me-change-me',
      'CHANGEME_TO_A_LONG_RANDOM_VALUE_1234567',
      'secret-secret-secret-secret-secret-secret',
      'SuperSecretKey!2024#ForMyApplication$$',
      'your-256-bit-jwt-signing-key-goes-here!!',
      'replace-with-output-of-openssl-rand-base64',
      'placeholder-value-do-not-use-in-prod-0123',
      'my-password-is-very-long-and-safe-0123456789',
      'a'.repeat(64),
      'ab'.repeat(32),
      '0123456789'.slice(0, 8).repeat(5),
      'x'.repeat(32),
      '0123456789'.repeat(4),
      'Abc123!?xyZ'.repeat(3),
      'TODO: put the real signing key in here, 1234',
      'demo_key_for_the_local_dev_environment_42',
      'thisisalongtestkeyforthedevenvironment42',
      'MYTODOKEYFORTHEDEVENVIRONMENTPLEASE123',
    ])('refuses the placeholder-looking secret %j with what to do instead', (secret) => {
      const message = refusal({ secret });
      expect(message).toMatch(/placeholder/);
      expect(message).toMatch(/32 random bytes/);
    });

    it('refuses low-entropy and placeholder secrets given as Buffers too', () => {
      expect(refusal({ secret: Buffer.alloc(32) })).toMatch(/placeholder/);
      expect(refusal({ secret: Buffer.alloc(64, 'a') })).toMatch(/placeholder/);
      expect(refusal({ secret: Buffer.from('change-me-change-me-change-me-change-me') })).toMatch(/placeholder/);
    });

    it('never refuses genuinely random secrets (hex, base64, base64url, raw bytes)', () => {
      // 20 000 secrets per encoding; the old substring check refused about 1 in 7 000 base64url secrets
      // (e.g. any that happened to contain "test"), including ones made with the command it recommends.
      const refused: string[] = [];
      for (let i = 0; i < 20_000; i += 1) {
        const bytes = pseudoRandom('random-secrets', i);
        for (const secret of [bytes, bytes.toString('hex'), bytes.toString('base64'), bytes.toString('base64url')]) {
          try {
            assertStrongSecret(secret, 'secret');
          } catch {
            refused.push(typeof secret === 'string' ? secret : secret.toString('hex'));
          }
        }
      }
      expect(refused).toEqual([]);
    });
  });

  describe('timeouts', () => {
    it('refuses an access ttl that is not shorter than the idle timeout', () => {
      expect(refusal({ secret: SECRET, accessToken: { ttl: 1800 }, idleTimeout: 1800 })).toMatch(
        /accessToken\.ttl.*shorter than idleTimeout/,
      );
      expect(refusal({ secret: SECRET, accessToken: { ttl: 3600 } })).toMatch(/shorter than idleTimeout/);
      expect(() =>
        resolveSessionOptions({ secret: SECRET, accessToken: { ttl: 1799 }, idleTimeout: 1800 }),
      ).not.toThrow();
    });

    it('refuses an idle timeout longer than the absolute timeout (equal is allowed)', () => {
      expect(refusal({ secret: SECRET, idleTimeout: 7200, absoluteTimeout: 3600 })).toMatch(
        /idleTimeout.*absoluteTimeout/,
      );
      expect(() => resolveSessionOptions({ secret: SECRET, idleTimeout: 3600, absoluteTimeout: 3600 })).not.toThrow();
    });

    it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY, 0.5, 899.5])('refuses accessToken.ttl %p', (ttl) => {
      expect(refusal({ secret: SECRET, accessToken: { ttl } })).toMatch(/accessToken\.ttl/);
    });

    it.each([
      [{ idleTimeout: 0 }, /idleTimeout/],
      [{ absoluteTimeout: -5 }, /absoluteTimeout/],
      [{ refreshGrace: -1 }, /refreshGrace/],
      [{ refreshGrace: 3600 }, /refreshGrace/],
      [{ clockTolerance: 120 }, /clockTolerance/],
      [{ touchInterval: 1800 }, /touchInterval/],
      [{ silentRenewal: 900 }, /silentRenewal/],
    ] as Array<[SessionModuleOptions, RegExp]>)('refuses %p', (over, what) => {
      expect(refusal({ secret: SECRET, ...over })).toMatch(what);
    });
  });

  describe('HKDF key derivation (capability 13, S-57)', () => {
    const { resolved, access, refresh, csrf } = services({ secret: SECRET });
    const accessKey = hkdf(SECRET, 'nestjs-jwt-session access-token');
    const refreshKey = hkdf(SECRET, 'nestjs-jwt-session refresh-token');
    const csrfKey = hkdf(SECRET, 'nestjs-jwt-session csrf');

    it('derives the access key as HKDF-SHA256(secret, empty salt, "nestjs-jwt-session access-token", 32)', () => {
      const { token } = access.issue('u-alice', SID, NOW);
      const payload = jwt.verify(token, accessKey, { algorithms: ['HS256'], clockTimestamp: NOW_S });
      expect(payload).toMatchObject({ sub: 'u-alice', sid: SID, typ: 'access' });
      expect(resolved.access.signKey.export()).toEqual(accessKey);
    });

    it('derives the refresh key with info "nestjs-jwt-session refresh-token"', () => {
      const token = refresh.sign('u-alice', SID, 0, NOW_S, NOW_S + 3600);
      expect(jwt.verify(token, refreshKey, { algorithms: ['HS256'], clockTimestamp: NOW_S })).toMatchObject({
        typ: 'refresh',
        gen: 0,
      });
      expect(() => jwt.verify(token, accessKey, { algorithms: ['HS256'], clockTimestamp: NOW_S })).toThrow();
    });

    it('derives the CSRF key with info "nestjs-jwt-session csrf" (HMAC over "<sid>.<nonce>")', () => {
      const token = csrf.issue(SID);
      const [nonce, mac] = token.split('.') as [string, string];
      expect(createHmac('sha256', csrfKey).update(`${SID}.${nonce}`).digest('base64url')).toBe(mac);
      expect(createHmac('sha256', accessKey).update(`${SID}.${nonce}`).digest('base64url')).not.toBe(mac);
    });

    it('the three keys differ from each other and from the secret', () => {
      const keys = [accessKey, refreshKey, csrfKey, Buffer.from(SECRET)].map((k) => k.toString('hex'));
      expect(new Set(keys).size).toBe(4);
      expect(resolved.refreshKey.export()).toEqual(refreshKey);
      expect(resolved.csrfKey).toEqual(csrfKey);
    });

    it('keys of one purpose are useless for another', () => {
      const { token } = access.issue('u-alice', SID, NOW);
      expect(() => refresh.verify(token, NOW)).toThrow(InvalidTokenError);
      expect(() => access.verify(refresh.sign('u-alice', SID, 0, NOW_S, NOW_S + 3600), NOW)).toThrow(InvalidTokenError);
    });
  });

  describe('environments (S-58)', () => {
    const prod = services({ secret: SECRET });
    const staging = services({ secret: pseudoRandom('staging', 0).toString('base64url') });

    it('two secrets do not accept each other’s access, refresh or CSRF tokens', () => {
      expect(() => prod.access.verify(staging.access.issue('u', SID, NOW).token, NOW)).toThrow(InvalidTokenError);
      expect(() => staging.access.verify(prod.access.issue('u', SID, NOW).token, NOW)).toThrow(InvalidTokenError);
      expect(() => prod.refresh.verify(staging.refresh.sign('u', SID, 0, NOW_S, NOW_S + 60), NOW)).toThrow(
        InvalidTokenError,
      );
      expect(prod.csrf.verify(SID, staging.csrf.issue(SID))).toBe(false);
      expect(staging.csrf.verify(SID, prod.csrf.issue(SID))).toBe(false);
      // Sanity: each accepts its own.
      expect(prod.access.verify(prod.access.issue('u', SID, NOW).token, NOW).sub).toBe('u');
      expect(staging.csrf.verify(SID, staging.csrf.issue(SID))).toBe(true);
    });

    it('with a shared secret, issuer and audience still keep environments apart', () => {
      const a = services({ secret: SECRET, accessToken: { issuer: 'https://id.prod.example', audience: 'prod' } });
      const b = services({
        secret: SECRET,
        accessToken: { issuer: 'https://id.staging.example', audience: 'staging' },
      });
      const c = services({ secret: SECRET, accessToken: { issuer: 'https://id.prod.example', audience: 'staging' } });
      expect(() => a.access.verify(b.access.issue('u', SID, NOW).token, NOW)).toThrow(InvalidTokenError);
      expect(() => a.access.verify(c.access.issue('u', SID, NOW).token, NOW)).toThrow(InvalidTokenError);
      expect(() => c.access.verify(a.access.issue('u', SID, NOW).token, NOW)).toThrow(InvalidTokenError);
      expect(a.access.verify(a.access.issue('u', SID, NOW).token, NOW).sub).toBe('u');
    });
  });

  describe('explicit per-purpose keys', () => {
    const k = (label: string) => pseudoRandom(`explicit-${label}`, 0);

    it('accepts explicit access, refresh and CSRF keys without a master secret, and uses them as given', () => {
      const { access, refresh, csrf } = services({
        accessToken: { secret: k('access') },
        refreshSecret: k('refresh').toString('base64url'),
        csrfSecret: createSecretKey(k('csrf')),
      });
      const { token } = access.issue('u', SID, NOW);
      expect(jwt.verify(token, k('access'), { algorithms: ['HS256'], clockTimestamp: NOW_S })).toMatchObject({
        sub: 'u',
      });
      const rt = refresh.sign('u', SID, 1, NOW_S, NOW_S + 60);
      expect(
        jwt.verify(rt, k('refresh').toString('base64url'), { algorithms: ['HS256'], clockTimestamp: NOW_S }),
      ).toMatchObject({ gen: 1 });
      const [nonce, mac] = csrf.issue(SID).split('.') as [string, string];
      expect(createHmac('sha256', k('csrf')).update(`${SID}.${nonce}`).digest('base64url')).toBe(mac);
    });

    it('says which key is missing when there is no master secret', () => {
      expect(refusal({})).toMatch(/secret/);
      expect(refusal({ accessToken: { secret: k('access') } })).toMatch(/refreshSecret/);
      expect(refusal({ accessToken: { secret: k('access') }, refreshSecret: k('refresh') })).toMatch(/csrfSecret/);
    });

    it('refuses weak explicit keys', () => {
      expect(refusal({ secret: SECRET, accessToken: { secret: 'short' } })).toMatch(/accessToken\.secret.*at least 32/);
      expect(refusal({ secret: SECRET, refreshSecret: createSecretKey(randomBytes(16)) })).toMatch(
        /refreshSecret.*at least 32/,
      );
      expect(refusal({ secret: SECRET, csrfSecret: 'change-me-change-me-change-me-change-me' })).toMatch(
        /csrfSecret.*placeholder/,
      );
    });

    it('refuses one key reused for two purposes', () => {
      const same = k('same');
      expect(refusal({ accessToken: { secret: same }, refreshSecret: same, csrfSecret: k('csrf') })).toMatch(
        /must differ/,
      );
      expect(refusal({ accessToken: { secret: same }, refreshSecret: k('refresh'), csrfSecret: same })).toMatch(
        /must differ/,
      );
      expect(refusal({ accessToken: { secret: k('access') }, refreshSecret: same, csrfSecret: same })).toMatch(
        /must differ/,
      );
    });
  });

  describe('asymmetric keys', () => {
    it('refuses a missing or wrong-type key pair with what is needed', () => {
      const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      expect(refusal({ secret: SECRET, accessToken: { algorithm: 'RS256', privateKey: rsa.privateKey } })).toMatch(
        /publicKey/,
      );
      expect(
        refusal({
          secret: SECRET,
          accessToken: { algorithm: 'RS256', privateKey: ec.privateKey, publicKey: ec.publicKey },
        }),
      ).toMatch(/RS256 needs rsa/);
      expect(
        refusal({
          secret: SECRET,
          accessToken: { algorithm: 'ES256', privateKey: rsa.privateKey, publicKey: rsa.publicKey },
        }),
      ).toMatch(/ES256 needs ec/);
      expect(refusal({ secret: SECRET, accessToken: { algorithm: 'HS512' as never } })).toMatch(/not supported/);
    });

    it('refuses at startup the keys jsonwebtoken would only reject at the first login', () => {
      const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
      expect(
        refusal({
          secret: SECRET,
          accessToken: { algorithm: 'RS256', privateKey: weak.privateKey, publicKey: weak.publicKey },
        }),
      ).toMatch(/2048/);
      const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
      expect(
        refusal({
          secret: SECRET,
          accessToken: { algorithm: 'ES256', privateKey: p384.privateKey, publicKey: p384.publicKey },
        }),
      ).toMatch(/P-256/);
    });

    it('EdDSA: takes an Ed25519 pair and refuses other key types and a mismatched pair', () => {
      const a = generateKeyPairSync('ed25519');
      const b = generateKeyPairSync('ed25519');
      const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const ed448 = generateKeyPairSync('ed448');
      expect(
        resolveSessionOptions({
          secret: SECRET,
          accessToken: { algorithm: 'EdDSA', privateKey: a.privateKey, publicKey: a.publicKey },
        }).access.algorithm,
      ).toBe('EdDSA');
      expect(
        refusal({
          secret: SECRET,
          accessToken: { algorithm: 'EdDSA', privateKey: ec.privateKey, publicKey: ec.publicKey },
        }),
      ).toMatch(/EdDSA needs ed25519/);
      expect(
        refusal({
          secret: SECRET,
          accessToken: { algorithm: 'EdDSA', privateKey: ed448.privateKey, publicKey: ed448.publicKey },
        }),
      ).toMatch(/EdDSA needs ed25519/);
      expect(
        refusal({
          secret: SECRET,
          accessToken: { algorithm: 'EdDSA', privateKey: a.privateKey, publicKey: b.publicKey },
        }),
      ).toMatch(/do not match/);
    });

    it('refuses a private and public key that do not belong together', () => {
      const a = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const b = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      expect(
        refusal({
          secret: SECRET,
          accessToken: { algorithm: 'ES256', privateKey: a.privateKey, publicKey: b.publicKey },
        }),
      ).toMatch(/do not match/);
    });

    it('accepts PEM strings', () => {
      const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const { access } = services({
        secret: SECRET,
        accessToken: {
          algorithm: 'ES256',
          privateKey: ec.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
          publicKey: ec.publicKey.export({ type: 'spki', format: 'pem' }) as string,
        },
      });
      expect(access.verify(access.issue('u', SID, NOW).token, NOW).sub).toBe('u');
    });
  });

  describe('key rotation options', () => {
    it('needs a current kid, refuses a previous kid equal to it, and refuses odd kids', () => {
      const old = { kid: 'k1', key: pseudoRandom('k1', 0) };
      expect(refusal({ secret: SECRET, accessToken: { previousKeys: [old] } })).toMatch(/kid is required/);
      expect(refusal({ secret: SECRET, accessToken: { kid: 'k1', previousKeys: [old] } })).toMatch(
        /equals the current kid/,
      );
      expect(refusal({ secret: SECRET, accessToken: { kid: '../../etc/passwd' } })).toMatch(/kid/);
      expect(refusal({ secret: SECRET, accessToken: { kid: "' OR 1=1 --" } })).toMatch(/kid/);
      expect(
        refusal({ secret: SECRET, accessToken: { kid: 'k2', previousKeys: [{ kid: 'k1', key: 'short' }] } }),
      ).toMatch(/previousKeys/);
    });
  });

  describe('cookies (S-32, S-36)', () => {
    it('defaults to __Host- / __Secure- names with Secure, and to plain names without', () => {
      expect(resolveSessionOptions({ secret: SECRET }).cookies).toMatchObject({
        secure: true,
        accessName: '__Host-session',
        refreshName: '__Secure-refresh',
        accessSameSite: 'Lax',
        refreshSameSite: 'Strict',
        refreshPath: '/auth/refresh',
      });
      expect(resolveSessionOptions({ secret: SECRET, cookies: { secure: false } }).cookies).toMatchObject({
        secure: false,
        accessName: 'session',
        refreshName: 'refresh',
      });
      expect(resolveSessionOptions({ secret: SECRET }, '/api/auth/').cookies.refreshPath).toBe('/api/auth/refresh');
    });

    it.each([
      ['__Host- with a Domain', { domain: 'example.com' }, /__Host-.*Domain/],
      ['__Host- access name without Secure', { secure: false, accessName: '__Host-session' }, /needs cookies\.secure/],
      [
        '__Secure- refresh name without Secure',
        { secure: false, refreshName: '__Secure-refresh' },
        /needs cookies\.secure/,
      ],
      ['__Host- refresh name (it is path-scoped)', { refreshName: '__Host-refresh' }, /refreshName cannot use __Host-/],
      [
        'SameSite=None on the access cookie without Secure',
        { secure: false, accessSameSite: 'None' },
        /SameSite=None needs cookies\.secure/,
      ],
      [
        'SameSite=None on the refresh cookie without Secure',
        { secure: false, refreshSameSite: 'None' },
        /SameSite=None/,
      ],
      ['the same name for both cookies', { accessName: 'sess', refreshName: 'sess' }, /must differ/],
      ['an invalid cookie name', { accessName: 'a b;c' }, /not a valid cookie name/],
    ] as Array<[string, SessionModuleOptions['cookies'], RegExp]>)('refuses %s', (_name, cookies, message) => {
      expect(refusal({ secret: SECRET, cookies })).toMatch(message);
    });

    it('accepts a Domain with a __Secure- access name, and SameSite=None with Secure', () => {
      expect(() =>
        resolveSessionOptions({
          secret: SECRET,
          cookies: { domain: 'example.com', accessName: '__Secure-session', accessSameSite: 'None' },
        }),
      ).not.toThrow();
    });
  });

  it.each([
    ['not a url', /is not an origin/],
    ['null', /opaque origin "null"/],
    ['NULL', /opaque origin "null"/],
    ['https://app.example.com/path', /path, query, fragment or userinfo/],
    ['https://app.example.com?x', /path, query, fragment or userinfo/],
    ['https://a:b@app.example.com', /path, query, fragment or userinfo/],
    ['capacitor://', /no host/],
    ['https://app.example.com:0', /port outside/],
    [' https://app.example.com', /is not an origin/],
  ])('refuses the allowed origin %j', (entry, message) => {
    const text = refusal({ secret: SECRET, csrf: { allowedOrigins: [entry] } });
    expect(text).toMatch(/csrf\.allowedOrigins/);
    expect(text).toMatch(message);
  });

  it('keeps allowed origins as scheme://host[:port], normalised the way browsers send them', () => {
    const origins = (list: string[]) => [
      ...resolveSessionOptions({ secret: SECRET, csrf: { allowedOrigins: list } }).csrf.allowedOrigins,
    ];
    expect(origins(['capacitor://localhost', 'Ionic://LocalHost', 'app://my-app:8080', 'file://'])).toEqual([
      'capacitor://localhost',
      'ionic://localhost',
      'app://my-app:8080',
      'file://',
    ]);
    expect(
      origins(['HTTPS://App.Example.COM:443', 'http://localhost:80/', 'http://localhost:3000', 'https://[::1]:8443']),
    ).toEqual(['https://app.example.com', 'http://localhost', 'http://localhost:3000', 'https://[::1]:8443']);
    expect(origins(['capacitor://localhost'])).not.toContain('null');
  });
});
