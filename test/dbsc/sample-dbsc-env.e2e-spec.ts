/**
 * The sample's DBSC environment (DESIGN.md contract additions): SESSION_DBSC and HTTPS through
 * TLS_CERT_FILE + TLS_KEY_FILE, on the built sample started as its own process.
 */
import request from 'supertest';
import { startBuiltSample, type SampleProcess } from '../utils/built-sample.js';
import { ALICE } from '../utils/http.js';
import { TEST_SECRET } from '../utils/sample-app.js';
import { selfSignedCertificate, type TestCertificate } from './helpers/https-sample.js';

describe('the built sample with SESSION_DBSC and TLS_CERT_FILE/TLS_KEY_FILE', () => {
  let tls: TestCertificate;
  const running: SampleProcess[] = [];
  beforeAll(() => {
    tls = selfSignedCertificate();
  });
  afterAll(async () => {
    for (const p of running) await p.stop();
    tls?.remove();
  });

  async function start(env: Record<string, string>): Promise<{ proc: SampleProcess; url: string }> {
    const proc = await startBuiltSample({ SESSION_SECRET: TEST_SECRET, ...env });
    running.push(proc);
    return { proc, url: `https://localhost:${new URL(proc.url).port}` };
  }

  it('serves HTTPS and offers DBSC on cookie logins', async () => {
    const { proc, url } = await start({ SESSION_DBSC: 'true', TLS_CERT_FILE: tls.certFile, TLS_KEY_FILE: tls.keyFile });
    expect(proc.output()).toMatch(/listening on https:\/\/localhost:\d+/);
    const login = await request(url).post('/auth/login').ca(tls.cert).set('Origin', url).send(ALICE);
    expect(login.status).toBe(200);
    expect(login.headers['secure-session-registration']).toMatch(/^\(ES256 RS256\);path="\/auth\/dbsc\/register";/);
  });

  it('without SESSION_DBSC (or =false) logins offer nothing and the DBSC routes are 404', async () => {
    for (const env of [{}, { SESSION_DBSC: 'false' }] as Array<Record<string, string>>) {
      const { proc } = await start(env);
      const login = await request(proc.url).post('/auth/login').send(ALICE);
      expect(login.status).toBe(200);
      expect(login.headers['secure-session-registration']).toBeUndefined();
      expect((await request(proc.url).post('/auth/dbsc/refresh')).status).toBe(404);
    }
  });

  it.each([
    [{ SESSION_DBSC: 'yes' }, /SESSION_DBSC must be true or false/],
    [{ TLS_CERT_FILE: '/nonexistent/cert.pem' }, /TLS_CERT_FILE and TLS_KEY_FILE must be set together/],
  ])('refuses to start with %j', async (env, message) => {
    await expect(startBuiltSample({ SESSION_SECRET: TEST_SECRET, ...env })).rejects.toThrow(message);
  });
});
