/**
 * Login and refresh accept JSON only (issue 10 item 9, SECURITY.md S-42), on memory and Redis.
 *
 * An HTML form can post `application/x-www-form-urlencoded`, `multipart/form-data` or
 * `text/plain` cross-site without a preflight, and old browsers send neither `Origin` nor
 * `Sec-Fetch-Site` with it, so the origin check cannot see it: such a login used to set the
 * victim's cookies for the attacker's account (login CSRF). The module's login helper
 * (`SessionHttpService.login`) and its refresh route now answer 415 to any body that is not
 * `application/json`; a request without a body keeps working (cookie refresh sends none).
 */
import { Controller, HttpCode, Module, Post, Req, Res } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { type HttpRequestLike, MemorySessionRepository, SessionHttpService } from '../../lib/index.js';
import { AppModule } from '../../sample/app.module.js';
import { E2eHarness, STORES } from '../e2e/helpers/store-matrix.js';
import { ALICE, CookieClient, loginHeader } from '../utils/http.js';
import { TEST_SECRET } from '../utils/sample-app.js';
import { parseSetCookies } from '../utils/set-cookie.js';

const harness = new E2eHarness();
beforeAll(() => harness.start());
afterAll(() => harness.stop());

const FORM = `email=${encodeURIComponent(ALICE.email)}&password=${encodeURIComponent(ALICE.password)}`;
const JSON_BODY = JSON.stringify(ALICE);

describe.each(STORES)('JSON-only login and refresh on the $name store', (store) => {
  let url: string;
  beforeAll(async () => {
    url = (await harness.sample(store)).url;
  });

  const login = (type: string | undefined, body: string) => {
    const r = request(url).post('/auth/login');
    if (type !== undefined) r.set('Content-Type', type);
    return r.send(body);
  };

  it.each([
    ['application/x-www-form-urlencoded', FORM],
    [
      'multipart/form-data; boundary=x',
      `--x\r\nContent-Disposition: form-data; name="email"\r\n\r\n${ALICE.email}\r\n--x--\r\n`,
    ],
    ['text/plain', JSON_BODY],
    ['text/plain;charset=UTF-8', JSON_BODY],
    ['application/jsonx', JSON_BODY],
    ['application/vnd.evil+json', JSON_BODY],
  ])('login with Content-Type %s and valid credentials → 415, no Set-Cookie, no token', async (type, body) => {
    const res = await login(type, body);
    expect(res.status).toBe(415);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.text).not.toMatch(/eyJ|csrfToken|accessToken/);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('a form login without Origin or Sec-Fetch-Site (an old browser) for the header transport → 415 too', async () => {
    const res = await login('application/x-www-form-urlencoded', FORM).set('X-Auth-Transport', 'header');
    expect(res.status).toBe(415);
    expect(res.text).not.toMatch(/eyJ/);
  });

  it.each(['application/json', 'application/json; charset=utf-8', 'Application/JSON;charset=UTF-8'])(
    'login with Content-Type %s still works (200, two cookies)',
    async (type) => {
      const res = await login(type, JSON_BODY);
      expect(res.status).toBe(200);
      expect(parseSetCookies(res)).toHaveLength(2);
    },
  );

  it('refresh with a form body → 415 and nothing rotates; without a body (cookie refresh) → 200', async () => {
    const alice = new CookieClient(url);
    await alice.login();
    const form = await alice.post('/auth/refresh').set('Content-Type', 'application/x-www-form-urlencoded').send('a=1');
    expect(form.status).toBe(415);
    expect(form.headers['set-cookie']).toBeUndefined();
    const plain = await alice.post('/auth/refresh').set('Content-Type', 'text/plain').send('{}');
    expect(plain.status).toBe(415);
    expect((await alice.refreshTokens()).status).toBe(200);
  });

  it('header-transport refresh: a form body carrying the token → 415; the same token as JSON → 200', async () => {
    const { refreshToken } = await loginHeader(url);
    const form = await request(url).post('/auth/refresh').type('form').send({ refreshToken });
    expect(form.status).toBe(415);
    const json = await request(url).post('/auth/refresh').send({ refreshToken });
    expect(json.status).toBe(200);
  });
});

/** An app login route that trusts the module alone: no content-type check of its own. */
@Controller('bare')
class BareLoginController {
  constructor(private readonly http: SessionHttpService) {}

  @Post('login')
  @HttpCode(200)
  login(@Req() req: HttpRequestLike, @Res({ passthrough: true }) res: unknown) {
    return this.http.login(req, res, { id: 'u-bare' });
  }
}

describe('SessionHttpService.login refuses non-JSON bodies by itself', () => {
  let app: NestExpressApplication;
  let url: string;
  beforeAll(async () => {
    @Module({
      imports: [AppModule.register({ secret: TEST_SECRET, store: new MemorySessionRepository() })],
      controllers: [BareLoginController],
    })
    class BareModule {}
    const moduleRef = await Test.createTestingModule({ imports: [BareModule] }).compile();
    app = moduleRef.createNestApplication<NestExpressApplication>({ logger: false });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });
  afterAll(() => app?.close());

  it.each([
    ['application/x-www-form-urlencoded', 'a=1'],
    ['text/plain', '{}'],
    ['multipart/form-data; boundary=x', '--x--\r\n'],
  ])('%s → 415, no Set-Cookie', async (type, body) => {
    const res = await request(url).post('/bare/login').set('Content-Type', type).send(body);
    expect(res.status).toBe(415);
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('a body without a Content-Type → 415; JSON and no body at all → 200 with cookies', async () => {
    const untyped = await request(url).post('/bare/login').set('Content-Length', '2').send(Buffer.from('{}'));
    expect(untyped.status).toBe(415);
    const json = await request(url).post('/bare/login').send({});
    expect(json.status).toBe(200);
    expect(parseSetCookies(json)).toHaveLength(2);
    const empty = await request(url).post('/bare/login');
    expect(empty.status).toBe(200);
  });
});
