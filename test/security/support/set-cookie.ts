/** One Set-Cookie line, parsed: name, value and attributes (lower-case keys). */
export interface ParsedCookie {
  name: string;
  value: string;
  raw: string;
  attrs: Record<string, string | true>;
}

export function parseSetCookieLines(res: { headers: Record<string, unknown> }): ParsedCookie[] {
  const raw = res.headers['set-cookie'];
  const lines = Array.isArray(raw) ? (raw as string[]) : raw ? [String(raw)] : [];
  return lines.map((line) => {
    const [pair, ...rest] = line.split(';');
    const eq = pair!.indexOf('=');
    const attrs: Record<string, string | true> = {};
    for (const a of rest) {
      const i = a.indexOf('=');
      if (i < 0) attrs[a.trim().toLowerCase()] = true;
      else attrs[a.slice(0, i).trim().toLowerCase()] = a.slice(i + 1).trim();
    }
    return { name: pair!.slice(0, eq).trim(), value: pair!.slice(eq + 1), raw: line, attrs };
  });
}

export function cookieNamed(res: { headers: Record<string, unknown> }, name: string): ParsedCookie {
  const c = parseSetCookieLines(res).find((x) => x.name === name);
  if (!c) throw new Error(`no Set-Cookie for ${name} in ${JSON.stringify(res.headers['set-cookie'])}`);
  return c;
}

/** Attributes without Max-Age (which differs between setting and clearing). */
export function attributesBesidesMaxAge(c: ParsedCookie): Record<string, string | true> {
  const { 'max-age': _maxAge, ...rest } = c.attrs;
  return rest;
}
