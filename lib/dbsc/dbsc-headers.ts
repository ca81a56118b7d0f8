import { type Item, parseItem, serializeItem, serializeList, Token } from 'structured-headers';
import { DbscRefusal } from './dbsc-errors.js';
import { DBSC_ALGORITHMS } from './device-key.js';

/** Longest DBSC request header read (a proof with an RSA-4096 `jwk` is about 1.3 KB). */
const MAX_HEADER_LENGTH = 4096;
/** What a bare (unquoted) value may hold: the base64url and `.` of our identifiers and JWTs. */
const BARE = /^[A-Za-z0-9._-]+$/;

/**
 * The string in a DBSC request header (`Sec-Secure-Session-Id`, `Secure-Session-Response`): an
 * RFC 9651 sf-string as the spec writes it, or the bare value Chromium sends (it does not quote
 * them). Parameters are ignored, as the spec says. Anything else is a 400.
 */
export function readDbscString(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (value.length > MAX_HEADER_LENGTH) throw new DbscRefusal(400, `${name}_too_long`);
  let item: Item;
  try {
    item = parseItem(value);
  } catch {
    // A bare JWT is not an sf-token when it starts with a digit or holds `-`; accept it as it is.
    const bare = value.trim();
    if (BARE.test(bare)) return bare;
    throw new DbscRefusal(400, `${name}_malformed`);
  }
  // `unknown`: the BareItem union names DOM types (BufferSource) this Node build does not load.
  const bare: unknown = item[0];
  if (typeof bare === 'string' && BARE.test(bare)) return bare;
  if (bare instanceof Token && BARE.test(bare.toString())) return bare.toString();
  throw new DbscRefusal(400, `${name}_malformed`);
}

/** `Secure-Session-Registration: (ES256 RS256);path="…";challenge="…";authorization="…"` */
export function registrationHeader(path: string, challenge: string, authorization: string): string {
  return serializeList([
    [
      DBSC_ALGORITHMS.map((alg) => [new Token(alg), new Map()]),
      new Map<string, string>([
        ['path', path],
        ['challenge', challenge],
        ['authorization', authorization],
      ]),
    ],
  ]);
}

/** `Secure-Session-Challenge: "…";id="…"` */
export function challengeHeader(challenge: string, sessionIdentifier: string): string {
  return serializeItem(challenge, new Map([['id', sessionIdentifier]]));
}
