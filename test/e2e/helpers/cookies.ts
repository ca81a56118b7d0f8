/** One Set-Cookie line: name, value and attributes (attribute names lower-cased). */
export interface SetCookie {
  name: string;
  value: string;
  attributes: Map<string, string | true>;
}

/** Every Set-Cookie line of a response, parsed. */
export function parseSetCookies(res: { headers: Record<string, unknown> }): SetCookie[] {
  const raw = res.headers['set-cookie'];
  const lines = Array.isArray(raw) ? (raw as string[]) : raw ? [String(raw)] : [];
  return lines.map((line) => {
    const [pair, ...attrs] = line.split(';');
    const eq = pair!.indexOf('=');
    const attributes = new Map<string, string | true>();
    for (const a of attrs) {
      const i = a.indexOf('=');
      if (i < 0) attributes.set(a.trim().toLowerCase(), true);
      else attributes.set(a.slice(0, i).trim().toLowerCase(), a.slice(i + 1).trim());
    }
    return { name: pair!.slice(0, eq).trim(), value: pair!.slice(eq + 1).trim(), attributes };
  });
}

/** The single Set-Cookie line for `name` (fails the test when there is none or several). */
export function setCookie(res: { headers: Record<string, unknown> }, name: string): SetCookie {
  const found = parseSetCookies(res).filter((c) => c.name === name);
  if (found.length !== 1) throw new Error(`expected one Set-Cookie for ${name}, got ${found.length}`);
  return found[0]!;
}
