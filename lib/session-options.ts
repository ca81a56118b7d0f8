import { createPrivateKey, createPublicKey, createSecretKey, hkdfSync, KeyObject, sign, verify } from 'node:crypto';
import type {
  AccessTokenAlgorithm,
  KeyInput,
  SessionModuleOptions,
} from './interfaces/session-module-options.interface.js';
import type { SessionAuditEvent } from './interfaces/session-event.interface.js';
import { normaliseOrigin } from './csrf/origin.js';

/** HKDF `info` strings; documented in the README so other services can derive the same keys. */
export const HKDF_INFO = {
  access: 'nestjs-jwt-session access-token',
  refresh: 'nestjs-jwt-session refresh-token',
  csrf: 'nestjs-jwt-session csrf',
  log: 'nestjs-jwt-session log',
} as const;

const MIN_SECRET_BYTES = 32;
/** Placeholder words long enough to count anywhere (random base64 holds one about once in 10^7 secrets). */
const PLACEHOLDER_WORDS = ['secret', 'change', 'placeholder', 'example', 'default', 'password', 'replace', 'sample', 'testing'];
/**
 * Short words: as plain substrings they turn up in about 1 in 6 000 random base64url secrets
 * ("...tEsT..."), which made genuinely random secrets fail at startup. So in mixed-case text (what
 * base64 looks like) they only count as whole words (below 1 in a million); in single-case text
 * (typed passphrases; hex cannot spell them) they count anywhere. "xxxx…" fails the distinct-character check.
 */
const SHORT_WORDS = ['your', 'todo', 'test', 'dummy', 'demo'];
const SHORT_WHOLE_WORD = new RegExp(`(?:^|[^a-z0-9])(${SHORT_WORDS.join('|')})(?:[^a-z0-9]|$)`);

/** Thrown at startup when the options cannot give a secure configuration. */
export class SessionConfigError extends Error {
  constructor(message: string) {
    super(`nestjs-jwt-session: ${message}`);
    this.name = 'SessionConfigError';
  }
}

/** Options after defaults, validation and key derivation. Built once at startup. */
export interface ResolvedSessionOptions {
  accessTtl: number;
  idleTimeoutMs: number;
  absoluteTimeoutMs: number;
  graceMs: number;
  touchIntervalMs: number;
  clockTolerance: number;
  access: {
    algorithm: AccessTokenAlgorithm;
    issuer: string | undefined;
    audience: string | undefined;
    kid: string | undefined;
    signKey: KeyObject;
    verifyKey: KeyObject;
    previousKeys: Map<string, KeyObject>;
  };
  refreshKey: KeyObject;
  csrfKey: Buffer;
  logKey: Buffer;
  cookies: {
    secure: boolean;
    accessName: string;
    refreshName: string;
    accessSameSite: 'Strict' | 'Lax' | 'None';
    refreshSameSite: 'Strict' | 'Lax' | 'None';
    domain: string | undefined;
    clearSiteData: boolean;
    refreshPath: string;
  };
  csrf: { enabled: boolean; headerName: string; allowedOrigins: Set<string> };
  cleanup: { enabled: boolean; cron: string; batchSize: number };
  redis: { keyPrefix: string; commandTimeout: number; clock: 'server' | 'local' };
  silentRenewal: number;
  requireHttps: boolean;
  clock: () => number;
  onEvent: ((event: SessionAuditEvent) => void) | undefined;
  routePrefix: string;
}

/** True when `text` is a short unit repeated ("0123456789" x 4); random text never is. */
function isRepetition(text: string): boolean {
  for (let period = 1; period <= Math.min(64, text.length / 2); period += 1) {
    let repeats = true;
    for (let i = period; i < text.length && repeats; i += 1) repeats = text[i] === text[i - period];
    if (repeats) return true;
  }
  return false;
}

/** Why `text` looks human-made, or undefined when it looks random. */
function placeholderReason(text: string): string | undefined {
  const lower = text.toLowerCase();
  const singleCase = text === lower || text === text.toUpperCase();
  const word =
    PLACEHOLDER_WORDS.find((w) => lower.includes(w)) ??
    (singleCase ? SHORT_WORDS.find((w) => lower.includes(w)) : SHORT_WHOLE_WORD.exec(lower)?.[1]);
  if (word) return `contains "${word}"`;
  if (new Set(text).size < 10) return 'too few distinct characters';
  if (isRepetition(text)) return 'a short pattern repeated';
  return undefined;
}

/** Rejects secrets that are short or look like a placeholder (strings and Buffers alike). */
export function assertStrongSecret(secret: string | Buffer, what: string): Buffer {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new SessionConfigError(
      `${what} is ${bytes.length} bytes; it must be at least ${MIN_SECRET_BYTES} random bytes ` +
        `(generate one with: node -e "console.log(require('crypto').randomBytes(32).toString('base64url'))")`,
    );
  }
  // latin1 maps each byte to one character, so Buffer.alloc(32) or Buffer.from('change-me…') are caught too.
  const reason = placeholderReason(typeof secret === 'string' ? secret : bytes.toString('latin1'));
  if (reason) {
    throw new SessionConfigError(`${what} looks like a placeholder (${reason}); use at least 32 random bytes from a CSPRNG`);
  }
  return bytes;
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

function positive(value: number | undefined, fallback: number, what: string): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v <= 0) throw new SessionConfigError(`${what} must be a positive number of seconds`);
  return v;
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
    throw new SessionConfigError(`${what} is a ${details.modulusLength}-bit RSA key; ${algorithm} needs at least 2048 bits`);
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
    throw new SessionConfigError(`accessToken.algorithm "${algorithm}" is not supported (HS256, RS256, PS256, ES256, EdDSA)`);
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
    let matches = false;
    try {
      const digest = algorithm === 'EdDSA' ? null : 'sha256'; // Ed25519 hashes internally
      matches = verify(digest, probe, verifyKey, sign(digest, probe, signKey));
    } catch {
      matches = false;
    }
    if (!matches) throw new SessionConfigError('accessToken.privateKey and accessToken.publicKey do not match');
  }
  const previousKeys = new Map<string, KeyObject>();
  for (const prev of a.previousKeys ?? []) {
    const pk = assertKid(prev.kid, 'accessToken.previousKeys[].kid');
    if (pk === kid) throw new SessionConfigError(`previous key kid "${pk}" equals the current kid`);
    const what = `accessToken.previousKeys["${pk}"]`;
    if (asymmetric) {
      const key = prev.key instanceof KeyObject ? prev.key : createPublicKey(prev.key);
      assertAsymmetricKey(key, algorithm, what);
      previousKeys.set(pk, key);
    } else {
      previousKeys.set(pk, secretKey(prev.key, what));
    }
  }
  if (previousKeys.size > 0 && kid === undefined) {
    throw new SessionConfigError('accessToken.kid is required when accessToken.previousKeys are given');
  }
  return { algorithm, issuer: a.issuer, audience: a.audience, kid, signKey, verifyKey, previousKeys };
}

function cookieName(name: string | undefined, fallback: string, what: string): string {
  const n = name ?? fallback;
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(n)) throw new SessionConfigError(`${what} "${n}" is not a valid cookie name`);
  return n;
}

/** Applies defaults, validates and derives keys. Throws `SessionConfigError` with what to fix. */
export function resolveSessionOptions(options: SessionModuleOptions, routePrefix = 'auth'): ResolvedSessionOptions {
  const master = options.secret === undefined ? undefined : assertStrongSecret(options.secret, '`secret`');

  const accessTtl = positive(options.accessToken?.ttl, 900, 'accessToken.ttl');
  // exp = iat + ttl must be a whole second, or every issued token fails its own exp check.
  if (!Number.isInteger(accessTtl)) throw new SessionConfigError('accessToken.ttl must be a whole number of seconds');
  const idle = positive(options.idleTimeout, 1800, 'idleTimeout');
  const absolute = positive(options.absoluteTimeout, 604800, 'absoluteTimeout');
  const grace = options.refreshGrace ?? 10;
  if (!Number.isFinite(grace) || grace < 0 || grace > 300) {
    throw new SessionConfigError('refreshGrace must be between 0 and 300 seconds');
  }
  if (accessTtl >= idle) {
    throw new SessionConfigError(`accessToken.ttl (${accessTtl}s) must be shorter than idleTimeout (${idle}s)`);
  }
  if (idle > absolute) {
    throw new SessionConfigError(`idleTimeout (${idle}s) must not exceed absoluteTimeout (${absolute}s)`);
  }
  const touch = options.touchInterval ?? idle / 10;
  if (!Number.isFinite(touch) || touch < 0 || touch >= idle) {
    throw new SessionConfigError('touchInterval must be between 0 and idleTimeout');
  }
  const clockTolerance = options.clockTolerance ?? 5;
  if (!Number.isFinite(clockTolerance) || clockTolerance < 0 || clockTolerance > 60) {
    throw new SessionConfigError('clockTolerance must be between 0 and 60 seconds');
  }

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

  const c = options.cookies ?? {};
  const secure = c.secure ?? true;
  const cleanPrefix = routePrefix.replace(/^\/+|\/+$/g, '');
  const cookies = {
    secure,
    accessName: cookieName(c.accessName, secure ? '__Host-session' : 'session', 'cookies.accessName'),
    refreshName: cookieName(c.refreshName, secure ? '__Secure-refresh' : 'refresh', 'cookies.refreshName'),
    accessSameSite: c.accessSameSite ?? 'Lax',
    refreshSameSite: c.refreshSameSite ?? 'Strict',
    domain: c.domain,
    clearSiteData: c.clearSiteData ?? true,
    refreshPath: `/${cleanPrefix}${cleanPrefix ? '/' : ''}refresh`,
  } as const;
  for (const [name, what] of [
    [cookies.accessName, 'cookies.accessName'],
    [cookies.refreshName, 'cookies.refreshName'],
  ] as const) {
    if ((name.startsWith('__Host-') || name.startsWith('__Secure-')) && !secure) {
      throw new SessionConfigError(`${what} "${name}" needs cookies.secure (browsers drop prefixed cookies without Secure)`);
    }
    if (name.startsWith('__Host-') && cookies.domain) {
      throw new SessionConfigError(`${what} "${name}" cannot be used with cookies.domain (__Host- forbids Domain)`);
    }
  }
  if (cookies.refreshName.startsWith('__Host-')) {
    throw new SessionConfigError('cookies.refreshName cannot use __Host- (the refresh cookie is scoped to its path)');
  }
  if ((cookies.accessSameSite === 'None' || cookies.refreshSameSite === 'None') && !secure) {
    throw new SessionConfigError('SameSite=None needs cookies.secure (browsers reject it otherwise)');
  }
  if (cookies.accessName === cookies.refreshName) throw new SessionConfigError('access and refresh cookie names must differ');

  const allowedOrigins = new Set<string>();
  for (const o of options.csrf?.allowedOrigins ?? []) {
    const parsed = normaliseOrigin(o);
    if ('problem' in parsed) throw new SessionConfigError(`csrf.allowedOrigins entry ${JSON.stringify(o)} ${parsed.problem}`);
    allowedOrigins.add(parsed.origin);
  }
  const headerName = (options.csrf?.headerName ?? 'x-csrf-token').toLowerCase();

  const batchSize = options.cleanup?.batchSize ?? 500;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10000) {
    throw new SessionConfigError('cleanup.batchSize must be an integer between 1 and 10000');
  }
  const commandTimeout = options.redis?.commandTimeout ?? 1000;
  if (!Number.isFinite(commandTimeout) || commandTimeout <= 0) {
    throw new SessionConfigError('redis.commandTimeout must be a positive number of milliseconds');
  }
  const redisClock = options.redis?.clock ?? 'server';
  if (redisClock !== 'server' && redisClock !== 'local') {
    throw new SessionConfigError("redis.clock must be 'server' or 'local'");
  }
  const silentRenewal = options.silentRenewal ?? 0;
  if (!Number.isFinite(silentRenewal) || silentRenewal < 0 || silentRenewal >= accessTtl) {
    throw new SessionConfigError('silentRenewal must be between 0 and accessToken.ttl');
  }

  return {
    accessTtl,
    idleTimeoutMs: idle * 1000,
    absoluteTimeoutMs: absolute * 1000,
    graceMs: grace * 1000,
    touchIntervalMs: touch * 1000,
    clockTolerance,
    access,
    refreshKey,
    csrfKey,
    logKey,
    cookies,
    csrf: { enabled: options.csrf?.enabled ?? true, headerName, allowedOrigins },
    cleanup: {
      enabled: options.cleanup?.enabled ?? true,
      cron: options.cleanup?.cron ?? '0 * * * * *',
      batchSize,
    },
    redis: { keyPrefix: options.redis?.keyPrefix ?? 'sess:', commandTimeout, clock: redisClock },
    silentRenewal,
    requireHttps: options.requireHttps ?? false,
    clock: options.clock ?? Date.now,
    onEvent: options.onEvent,
    routePrefix: cleanPrefix,
  };
}
