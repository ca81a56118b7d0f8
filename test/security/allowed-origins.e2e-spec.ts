/**
 * `csrf.allowedOrigins` with opaque-origin schemes (issue 10 item 5, SECURITY.md S-40, S-42).
 *
 * `new URL('capacitor://localhost').origin` is the string "null", so such an entry used to allow
 * `Origin: null` (sandboxed frames, data: URLs) and refuse the app it was meant for. Entries are
 * now compared as written (`scheme://host[:port]`, normalised), `Origin: null` is always refused,
 * and entries that cannot be compared refuse to start. Driven through the sample's own
 * SESSION_ALLOWED_ORIGINS parsing, on memory and Redis.
 */
import request from 'supertest';
import { SessionConfigError } from '../../lib/index.js';
import { E2eHarness, STORES } from '../e2e/helpers/store-matrix.js';
import { ALICE, CookieClient } from '../utils/http.js';
import { type RunningSample, startSample } from '../utils/sample-app.js';

const harness = new E2eHarness();
beforeAll(() => harness.start());
afterAll(() => harness.stop());

/** Runs `start` with SESSION_ALLOWED_ORIGINS set (the sample reads it at startup), then restores it. */
async function withOrigins<T>(value: string, start: () => Promise<T>): Promise<T> {
  const saved = process.env.SESSION_ALLOWED_ORIGINS;
  process.env.SESSION_ALLOWED_ORIGINS = value;
  try {
    return await start();
  } finally {
    if (saved === undefined) delete process.env.SESSION_ALLOWED_ORIGINS;
    else process.env.SESSION_ALLOWED_ORIGINS = saved;
  }
}

const MOBILE = 'capacitor://localhost';
const OTHERS =
  'ionic://localhost, app://my-app, chrome-extension://abcdefghijklmnopabcdefghijklmnop, HTTPS://Web.Example.COM:443';

describe.each(STORES)('opaque-origin schemes in allowedOrigins on the $name store', (store) => {
  let url: string;
  beforeAll(async () => {
    url = (await withOrigins(`${MOBILE}, ${OTHERS}`, () => harness.sample(store))).url;
  });

  const loginFrom = (origin: string) => request(url).post('/auth/login').set('Origin', origin).send(ALICE);

  it('Origin: capacitor://localhost logs in by cookie and posts a note', async () => {
    const login = await loginFrom(MOBILE);
    expect(login.status).toBe(200);
    const app = new CookieClient(url);
    app.absorb(login);
    expect(app.access).not.toBe('');
    const note = await app.post('/notes', { text: 'from the app' }).set('Origin', MOBILE);
    expect(note.status).toBe(201);
    const refreshed = await app.post('/auth/refresh').set('Origin', MOBILE);
    expect(refreshed.status).toBe(200);
  });

  it('Origin: null is refused (403) at login, on a note and on refresh', async () => {
    const login = await loginFrom('null');
    expect(login.status).toBe(403);
    expect(login.headers['set-cookie']).toBeUndefined();
    const app = new CookieClient(url);
    app.absorb(await loginFrom(MOBILE));
    expect((await app.post('/notes', { text: 'x' }).set('Origin', 'null')).status).toBe(403);
    expect((await app.post('/auth/refresh').set('Origin', 'null')).status).toBe(403);
  });

  it('the other listed schemes are allowed as written; a listed https origin is normalised', async () => {
    for (const origin of [
      'ionic://localhost',
      'app://my-app',
      'chrome-extension://abcdefghijklmnopabcdefghijklmnop',
      'https://web.example.com',
    ]) {
      expect([origin, (await loginFrom(origin)).status]).toEqual([origin, 200]);
    }
  });

  it('near misses are refused: other host, other port, other scheme', async () => {
    for (const origin of [
      'capacitor://evil',
      'capacitor://localhost:8080',
      'ionic://localhost.evil',
      'http://localhost',
      'https://web.example.com:8443',
    ]) {
      expect([origin, (await loginFrom(origin)).status]).toEqual([origin, 403]);
    }
  });
});

describe('entries that cannot be compared refuse to start', () => {
  it.each([
    ['null', 'null'],
    ['a path', 'https://app.example.com/login'],
    ['a query', 'capacitor://localhost?x=1'],
    ['a fragment', 'https://app.example.com#top'],
    ['userinfo', 'https://user@app.example.com'],
    ['no scheme', 'app.example.com'],
    ['garbage', 'not an origin'],
    ['an empty host', 'capacitor://'],
    ['a bad port', 'https://app.example.com:99999'],
  ])('%s (%s) → SessionConfigError naming the entry', async (_name, entry) => {
    const err = await withOrigins(entry, () => startSample({})).then(
      async (s: RunningSample) => {
        await s.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SessionConfigError);
    expect((err as Error).message).toMatch(/csrf\.allowedOrigins/);
    expect((err as Error).message).toContain(JSON.stringify(entry));
  });
});
