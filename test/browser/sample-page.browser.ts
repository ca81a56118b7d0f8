/**
 * The sample's demo page (`GET /`) in a real headless Chromium (Debian's `chromium` package driven
 * by playwright-core): the cookie transport as a browser really stores and sends it, and CSRF
 * refusals of a page on another origin of the same site (another port on localhost), where
 * SameSite does not help because the cookies ARE sent.
 *
 * Runs with `npm run test:browser` (not part of `npm test`). `.ci/run` installs chromium.
 */
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import request from 'supertest';
import { ADMIN } from '../utils/http.js';
import { freePort } from '../utils/redis.js';
import { apiPrefixFromEnv, applyApiPrefix } from '../../sample/api-prefix.config.js';
import { type RunningSample, startSample } from '../utils/sample-app.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let browser: Browser;
beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} not found: install it with "apt-get install chromium" (.ci/run does)`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
});
afterAll(() => browser?.close());

/** Clicks a button of the demo page and waits for the answer it prints into #out. */
async function press(page: Page, id: string): Promise<{ status: number; text: string }> {
  await page.evaluate(`delete document.getElementById('out').dataset.status`);
  await page.click(`#${id}`);
  await page.waitForSelector('#out[data-status]');
  return {
    status: Number(await page.getAttribute('#out', 'data-status')),
    text: (await page.textContent('#out')) ?? '',
  };
}

/** Total notes on the sample, read by the admin over the header transport. */
async function noteCount(url: string): Promise<number> {
  const login = await request(url).post('/auth/login').set('X-Auth-Transport', 'header').send(ADMIN).expect(200);
  const stats = await request(url)
    .get('/admin/stats')
    .set('Authorization', `Bearer ${login.body.accessToken}`)
    .expect(200);
  return stats.body.notes as number;
}

/** What the sample's HTTP server saw and answered: the ground truth for requests a page cannot read. */
interface Seen {
  method: string;
  path: string;
  status: number;
  origin?: string;
  site?: string;
  cookie: string;
  allowOrigin: unknown;
}

function recordRequests(server: Server): Seen[] {
  const seen: Seen[] = [];
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    res.on('finish', () =>
      seen.push({
        method: req.method ?? '',
        path: req.url ?? '',
        status: res.statusCode,
        origin: req.headers.origin,
        site: req.headers['sec-fetch-site'],
        cookie: req.headers.cookie ?? '',
        allowOrigin: res.getHeader('access-control-allow-origin'),
      }),
    );
  });
  return seen;
}

/**
 * Both cookie modes work on http://localhost: Chromium treats localhost as a secure context, so it
 * keeps `Secure` and `__Host-` / `__Secure-` cookies there even over plain HTTP. `secure: false`
 * (COOKIE_SECURE=false) is what a developer would use on a plain-HTTP host that is not localhost.
 */
describe.each([
  { mode: 'secure: false (plain-HTTP development)', secure: false, names: ['session', 'refresh'] },
  { mode: 'secure: true (production defaults)', secure: true, names: ['__Host-session', '__Secure-refresh'] },
])('the demo page in Chromium, cookies $mode', ({ secure, names }) => {
  const [accessName, refreshName] = names as [string, string];
  let sample: RunningSample;
  let origin: string; // what the browser uses: http://localhost:PORT
  let context: BrowserContext;
  let page: Page;
  let attacker: Server;
  let attackerOrigin: string;
  let seen: Seen[];
  /** What Chromium reported against the page's Content-Security-Policy (it logs each refusal). */
  const cspViolations: string[] = [];

  beforeAll(async () => {
    sample = await startSample({ cookies: { secure } });
    seen = recordRequests(sample.app.getHttpServer() as Server);
    origin = `http://localhost:${new URL(sample.url).port}`;
    context = await browser.newContext();
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });

    // The "other site": a page on another port of localhost (same site, different origin).
    const port = await freePort();
    attackerOrigin = `http://localhost:${port}`;
    const html = `<!doctype html><meta charset=utf-8><title>other origin</title>
      <form id="f" method="POST" action="${origin}/notes"><input name="text" value="csrf via form"></form>`;
    attacker = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end(html));
    await new Promise<void>((resolve) => attacker.listen(port, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await context?.close();
    await new Promise((resolve) => attacker?.close(resolve));
    await sample?.close();
  });

  // All cookies of the context: a URL filter would hide the path-scoped refresh cookie.
  const sessionCookies = async () => (await context.cookies()).filter((c) => names.includes(c.name));

  it('logs in; document.cookie shows no token while the browser holds both HttpOnly cookies', async () => {
    const answer = await page.goto(`${origin}/`);
    // The page runs under a policy without 'unsafe-inline': its script and style come from files.
    expect(answer?.headers()['content-security-policy']).toMatch(/script-src 'self';/);
    expect(answer?.headers()['content-security-policy']).not.toMatch(/unsafe-inline/);
    await page.waitForSelector('#out[data-status="401"]'); // the page's initial GET /auth/csrf, logged out
    expect(await page.evaluate('getComputedStyle(document.body).maxWidth')).toBe('704px'); // demo.css applied (44rem)
    expect(await page.textContent('#status')).toBe('logged out');

    const login = await press(page, 'login-btn');
    expect(login.status).toBe(200);
    expect(await page.textContent('#status')).toBe('logged in as alice@example.com');
    expect(login.text).toContain('csrfToken');
    expect(login.text).not.toMatch(/eyJ/); // no token in the body the page sees

    expect(await page.evaluate('document.cookie')).toBe('');
    const cookies = await sessionCookies();
    expect(cookies.map((c) => c.name).sort()).toEqual([...names].sort());
    for (const c of cookies) {
      expect(c.httpOnly).toBe(true);
      expect(c.secure).toBe(secure);
      expect(c.value).toMatch(/^eyJ/);
    }
    expect(cookies.find((c) => c.name === accessName)).toMatchObject({ sameSite: 'Lax', path: '/' });
    expect(cookies.find((c) => c.name === refreshName)).toMatchObject({ sameSite: 'Strict', path: '/auth/refresh' });
  });

  it('calls /me, lists sessions and posts a note with the CSRF header', async () => {
    const me = await press(page, 'me-btn');
    expect(me.status).toBe(200);
    expect(me.text).toContain('"email": "alice@example.com"');
    const sessions = await press(page, 'sessions-btn');
    expect(sessions.status).toBe(200);
    expect(sessions.text).toContain('"current": true');
    const before = await noteCount(sample.url);
    const note = await press(page, 'note-btn');
    expect(note.status).toBe(201);
    expect(note.text).toContain('"text": "hello"');
    expect(await noteCount(sample.url)).toBe(before + 1);
  });

  it('after a reload the page fetches a new CSRF token and can still post', async () => {
    await page.reload();
    await page.waitForSelector('#out[data-status="200"]');
    expect(await page.textContent('#status')).toBe('logged in');
    expect((await press(page, 'note-btn')).status).toBe(201);
  });

  it('refreshes: both cookies rotate, and the new CSRF token works', async () => {
    const before = await sessionCookies();
    const refresh = await press(page, 'refresh-btn');
    expect(refresh.status).toBe(200);
    expect(refresh.text).not.toMatch(/eyJ/);
    const after = await sessionCookies();
    for (const name of names) {
      expect(after.find((c) => c.name === name)!.value).not.toBe(before.find((c) => c.name === name)!.value);
    }
    expect((await press(page, 'note-btn')).status).toBe(201);
  });

  describe('a page on another origin of the same site', () => {
    let other: Page;
    const notePosts = () => seen.filter((r) => r.method === 'POST' && r.path === '/notes');
    beforeAll(async () => {
      other = await context.newPage();
      other.setDefaultTimeout(15_000);
      await other.goto(`${attackerOrigin}/`);
    });
    afterAll(() => other?.close());

    /** Waits until the sample has answered `count` POST /notes in all. */
    async function postsReach(count: number): Promise<void> {
      const deadline = Date.now() + 10_000;
      while (notePosts().length < count) {
        if (Date.now() > deadline)
          throw new Error(`the sample saw ${notePosts().length} POST /notes, expected ${count}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }

    it('a form POST to /notes is refused (403) although the browser sent the session cookie', async () => {
      const before = await noteCount(sample.url);
      const postsBefore = notePosts().length;
      await Promise.all([other.waitForURL(`${origin}/notes`), other.evaluate(`document.getElementById('f').submit()`)]);
      await postsReach(postsBefore + 1);
      const post = notePosts().at(-1)!;
      expect(post.status).toBe(403);
      expect(post.cookie).toContain(`${accessName}=`); // same-site: SameSite=Lax let the cookie through
      expect(post.origin).toBe(attackerOrigin);
      expect(post.site).toBe('same-site');
      expect(await other.textContent('body')).toContain('Cross-origin request refused');
      expect(await noteCount(sample.url)).toBe(before);
      await other.goto(`${attackerOrigin}/`);
    });

    it('a credentialed fetch to /notes is refused, and the page cannot even read the answer', async () => {
      const before = await noteCount(sample.url);
      const postsBefore = notePosts().length;
      // A "simple" request: no preflight, so it really reaches the server with the cookies.
      const outcome = await other.evaluate(`fetch('${origin}/notes', { method: 'POST', credentials: 'include',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'text=csrf+via+fetch' })
        .then((r) => 'status ' + r.status, (e) => 'blocked: ' + e.name)`);
      expect(outcome).toBe('blocked: TypeError'); // no CORS grant for this origin
      await postsReach(postsBefore + 1);
      const post = notePosts().at(-1)!;
      expect(post.status).toBe(403);
      expect(post.cookie).toContain(`${accessName}=`);
      expect(post.origin).toBe(attackerOrigin);
      expect(post.allowOrigin).toBeUndefined();
      expect(await noteCount(sample.url)).toBe(before);
    });

    it('a fetch with a forged X-CSRF-Token header never reaches POST /notes (the preflight fails)', async () => {
      const before = await noteCount(sample.url);
      const postsBefore = notePosts().length;
      const outcome = await other.evaluate(`fetch('${origin}/notes', { method: 'POST', credentials: 'include',
          headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': 'AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
          body: JSON.stringify({ text: 'csrf with header' }) })
        .then((r) => 'status ' + r.status, (e) => 'blocked: ' + e.name)`);
      expect(outcome).toBe('blocked: TypeError');
      const preflight = seen.filter((r) => r.method === 'OPTIONS' && r.path === '/notes');
      expect(preflight.length).toBeGreaterThan(0);
      expect(preflight.every((r) => r.allowOrigin === undefined)).toBe(true);
      expect(notePosts().length).toBe(postsBefore);
      expect(await noteCount(sample.url)).toBe(before);
    });

    it('nor can it read a CSRF token from /auth/csrf', async () => {
      const outcome = await other.evaluate(`fetch('${origin}/auth/csrf', { credentials: 'include' })
        .then((r) => r.text(), (e) => 'blocked: ' + e.name)`);
      expect(outcome).toBe('blocked: TypeError');
    });

    it('the real page still works afterwards (the session was not harmed)', async () => {
      expect((await press(page, 'me-btn')).status).toBe(200);
    });
  });

  it('Chromium reported no Content-Security-Policy violation on the page', () => {
    expect(cspViolations).toEqual([]);
  });

  it('logs out: cookies are gone and /me answers 401', async () => {
    const logout = await press(page, 'logout-btn');
    expect(logout.status).toBe(204);
    expect(await page.textContent('#status')).toBe('logged out');
    expect(await sessionCookies()).toEqual([]);
    expect((await press(page, 'me-btn')).status).toBe(401);
  });
});

/**
 * API_PREFIX=api on both platforms: the page stays at / and reaches the API under /api (its script
 * reads the prefix from a meta tag); Chromium keeps the refresh cookie at /api/auth/refresh and
 * sends it there, so the page's refresh works.
 */
describe.each(['express', 'fastify'] as const)('the demo page in Chromium with API_PREFIX=api on %s', (adapter) => {
  let sample: RunningSample;
  let context: BrowserContext;
  let page: Page;
  const previous = process.env.API_PREFIX;

  beforeAll(async () => {
    process.env.API_PREFIX = 'api'; // read by the demo page's controller, as in the built sample
    sample = await startSample({}, { adapter, configure: (app) => applyApiPrefix(app, apiPrefixFromEnv()) });
    context = await browser.newContext();
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
  });
  afterAll(async () => {
    if (previous === undefined) delete process.env.API_PREFIX;
    else process.env.API_PREFIX = previous;
    await context?.close();
    await sample?.close();
  });

  it('logs in, calls /api/me, refreshes through the cookie scoped to /api/auth/refresh, logs out', async () => {
    await page.goto(`http://localhost:${new URL(sample.url).port}/`);
    await page.waitForSelector('#out[data-status="401"]'); // GET /api/auth/csrf, logged out
    expect((await press(page, 'login-btn')).status).toBe(200);
    const refreshCookie = (await context.cookies()).find((c) => c.name === '__Secure-refresh');
    expect(refreshCookie?.path).toBe('/api/auth/refresh');
    expect((await press(page, 'me-btn')).status).toBe(200);
    expect((await press(page, 'note-btn')).status).toBe(201);
    const refreshed = await press(page, 'refresh-btn');
    expect(refreshed.status).toBe(200);
    expect((await press(page, 'me-btn')).status).toBe(200);
    expect((await press(page, 'logout-btn')).status).toBe(204);
    expect((await press(page, 'me-btn')).status).toBe(401);
  });
});
