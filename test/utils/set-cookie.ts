/**
 * The test tree's one Set-Cookie parser. A line such as
 * `__Host-session=eyJ…; Path=/; Max-Age=900; HttpOnly; Secure; SameSite=Lax` becomes
 * `{ name: '__Host-session', value: 'eyJ…', attrs: { path: '/', 'max-age': '900', httponly: true, secure: true, samesite: 'Lax' } }`.
 * Attribute names are case-insensitive: they are stored lower-cased (`Max-Age` → `max-age`),
 * their values as sent; a flag without `=` (HttpOnly, Secure, Partitioned) is `true`.
 */

/** Anything with response headers: a supertest/superagent response, a Node IncomingMessage. */
export interface WithHeaders {
  headers: Record<string, unknown>;
}

/** One Set-Cookie line, parsed. */
export interface SetCookie {
  /** The cookie name and value, whitespace-trimmed; a cleared cookie has the value ''. */
  name: string;
  value: string;
  /** Attributes by lower-cased name (path, domain, max-age, expires, samesite, httponly, secure, …). */
  attrs: Record<string, string | true>;
  /** The whole line as received. */
  raw: string;
}

/** The raw Set-Cookie lines of a response, in order (none → []). */
export function setCookieLines(res: WithHeaders): string[] {
  const raw = res.headers['set-cookie'];
  if (Array.isArray(raw)) return raw.map(String);
  return typeof raw === 'string' && raw !== '' ? [raw] : [];
}

/** Parses one Set-Cookie line. */
export function parseSetCookie(line: string): SetCookie {
  const [pair = '', ...rest] = line.split(';');
  const eq = pair.indexOf('=');
  const attrs: Record<string, string | true> = {};
  for (const part of rest) {
    const i = part.indexOf('=');
    const key = (i < 0 ? part : part.slice(0, i)).trim().toLowerCase();
    if (key) attrs[key] = i < 0 ? true : part.slice(i + 1).trim();
  }
  return {
    name: eq < 0 ? '' : pair.slice(0, eq).trim(),
    value: (eq < 0 ? pair : pair.slice(eq + 1)).trim(),
    attrs,
    raw: line,
  };
}

/** Every Set-Cookie line of a response, parsed, in order. */
export function parseSetCookies(res: WithHeaders): SetCookie[] {
  return setCookieLines(res).map(parseSetCookie);
}

/** The single Set-Cookie line for `name`; throws (failing the test) when there is none or several. */
export function setCookie(res: WithHeaders, name: string): SetCookie {
  const found = parseSetCookies(res).filter((c) => c.name === name);
  if (found.length !== 1) {
    throw new Error(`expected one Set-Cookie for ${name}, got ${found.length}: ${JSON.stringify(setCookieLines(res))}`);
  }
  return found[0];
}
