import { parseSetCookie, parseSetCookies, setCookie, setCookieLines } from './set-cookie.js';

const ACCESS = '__Host-session=eyJh.eyJi.c2ln; Path=/; Max-Age=900; HttpOnly; Secure; SameSite=Lax';
const CLEARED =
  '__Secure-refresh=; Path=/auth/refresh; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Secure; SameSite=Strict';

describe('test/utils/set-cookie', () => {
  it('parses name, value and attributes; flags are true', () => {
    expect(parseSetCookie(ACCESS)).toEqual({
      name: '__Host-session',
      value: 'eyJh.eyJi.c2ln',
      attrs: { path: '/', 'max-age': '900', httponly: true, secure: true, samesite: 'Lax' },
      raw: ACCESS,
    });
  });

  it('lower-cases attribute names whatever their case, keeps values as sent, trims whitespace', () => {
    const c = parseSetCookie(
      ' a = b ;pAtH=/X ; MAX-AGE=5;httponly; SECURE ;SameSite=strict; Domain=Example.test; Partitioned',
    );
    expect(c.name).toBe('a');
    expect(c.value).toBe('b');
    expect(c.attrs).toEqual({
      path: '/X',
      'max-age': '5',
      httponly: true,
      secure: true,
      samesite: 'strict',
      domain: 'Example.test',
      partitioned: true,
    });
  });

  it('a cleared cookie has an empty value; Expires keeps its comma; "=" inside a value is kept', () => {
    const c = parseSetCookie(CLEARED);
    expect(c.value).toBe('');
    expect(c.attrs.expires).toBe('Thu, 01 Jan 1970 00:00:00 GMT');
    expect(c.attrs['max-age']).toBe('0');
    expect(parseSetCookie('k=a=b==; Path=/').value).toBe('a=b==');
  });

  it('reads the header as an array, a single string or nothing', () => {
    expect(setCookieLines({ headers: { 'set-cookie': [ACCESS, CLEARED] } })).toEqual([ACCESS, CLEARED]);
    expect(setCookieLines({ headers: { 'set-cookie': ACCESS } })).toEqual([ACCESS]);
    expect(setCookieLines({ headers: {} })).toEqual([]);
    expect(parseSetCookies({ headers: { 'set-cookie': [ACCESS, CLEARED] } }).map((c) => c.name)).toEqual([
      '__Host-session',
      '__Secure-refresh',
    ]);
  });

  it('setCookie returns the one line for a name and throws on none or several', () => {
    const res = { headers: { 'set-cookie': [ACCESS, CLEARED, ACCESS] } };
    expect(setCookie(res, '__Secure-refresh').attrs.path).toBe('/auth/refresh');
    expect(() => setCookie(res, 'missing')).toThrow(/expected one Set-Cookie for missing, got 0/);
    expect(() => setCookie(res, '__Host-session')).toThrow(/expected one Set-Cookie for __Host-session, got 2/);
  });
});
