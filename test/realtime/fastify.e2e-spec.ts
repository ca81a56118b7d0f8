/**
 * Issue 13 on Fastify: the same sample serves `GET /ws` (ws on Fastify's HTTP server) and
 * `POST /graphql` (Apollo's Fastify integration, context from `(request, reply)`).
 */
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { MemorySessionRepository } from '../../lib/index.js';
import { AppModule } from '../../sample/app.module.js';
import { CookieClient, loginHeader } from '../utils/http.js';
import { TEST_SECRET } from '../utils/sample-app.js';
import { closedWithin, openSocket, refusedStatus } from './ws-client.js';

describe('GET /ws and POST /graphql on Fastify', () => {
  let app: NestFastifyApplication;
  let url: string;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [AppModule.register({ secret: TEST_SECRET, store: new MemorySessionRepository() })],
    }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });
  afterAll(() => app.close());

  it('handshake 401 without a session; a bearer socket closes with 4001 on logout', async () => {
    expect(await refusedStatus(url)).toBe(401);
    const t = await loginHeader(url);
    const s = await openSocket(url, { Authorization: `Bearer ${t.accessToken}` });
    expect((await s.me()).user.id).toBe('u-alice');
    await request(url).post('/auth/logout').set('Authorization', `Bearer ${t.accessToken}`).expect(204);
    expect((await closedWithin(s, 1000)).code).toBe(4001);
  });

  it('GraphQL: cookie query answers; cookie mutation without CSRF is FORBIDDEN, with it done', async () => {
    const c = new CookieClient(url);
    await c.login();
    const me = await request(url).post('/graphql').set('Cookie', c.cookieHeader()).send({ query: '{ me { id } }' });
    expect(me.body).toEqual({ data: { me: { id: 'u-alice' } } });
    const mutation = { query: 'mutation { addNote(text: "x") { text } }' };
    const refused = await request(url).post('/graphql').set('Cookie', c.cookieHeader()).send(mutation);
    expect(refused.status).toBeLessThan(500);
    expect((refused.body as { errors: Array<{ extensions: { code: string } }> }).errors[0].extensions.code).toBe(
      'FORBIDDEN',
    );
    const done = await request(url)
      .post('/graphql')
      .set({ Cookie: c.cookieHeader(), 'X-CSRF-Token': c.csrf })
      .send(mutation)
      .expect(200);
    expect(done.body).toEqual({ data: { addNote: { text: 'x' } } });
  });
});
