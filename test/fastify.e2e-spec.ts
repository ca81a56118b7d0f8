import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { AppModule } from '../sample/app.module.js';
import { CookieClient, loginHeader } from './utils/http.js';
import { TEST_SECRET } from './utils/sample-app.js';
import { parseSetCookies } from './utils/set-cookie.js';

/** The same sample on Fastify: responses are written through Nest's HTTP adapter (lib/http/session-transport.ts). */
describe('sample on Fastify', () => {
  let app: NestFastifyApplication;
  let url: string;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [AppModule.register({ secret: TEST_SECRET })],
    }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
    url = url.replace('[::1]', '127.0.0.1');
  });
  afterAll(() => app.close());

  it('cookie transport: login, CSRF-protected note, refresh, logout', async () => {
    const client = new CookieClient(url);
    const login = await client.login();
    expect(login.status).toBe(200);
    expect(parseSetCookies(login)).toHaveLength(2);
    await client.get('/me').expect(200);
    await client.post('/notes', { text: 'on fastify' }).expect(201);
    await client.post('/notes', { text: 'no token' }, false).expect(403);
    const oldRefresh = client.refresh;
    const refreshed = await client.refreshTokens();
    expect(refreshed.status).toBe(200);
    expect(client.refresh).not.toBe(oldRefresh);
    await client.get('/me').expect(200);
    const logout = await client.post('/auth/logout');
    expect(logout.status).toBe(204);
    expect(String(logout.headers['cache-control'])).toContain('no-store');
    await client.get('/me').expect(401);
  });

  it('header transport and error mapping', async () => {
    const { accessToken } = await loginHeader(url);
    await request(url).get('/me').set('Authorization', `Bearer ${accessToken}`).expect(200);
    const bad = await request(url).get('/me').set('Authorization', 'Bearer a.b.c').expect(401);
    expect(bad.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    await request(url).post('/auth/login').set('Content-Type', 'application/json').send('{"email":').expect(400);
    await request(url).get('/health').expect(200, { status: 'ok', store: 'memory', adapter: 'fastify' });
  });
});
