/** Reading cookies, strictly: the module writes them through Nest's HTTP adapter (`SessionTransport`). */

/** Marker for a cookie name sent more than once (cookie tossing); never a usable value. */
export const AMBIGUOUS = Symbol('ambiguous-cookie');

/**
 * RFC 6265 §5.2 trims only WSP (SP and HTAB). JS `trim()` also strips U+00A0, U+FEFF and more,
 * which made `\u00a0__Host-session` (a different cookie, maybe set by someone else) count as ours.
 */
function trimWsp(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && (s.charCodeAt(start) === 32 || s.charCodeAt(start) === 9)) start += 1;
  while (end > start && (s.charCodeAt(end - 1) === 32 || s.charCodeAt(end - 1) === 9)) end -= 1;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** Calls `found` for each cookie in a Cookie header whose name is in `names`; stops when it returns false. */
function scan<N extends string>(
  header: unknown,
  names: readonly N[],
  found: (name: N, value: string) => boolean | void,
): void {
  // Typed as a string, but a header value from an untyped adapter must not crash the request.
  if (typeof header !== 'string' || !header) return;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = trimWsp(part.slice(0, eq)) as N;
    if (!names.includes(name)) continue;
    let value = trimWsp(part.slice(eq + 1));
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (found(name, value) === false) return;
  }
}

/**
 * Reads exactly the named cookies from a Cookie header. Anything malformed around them is
 * ignored; a name that appears twice yields `AMBIGUOUS` so the request is refused.
 */
export function readCookies<N extends string>(
  header: string | undefined,
  names: readonly N[],
): Partial<Record<N, string | typeof AMBIGUOUS>> {
  const out: Partial<Record<N, string | typeof AMBIGUOUS>> = {};
  scan(header, names, (name, value) => {
    out[name] = out[name] === undefined ? value : AMBIGUOUS;
  });
  return out;
}

/**
 * Every distinct value sent under `name`, in header order, or `AMBIGUOUS` when there are more
 * than `max` of them. For a cookie a sibling subdomain can plant a copy of (a `Domain` cookie):
 * the caller tries each copy instead of refusing them all.
 */
export function readCookieCopies(header: string | undefined, name: string, max: number): string[] | typeof AMBIGUOUS {
  const values: string[] = [];
  let tooMany = false;
  scan(header, [name], (_name, value) => {
    if (values.includes(value)) return true;
    if (values.length === max) {
      tooMany = true;
      return false;
    }
    values.push(value);
    return true;
  });
  return tooMany ? AMBIGUOUS : values;
}
