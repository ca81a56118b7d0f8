import { isUnderPrefix, normalisedSegments } from './route-headers.js';

describe('normalisedSegments', () => {
  it('drops query and fragment, decodes %XX, lower-cases, applies . and ..', () => {
    expect(normalisedSegments('/AUTH/Login?next=/x#y')).toEqual(['auth', 'login']);
    expect(normalisedSegments('/%61uth/%2E%2E/auth/refresh')).toEqual(['auth', 'refresh']);
    expect(normalisedSegments('//auth//./login/')).toEqual(['auth', 'login']);
    expect(normalisedSegments('\\auth\\login')).toEqual(['auth', 'login']);
    expect(normalisedSegments('/%zz/%')).toEqual(['%zz', '%']);
  });
});

describe('isUnderPrefix', () => {
  const AUTH = ['auth'];
  it.each([
    '/auth',
    '/auth/',
    '/AUTH/LOGIN',
    '/Auth/Refresh?x=1',
    '/%41uth/login',
    '/api/auth/login',
    '/v1/auth/refresh',
    'http://h/auth/x',
  ])('%s is under /auth', (url) => expect(isUnderPrefix(url, AUTH)).toBe(true));
  it.each(['/', '/me', '/authx/login', '/x/author', '/notes?auth=1', '/auth/../me', '/health#auth'])(
    '%s is not',
    (url) => expect(isUnderPrefix(url, AUTH)).toBe(false),
  );
  it('matches multi-segment prefixes as a run, and never for the root prefix', () => {
    expect(isUnderPrefix('/API/Auth/login', ['api', 'auth'])).toBe(true);
    expect(isUnderPrefix('/api/x/auth/login', ['api', 'auth'])).toBe(false);
    expect(isUnderPrefix('/anything', [])).toBe(false);
  });
});
