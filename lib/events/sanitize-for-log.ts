/**
 * Characters escaped in user-supplied log text: controls (C0, C1), format characters (bidi
 * overrides and isolates, zero-width, BOM, soft hyphen, tags), line/paragraph separators, lone
 * surrogates, and the backslash itself so that an escape in the output always means one in the
 * input. Bidi and zero-width characters let a value read differently from what it is.
 */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\\]/u;

function escape(char: string): string {
  if (char === '\\') return '\\\\';
  const code = char.codePointAt(0) as number;
  return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * Makes user-supplied text safe for one log line: unsafe characters become `\uXXXX` escapes
 * (log injection, spoofing) and the result is at most `max` characters, never cut inside an
 * escape or a surrogate pair.
 * @publicApi
 */
export function sanitizeForLog(value: string, max = 200): string {
  if (value.length <= max && !UNSAFE.test(value)) return value;
  let out = '';
  for (const char of value) {
    const piece = UNSAFE.test(char) ? escape(char) : char;
    if (out.length + piece.length > max) break;
    out += piece;
  }
  return out;
}
