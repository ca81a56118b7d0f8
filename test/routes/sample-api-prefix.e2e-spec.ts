/**
 * The built sample with API_PREFIX on each HTTP_ADAPTER (DESIGN.md, "Contract additions"): every
 * route of the contract moves under /api except GET /, its files and GET /health; the refresh
 * cookie's Path follows; the demo page learns the prefix from a meta tag (no inline script).
 */
import request from 'supertest';
import { type SampleProcess, startBuiltSample } from '../utils/built-sample.js';
import { ALICE } from '../utils/http.js';
import { PathJar } from './path-jar.js';

const ENV = { SESSION_SECRET: 'Zq3v9pT1xK8mW2rB7nL4cY6hJ0dF5gS1aE3uI9oP2tR', API_PREFIX: 'api' };

describe.each(['express', 'fastify'] as const)('the built sample with API_PREFIX=api on HTTP_ADAPTER=%s', (adapter) => {
  let p: SampleProcess;
  beforeAll(async () => {
    p = await startBuiltSample({ ...ENV, HTTP_ADAPTER: adapter });
  });
  afterAll(() => p?.stop());

  it('GET /health stays at the root and names the adapter', async () => {
    await request(p.url).get('/health').expect(200, { status: 'ok', store: 'memory', adapter });
  });

  it('the demo page stays at / and tells its script where the API is', async () => {
    const page = await request(p.url).get('/').expect(200);
    expect(page.text).toContain('<meta name="api-base" content="/api" />');
    expect(page.text).not.toMatch(/<script>|<script [^>]*>[^<]/); // still no inline script
    await request(p.url).get('/demo.js').expect(200);
    await request(p.url).get('/demo.css').expect(200);
  });

  it('cookie transport end to end under /api: login, me, note with CSRF, refresh at the cookie path, logout', async () => {
    const jar = new PathJar(p.url);
    jar.absorb(await request(p.url).post('/api/auth/login').send(ALICE).expect(200));
    expect(jar.paths()).toEqual({ '__Host-session': '/', '__Secure-refresh': '/api/auth/refresh' });
    await jar.get('/api/me').expect(200);
    expect((await jar.post('/api/notes', { text: 'under a prefix' })).status).toBe(201);
    const refreshed = await jar.post('/api/auth/refresh');
    expect(refreshed.status).toBe(200);
    expect(String(refreshed.headers['cache-control'])).toContain('no-store');
    const sessions = await jar.get('/api/auth/sessions').expect(200);
    expect(String(sessions.headers['cache-control'])).toContain('no-store');
    expect((await jar.post('/api/auth/logout')).status).toBe(204);
    await jar.get('/api/me').expect(401);
  });

  it('the unprefixed paths are gone, and no-store covers prefixed module paths no handler serves', async () => {
    await request(p.url).post('/auth/login').send(ALICE).expect(404);
    await request(p.url).get('/me').expect(404);
    const missing = await request(p.url).get('/API/AUTH/none').expect(404);
    expect(String(missing.headers['cache-control'])).toContain('no-store');
  });
});

it('HTTP_ADAPTER other than express or fastify refuses to start with a clear message', async () => {
  await expect(startBuiltSample({ ...ENV, HTTP_ADAPTER: 'koa' })).rejects.toThrow(
    /HTTP_ADAPTER must be one of express, fastify/,
  );
});
