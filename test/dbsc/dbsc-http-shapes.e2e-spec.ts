/**
 * DBSC beyond the default Express app: the same exchange on Fastify, and the spec's rules for the
 * refresh endpoint when the app enables credentialed CORS (never `Access-Control-Allow-Credentials`
 * there, so another site cannot read it with cookies) and framing (refused).
 */
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { MemorySessionRepository } from '../../lib/index.js';
import { AppModule } from '../../sample/app.module.js';
import { type RunningSample, startSample, TEST_SECRET } from '../utils/sample-app.js';
import { DbscBrowser } from './helpers/dbsc-client.js';

describe('DBSC on Fastify', () => {
  let app: NestFastifyApplication;
  let url: string;
  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        AppModule.register({ secret: TEST_SECRET, store: new MemorySessionRepository(), dbsc: { enabled: true } }),
      ],
    }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    await app.listen(0, '127.0.0.1');
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });
  afterAll(() => app.close());

  it('registers, refreshes with a proof and refuses the refresh cookie of the bound session', async () => {
    const b = new DbscBrowser(url);
    await b.login();
    const reg = await b.register();
    expect(reg.status).toBe(200);
    expect(reg.headers['x-frame-options']).toBe('DENY');
    const { first, second } = await b.dbscRefresh();
    expect(first.status).toBe(403);
    expect(second?.status).toBe(200);
    expect((await b.post('/auth/refresh')).status).toBe(401);
    expect((await b.get('/me')).status).toBe(200);
  });
});

describe('DBSC endpoints under credentialed CORS', () => {
  let sample: RunningSample;
  beforeAll(async () => {
    sample = await startSample(
      { store: new MemorySessionRepository(), dbsc: { enabled: true } },
      { configure: (app) => app.enableCors({ origin: true, credentials: true }) },
    );
  });
  afterAll(() => sample.close());

  it('never grant credentialed reads to another origin, and refuse framing', async () => {
    const b = new DbscBrowser(sample.url);
    await b.login();
    await b.register();
    // A normal route keeps the app's CORS (the control: the app really enabled it).
    const me = await b.get('/me').set('Origin', 'https://other.example');
    expect(me.headers['access-control-allow-credentials']).toBe('true');
    for (const res of [
      await b.refreshRequest().set('Origin', 'https://other.example'),
      await request(sample.url).post('/auth/dbsc/register').set('Origin', 'https://other.example'),
    ]) {
      expect(res.status).toBeLessThan(500);
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['content-security-policy']).toBe("frame-ancestors 'none'");
      expect(res.headers['cross-origin-resource-policy']).toBe('same-origin');
    }
  });
});
