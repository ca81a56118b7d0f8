/** Cookie attributes the module writes. */
export interface CookieAttributes {
  maxAge: number;
  path: string;
  sameSite: 'Strict' | 'Lax' | 'None';
  secure: boolean;
  domain?: string;
}

/** Serializes a cookie; values are base64url tokens, so no encoding is needed. */
export function serializeCookie(name: string, value: string, a: CookieAttributes): string {
  let out = `${name}=${value}; Path=${a.path}; Max-Age=${Math.max(0, Math.floor(a.maxAge))}; HttpOnly; SameSite=${a.sameSite}`;
  if (a.secure) out += '; Secure';
  if (a.domain) out += `; Domain=${a.domain}`;
  return out;
}

/** Marker for a cookie name sent more than once (cookie tossing); never a usable value. */
export const AMBIGUOUS = Symbol('ambiguous-cookie');

/**
 * Reads exactly the named cookies from a Cookie header. Anything malformed around them is
 * ignored; a name that appears twice yields `AMBIGUOUS` so the request is refused.
 */
export function readCookies<N extends string>(
  header: string | undefined,
  names: readonly N[],
): Partial<Record<N, string | typeof AMBIGUOUS>> {
  const out: Partial<Record<N, string | typeof AMBIGUOUS>> = {};
  // Typed as a string, but a header value from an untyped adapter must not crash the request.
  if (typeof header !== 'string' || !header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim() as N;
    if (!names.includes(name)) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    out[name] = out[name] === undefined ? value : AMBIGUOUS;
  }
  return out;
}
