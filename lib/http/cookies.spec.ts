import { randomBytes } from 'node:crypto';
import { AMBIGUOUS, readCookieCopies, readCookies } from './cookies.js';

const ACCESS = '__Host-session';
const REFRESH = '__Secure-refresh';
const NAMES = [ACCESS, REFRESH] as const;

describe('readCookies (S-35, S-65)', () => {
  it('reads only the named cookies', () => {
    const header = `theme=dark; ${ACCESS}=a.b.c; other=1; ${REFRESH}=r.s.t; session=shadow`;
    expect(readCookies(header, NAMES)).toEqual({ [ACCESS]: 'a.b.c', [REFRESH]: 'r.s.t' });
    expect(readCookies(header, [ACCESS])).toEqual({ [ACCESS]: 'a.b.c' });
  });

  it('returns nothing for a missing or empty header', () => {
    expect(readCookies(undefined, NAMES)).toEqual({});
    expect(readCookies('', NAMES)).toEqual({});
    expect(readCookies('theme=dark', NAMES)).toEqual({});
  });

  it('does not read look-alike names (other case, extra prefix or suffix)', () => {
    const header = `__host-session=a; __HOST-session=b; x${ACCESS}=c; ${ACCESS}x=d; ${ACCESS.slice(7)}=e`;
    expect(readCookies(header, NAMES)).toEqual({});
  });

  it('marks a duplicated name AMBIGUOUS, whatever the values (cookie tossing)', () => {
    expect(readCookies(`${ACCESS}=a; ${ACCESS}=b`, NAMES)[ACCESS]).toBe(AMBIGUOUS);
    expect(readCookies(`${ACCESS}=a; ${ACCESS}=a`, NAMES)[ACCESS]).toBe(AMBIGUOUS);
    expect(readCookies(`${ACCESS}=a; ${ACCESS}=b; ${ACCESS}=c`, NAMES)[ACCESS]).toBe(AMBIGUOUS);
    expect(readCookies(`${ACCESS}=a;${ACCESS}=`, NAMES)[ACCESS]).toBe(AMBIGUOUS);
    // The other name is unaffected.
    expect(readCookies(`${ACCESS}=a; ${ACCESS}=b; ${REFRESH}=r`, NAMES)[REFRESH]).toBe('r');
  });

  it('ignores garbage segments around the named cookie', () => {
    const header = `;;; ; =x; novalue; ==; a=b=c; "q"; ${ACCESS}=tok ;  ;\u0000; =`;
    expect(readCookies(header, NAMES)).toEqual({ [ACCESS]: 'tok' });
  });

  it('trims whitespace and one pair of surrounding quotes, keeps "=" inside values', () => {
    expect(readCookies(`  ${ACCESS} =  "a.b"  `, NAMES)).toEqual({ [ACCESS]: 'a.b' });
    expect(readCookies(`${ACCESS}=a=b`, NAMES)).toEqual({ [ACCESS]: 'a=b' });
    expect(readCookies(`${ACCESS}="`, NAMES)).toEqual({ [ACCESS]: '"' });
  });

  it('trims only SP and HTAB (RFC 6265 §5.2), not the other characters JS trim() removes', () => {
    expect(readCookies(`\t${ACCESS}\t=\ttok\t`, NAMES)).toEqual({ [ACCESS]: 'tok' });
    for (const ws of ['\u00a0', '\ufeff', '\u000b', '\u000c', '\u2028', '\u3000', '\n']) {
      expect(readCookies(`${ws}${ACCESS}=tok`, NAMES)).toEqual({});
      expect(readCookies(`${ACCESS}${ws}=tok`, NAMES)).toEqual({});
      expect(readCookies(`${ACCESS}=tok${ws}`, NAMES)).toEqual({ [ACCESS]: `tok${ws}` });
    }
  });

  it('never throws and only ever returns named keys with string or AMBIGUOUS values on weird input', () => {
    const alphabet = [
      '=',
      ';',
      ' ',
      '"',
      ',',
      '\t',
      '\n',
      '\u0000',
      '\u2028',
      'é',
      '💥',
      '%',
      '\\',
      ACCESS,
      REFRESH,
      'a',
      'Z',
      '-',
      '.',
    ];
    const started = Date.now();
    for (let i = 0; i < 5000; i += 1) {
      const bytes = randomBytes(1 + (i % 64));
      const header = Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
      const out = readCookies(header, NAMES);
      for (const [k, v] of Object.entries(out)) {
        expect(NAMES).toContain(k);
        expect(typeof v === 'string' || v === AMBIGUOUS).toBe(true);
      }
    }
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('stays fast on a huge header with many segments', () => {
    const header = `${'x=y; '.repeat(20000)}${ACCESS}=tok`;
    const started = Date.now();
    expect(readCookies(header, NAMES)).toEqual({ [ACCESS]: 'tok' });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('does not let a cookie named __proto__ or constructor reach the result', () => {
    const out = readCookies(`__proto__=x; constructor=y; ${ACCESS}=t`, NAMES);
    expect(Object.keys(out)).toEqual([ACCESS]);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });

  it('never throws when a non-string header slips through (untyped adapters)', () => {
    for (const odd of [['a=b'], 42, {}, null] as unknown[]) {
      expect(() => readCookies(odd as string, NAMES)).not.toThrow();
      expect(readCookies(odd as string, NAMES)).toEqual({});
    }
  });
});

describe('readCookieCopies (planted Domain cookies)', () => {
  it('returns every distinct copy in header order', () => {
    expect(readCookieCopies(`${REFRESH}=a; x=1; ${REFRESH}=b; ${REFRESH}=a`, REFRESH, 8)).toEqual(['a', 'b']);
    expect(readCookieCopies(`${REFRESH}=a`, REFRESH, 8)).toEqual(['a']);
    expect(readCookieCopies('x=1', REFRESH, 8)).toEqual([]);
    expect(readCookieCopies(undefined, REFRESH, 8)).toEqual([]);
  });

  it('is AMBIGUOUS beyond the bound of distinct copies; repeats of one value do not count', () => {
    const copies = (n: number) => Array.from({ length: n }, (_, i) => `${REFRESH}=v${i}`).join('; ');
    expect(readCookieCopies(copies(8), REFRESH, 8)).toHaveLength(8);
    expect(readCookieCopies(copies(9), REFRESH, 8)).toBe(AMBIGUOUS);
    expect(readCookieCopies(`${REFRESH}=same; `.repeat(50), REFRESH, 8)).toEqual(['same']);
  });

  it('applies the same trimming and quoting as readCookies', () => {
    expect(readCookieCopies(`\u00a0${REFRESH}=a; \t${REFRESH} = "b" `, REFRESH, 8)).toEqual(['b']);
  });
});
