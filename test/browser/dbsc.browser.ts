/**
 * Device-bound sessions (DBSC) in a real Chromium: Debian's `chromium` (156 here) driven by
 * playwright-core, with DBSC on through feature flags and software keys. The sample runs over
 * HTTPS with a certificate made for this run; Chromium trusts exactly that key through
 * `--ignore-certificate-errors-spki-list` (`--ignore-certificate-errors` and Playwright's
 * `ignoreHTTPSErrors` would silently switch DBSC off).
 *
 * Shows: a cookie login registers a device key; the session lives past the access cookie's
 * lifetime through DBSC refreshes (proofs signed with that key); a copied access cookie works
 * only until its `exp`, and the copied refresh cookie renews nothing. Set DBSC_EXCHANGE_FILE to
 * write the captured registration and refresh exchange (tokens redacted) to that file.
 */
import { existsSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import request from 'supertest';
import { ALICE } from '../utils/http.js';
import type { RunningSample } from '../utils/sample-app.js';
import { selfSignedCertificate, startHttpsSample, type TestCertificate } from '../dbsc/helpers/https-sample.js';

const CHROMIUM = '/usr/bin/chromium';
/** The bound cookie's lifetime here: short, so the test sees it expire (Chromium refreshes < 2 min before expiry). */
const ACCESS_TTL = 4;

interface Exchange {
  at: number;
  method: string;
  path: string;
  status: number;
  request: Record<string, string>;
  response: Record<string, string>;
}

/** Header values fit to print: cookie values and proof signatures replaced, JWT parts decoded. */
function redact(name: string, value: string): string {
  if (name === 'cookie') return value.replace(/=([^;]*)/g, '=…');
  if (name === 'set-cookie') return value.replace(/^([^=]+)=[^;]*/, '$1=…');
  if (name === 'secure-session-response') {
    const [h, p] = value.replace(/"/g, '').split('.');
    const decode = (s = '') => Buffer.from(s, 'base64url').toString('utf8');
    return `${decode(h)} . ${decode(p)} . <signature>`;
  }
  return value;
}

const SHOWN = /^(sec-secure-session-id|secure-session-response|secure-session-skipped|cookie|origin|sec-fetch-site)$/;
const SHOWN_RESPONSE =
  /^(secure-session-registration|secure-session-challenge|set-cookie|cache-control|x-frame-options)$/;

function capture(server: NonNullable<RunningSample['app']>, into: Exchange[]): void {
  (server.getHttpServer() as import('node:https').Server).on('request', (req: IncomingMessage, res: ServerResponse) => {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (SHOWN.test(k)) headers[k] = redact(k, String(v));
    res.on('finish', () => {
      const response: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.getHeaders())) {
        if (!SHOWN_RESPONSE.test(k)) continue;
        response[k] = Array.isArray(v) ? v.map((x) => redact(k, String(x))).join(' | ') : redact(k, String(v));
      }
      into.push({
        at: Date.now(),
        method: req.method ?? '',
        path: req.url ?? '',
        status: res.statusCode,
        request: headers,
        response,
      });
    });
  });
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until a moment in real time has passed: the browser's cookie jar expires cookies by the wall clock. */
async function pastTime(epochMs: number): Promise<void> {
  const wait = epochMs - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}

function tokenExp(token: string): number {
  return (JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { exp: number }).exp * 1000;
}

describe('DBSC in Chromium (device-bound sessions over HTTPS)', () => {
  let tls: TestCertificate;
  let browser: Browser;
  let sample: RunningSample;
  let context: BrowserContext;
  let page: Page;
  const seen: Exchange[] = [];
  let login: { status: number; body: { csrfToken: string; accessTokenExpiresAt: string } };

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install it with "apt-get install chromium"`);
    tls = selfSignedCertificate();
    sample = await startHttpsSample(tls, { dbsc: { enabled: true }, accessToken: { ttl: ACCESS_TTL } });
    capture(sample.app, seen);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        `--ignore-certificate-errors-spki-list=${tls.spkiHash}`,
        // RefreshQuota/false lifts Chromium's 6 signings per 9 minutes per site.
        '--enable-features=DeviceBoundSessions:RefreshQuota/false,EnableBoundSessionCredentialsSoftwareKeysForManualTesting',
      ],
    });
    context = await browser.newContext();
    page = await context.newPage();
    await page.goto(`${sample.url}/`);
  });
  afterAll(async () => {
    await browser?.close();
    await sample?.close();
    tls?.remove();
    if (process.env.DBSC_EXCHANGE_FILE) writeFileSync(process.env.DBSC_EXCHANGE_FILE, JSON.stringify(seen, null, 2));
  });

  const fetchInPage = (path: string, init: { method?: string; body?: unknown; csrf?: string } = {}) =>
    page.evaluate(
      async ({ path, init }) => {
        const headers: Record<string, string> = { 'Content-Type': 'application/json' };
        if (init.csrf) headers['X-CSRF-Token'] = init.csrf;
        const r = await fetch(path, {
          method: init.method ?? 'GET',
          headers,
          body: init.body === undefined ? undefined : JSON.stringify(init.body),
        });
        const body: unknown = await r.json().catch(() => null);
        return { status: r.status, body };
      },
      { path, init },
    );

  it('registers a device key on a cookie login (the fetch answer carries Secure-Session-Registration)', async () => {
    login = (await fetchInPage('/auth/login', { method: 'POST', body: ALICE })) as typeof login;
    expect(login.status).toBe(200);
    const offer = seen.find((s) => s.path === '/auth/login');
    expect(offer?.response['secure-session-registration']).toMatch(
      /^\(ES256 RS256\);path="\/auth\/dbsc\/register";challenge="g[^"]+";authorization="[^"]+"$/,
    );
    const registration = await until('the registration', () =>
      seen.find((s) => s.path === '/auth/dbsc/register' && s.status !== 0),
    );
    expect(registration.status).toBe(200);
    expect(registration.request['secure-session-response']).toMatch(/"typ":"dbsc\+jwt"/);
    expect(registration.request['secure-session-response']).toMatch(/"jwk":\{/);
  });

  it('keeps the session past the access cookie lifetime through DBSC refreshes signed with the device key', async () => {
    const firstExp = Date.parse(login.body.accessTokenExpiresAt);
    await pastTime(firstExp + 1000);
    const me = await fetchInPage('/me');
    expect(me).toEqual({ status: 200, body: expect.objectContaining({ email: ALICE.email }) });
    const challenged = seen.filter((s) => s.path === '/auth/dbsc/refresh' && s.status === 403);
    const renewed = seen.filter((s) => s.path === '/auth/dbsc/refresh' && s.status === 200);
    expect(challenged.length).toBeGreaterThan(0);
    expect(challenged[0].response['secure-session-challenge']).toMatch(/^"r[^"]+";id="[^"]+"$/);
    expect(renewed.length).toBeGreaterThan(0);
    expect(renewed.at(-1)!.request['secure-session-response']).not.toMatch(/jwk/);
    expect(renewed.at(-1)!.response['set-cookie']).toMatch(/^__Host-session=…/);
    // The access cookie the browser holds now was issued after the first one expired.
    const access = (await context.cookies()).find((c) => c.name === '__Host-session');
    expect(tokenExp(access!.value)).toBeGreaterThan(firstExp);
  });

  it('a copied access cookie works only until its exp; the copied refresh cookie renews nothing', async () => {
    const jar = await context.cookies();
    const access = jar.find((c) => c.name === '__Host-session')!.value;
    const refresh = jar.find((c) => c.name === '__Secure-refresh')!.value;
    const thief = () => request(sample.url).get('/me').ca(tls.cert).set('Cookie', `__Host-session=${access}`);
    expect((await thief()).status).toBe(200);
    const viaRefreshCookie = await request(sample.url)
      .post('/auth/refresh')
      .ca(tls.cert)
      .set('Origin', sample.url)
      .set('X-CSRF-Token', login.body.csrfToken)
      .set('Cookie', `__Secure-refresh=${refresh}`);
    expect(viaRefreshCookie.status).toBe(401);
    // The module's documented clock-skew leeway on exp is 5 s.
    await pastTime(tokenExp(access) + 5000 + 1000);
    expect((await thief()).status).toBe(401);
    // The browser with the key carries on.
    expect((await fetchInPage('/me')).status).toBe(200);
  });
});
