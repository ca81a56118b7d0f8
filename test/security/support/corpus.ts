/**
 * The fixed corpus of hostile tokens (SECURITY.md section 2 / S-67). Every entry is built from a
 * live session's token so that it differs from an accepted token only in what the case names.
 */
import { createHmac, randomBytes } from 'node:crypto';
import {
  ACCESS_HEADER,
  ACCESS_KEY,
  accessClaims,
  b64url,
  newSid,
  OTHER_ACCESS_KEY,
  payloadOf,
  REFRESH_HEADER,
  REFRESH_KEY,
  sign,
} from './forge.js';

export interface LiveTokens {
  /** A live session's access and refresh tokens (valid where they belong). */
  access: string;
  refresh: string;
  /** Tokens of a session that was logged out. */
  revokedAccess: string;
  revokedRefresh: string;
  /** A refresh token rotated out already (presenting it again is theft). */
  rotatedRefresh: string;
  /** Another user's access token. */
  bobAccess: string;
}

export interface CorpusEntry {
  name: string;
  token: string;
  /** Where the token is genuinely valid, so it is not sent there. */
  validAt?: 'refresh';
}

const now = () => Math.floor(Date.now() / 1000);
const unsigned = (header: object, payload: object, sig = '') =>
  `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}.${sig}`;

export function tokenCorpus(live: LiveTokens): CorpusEntry[] {
  const claims = payloadOf(live.access);
  const sub = String(claims.sub);
  const sid = String(claims.sid);
  const good = (over: Record<string, unknown> = {}) => accessClaims(sub, sid, over);
  const [h, p, s] = live.access.split('.') as [string, string, string];
  const bobPayload = live.bobAccess.split('.')[1];

  return [
    // alg none and friends (S-01)
    { name: 'alg none, no signature', token: unsigned({ alg: 'none', typ: 'at+jwt' }, good()) },
    { name: 'alg None', token: unsigned({ alg: 'None', typ: 'at+jwt' }, good()) },
    { name: 'alg NONE', token: unsigned({ alg: 'NONE', typ: 'at+jwt' }, good()) },
    { name: 'alg nOnE', token: unsigned({ alg: 'nOnE', typ: 'at+jwt' }, good()) },
    {
      name: 'alg none keeping a real signature',
      token: `${b64url(JSON.stringify({ alg: 'none', typ: 'at+jwt' }))}.${p}.${s}`,
    },
    { name: 'no alg at all', token: sign({ typ: 'at+jwt' }, good()) },
    // algorithm confusion (S-02)
    { name: 'HS384 with the real key', token: sign({ alg: 'HS384', typ: 'at+jwt' }, good(), ACCESS_KEY, 'sha384') },
    { name: 'HS512 with the real key', token: sign({ alg: 'HS512', typ: 'at+jwt' }, good(), ACCESS_KEY, 'sha512') },
    { name: 'RS256 header, HMAC signature', token: sign({ alg: 'RS256', typ: 'at+jwt' }, good()) },
    { name: 'ES256 header, HMAC signature', token: sign({ alg: 'ES256', typ: 'at+jwt' }, good()) },
    { name: 'alg as an array', token: sign({ alg: ['HS256'], typ: 'at+jwt' }, good()) },
    // key material from the token (S-04, S-05, S-13)
    {
      name: 'embedded jwk with the attacker key',
      token: sign(
        { ...ACCESS_HEADER, jwk: { kty: 'oct', k: b64url('attacker-key') } },
        good(),
        Buffer.from('attacker-key'),
      ),
    },
    {
      name: 'jku pointing elsewhere',
      token: sign({ ...ACCESS_HEADER, jku: 'https://evil.example/jwks.json' }, good(), randomBytes(32)),
    },
    {
      name: 'x5u pointing elsewhere',
      token: sign({ ...ACCESS_HEADER, x5u: 'https://evil.example/cert.pem' }, good(), randomBytes(32)),
    },
    {
      name: 'kid path traversal, empty key',
      token: sign({ ...ACCESS_HEADER, kid: '../../../../dev/null' }, good(), Buffer.alloc(0)),
    },
    { name: 'kid SQL injection', token: sign({ ...ACCESS_HEADER, kid: "' OR '1'='1" }, good()) },
    { name: 'unknown crit header', token: sign({ ...ACCESS_HEADER, crit: ['exp'] }, good()) },
    // wrong keys and type confusion (S-08, S-57, S-58)
    { name: 'wrong key (another deployment)', token: sign(ACCESS_HEADER, good(), OTHER_ACCESS_KEY) },
    { name: 'access header signed with the refresh key', token: sign(ACCESS_HEADER, good(), REFRESH_KEY) },
    { name: 'live refresh token used as access token', token: live.refresh, validAt: 'refresh' },
    { name: 'access header, payload typ refresh', token: sign(ACCESS_HEADER, good({ typ: 'refresh', gen: 0 })) },
    { name: 'refresh header, access payload, refresh key', token: sign(REFRESH_HEADER, good(), REFRESH_KEY) },
    { name: 'wrong typ header (JWT)', token: sign({ alg: 'HS256', typ: 'JWT' }, good()) },
    { name: 'header without typ', token: sign({ alg: 'HS256' }, good()) },
    { name: 'header keys reordered', token: sign({ typ: 'at+jwt', alg: 'HS256' }, good()) },
    { name: 'header with JSON whitespace', token: sign(b64url('{"alg": "HS256", "typ": "at+jwt"}'), good()) },
    {
      name: 'header with a duplicate alg key',
      token: sign(b64url('{"alg":"none","alg":"HS256","typ":"at+jwt"}'), good()),
    },
    // shape (S-11, S-65)
    { name: 'truncated by one character', token: live.access.slice(0, -1) },
    { name: 'two segments', token: `${h}.${p}` },
    { name: 'empty signature', token: `${h}.${p}.` },
    { name: 'extra fourth segment', token: `${live.access}.${s}` },
    { name: 'five segments (JWE shape)', token: `${h}.${p}.${s}.${s}.${s}` },
    { name: 'base64 with padding', token: `${h}==.${p}.${s}` },
    { name: 'standard base64 alphabet', token: `${h}.${p}.${s.replace(/[A-Za-z]/, '+')}` },
    { name: 'case-flipped', token: live.access.replace(/[a-z]/g, (c) => c.toUpperCase()) },
    { name: 'payload spliced from another session', token: `${h}.${bobPayload}.${s}` },
    { name: 'non-JSON header, signed', token: sign(b64url('not json'), good()) },
    { name: 'non-JSON payload, signed', token: sign(ACCESS_HEADER, b64url('hello')) },
    { name: 'payload a JSON array, signed', token: sign(ACCESS_HEADER, [good()]) },
    { name: 'payload null, signed', token: sign(ACCESS_HEADER, null) },
    { name: 'payload a string, signed', token: sign(ACCESS_HEADER, 'alice') },
    { name: 'huge (3 KB)', token: sign(ACCESS_HEADER, good({ pad: 'x'.repeat(2200) })) },
    { name: 'huge (12 KB)', token: sign(ACCESS_HEADER, good({ pad: 'x'.repeat(9000) })) },
    // time claims (S-06, S-07)
    { name: 'expired', token: sign(ACCESS_HEADER, good({ iat: now() - 1000, exp: now() - 100 })) },
    { name: 'future nbf', token: sign(ACCESS_HEADER, good({ nbf: now() + 3600 })) },
    { name: 'iat in the future', token: sign(ACCESS_HEADER, good({ iat: now() + 3600, exp: now() + 3900 })) },
    { name: 'no exp', token: sign(ACCESS_HEADER, good({ exp: undefined })) },
    { name: 'exp 1e20', token: sign(ACCESS_HEADER, good({ exp: 1e20 })) },
    { name: 'exp as a string', token: sign(ACCESS_HEADER, good({ exp: String(now() + 600) })) },
    { name: 'lifetime longer than the access TTL', token: sign(ACCESS_HEADER, good({ exp: now() + 86400 })) },
    // session binding (S-10, S-11)
    { name: 'unknown sid', token: sign(ACCESS_HEADER, accessClaims(sub, newSid())) },
    { name: 'revoked sid', token: live.revokedAccess },
    { name: 'sid in the wrong format', token: sign(ACCESS_HEADER, good({ sid: '../../etc/passwd' })) },
    { name: 'sid as a number', token: sign(ACCESS_HEADER, good({ sid: 12345 })) },
    { name: 'sub of another user on this sid', token: sign(ACCESS_HEADER, good({ sub: 'u-bob' })) },
    { name: 'sub as an object', token: sign(ACCESS_HEADER, good({ sub: { $ne: null } })) },
    { name: 'sub with a Redis hash tag', token: sign(ACCESS_HEADER, good({ sub: 'u-alice}{x' })) },
    // refresh-side hostiles
    { name: 'refresh alg none', token: unsigned({ alg: 'none', typ: 'rt+jwt' }, { ...payloadOf(live.refresh) }) },
    { name: 'refresh signed with the access key', token: sign(REFRESH_HEADER, payloadOf(live.refresh), ACCESS_KEY) },
    {
      name: 'refresh with a negative generation',
      token: sign(REFRESH_HEADER, { ...payloadOf(live.refresh), gen: -1 }, REFRESH_KEY),
    },
    { name: 'refresh of a revoked session', token: live.revokedRefresh },
    { name: 'refresh rotated out (reuse)', token: live.rotatedRefresh },
    // plain garbage
    { name: 'empty string', token: '' },
    { name: 'null', token: 'null' },
    { name: 'dots only', token: '..' },
    { name: 'unicode', token: 'ëÿ.☃.🙂' },
    { name: 'NUL inside the live token', token: `${h}.${p}\u0000.${s}` },
    { name: 'unbalanced quote before the live token', token: `"${live.access}` },
    { name: 'quoted garbage', token: '"abc"' },
    { name: 'percent-encoded dots', token: live.access.replace(/\./g, '%2E') },
    { name: 'bad percent-encoding', token: '%zz%E0%A4%A' },
    { name: 'HMAC of the empty string', token: createHmac('sha256', ACCESS_KEY).update('').digest('base64url') },
  ];
}

/** Whole Cookie headers; `name` is the access or refresh cookie name. */
export function cookieCorpus(
  live: LiveTokens,
): Array<{ name: string; header: (cookie: string, token: string) => string; refreshAccepts?: true }> {
  return [
    // A duplicated access cookie is refused. The refresh cookie can be planted by a sibling
    // subdomain, so its verifying copy is used instead (test/security/cookie-parsing.e2e-spec.ts).
    { name: 'duplicated live cookie', header: (c, t) => `${c}=${t}; ${c}=${t}`, refreshAccepts: true },
    { name: 'live then garbage duplicate', header: (c, t) => `${c}=${t}; ${c}=x`, refreshAccepts: true },
    {
      name: 'live among more copies than the refresh bound',
      header: (c, t) => [t, ...Array.from({ length: 9 }, (_, i) => `p${i}`)].map((v) => `${c}=${v}`).join('; '),
    },
    { name: '%zz value', header: (c) => `${c}=%zz` },
    { name: 'URI-encoded live token', header: (c, t) => `${c}=${encodeURIComponent(t).replace(/\./g, '%2E')}` },
    { name: 'unterminated quote', header: (c) => `${c}="unterminated` },
    { name: 'empty value', header: (c) => `${c}=` },
    { name: 'name without =', header: (c) => c },
    { name: 'empty name carrying the token', header: (_c, t) => `=${t}` },
    { name: 'unprefixed name carrying the token', header: (c, t) => `${c.replace(/^__(Host|Secure)-/, '')}=${t}` },
    { name: 'separators only', header: () => ';;;; ; ;=;==' },
    { name: 'NUL after the value', header: (c, t) => `${c}=${t}\u0000` },
    { name: 'latin-1 value', header: (c) => `${c}=\u00ff\u00fe\u00e9` },
    { name: 'UTF-8 value', header: (c) => `${c}=☃🙂` },
    { name: 'a thousand other cookies', header: () => Array.from({ length: 1000 }, (_, i) => `c${i}=v`).join('; ') },
    { name: 'token split by a semicolon', header: (c, t) => `${c}=${t.slice(0, 20)};${t.slice(20)}` },
    {
      name: 'revoked session cookie',
      header: (c) => `${c}=${c.includes('refresh') ? live.revokedRefresh : live.revokedAccess}`,
    },
  ];
}
