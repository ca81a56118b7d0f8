import request from 'supertest';
import { ALICE, CookieClient, loginHeader } from './utils/http.js';
import { type RunningSample, startSample } from './utils/sample-app.js';

describe('sample smoke (memory)', () => {
  let sample: RunningSample;
  beforeAll(async () => {
    sample = await startSample();
  });
  afterAll(() => sample.close());

  it('logs in with header transport and reads /me', async () => {
    const { accessToken } = await loginHeader(sample.url);
    const me = await request(sample.url).get('/me').set('Authorization', `Bearer ${accessToken}`).expect(200);
    expect(me.body).toEqual({ id: 'u-alice', email: ALICE.email, role: 'user' });
  });

  it('logs in with cookies and posts a note with the CSRF token', async () => {
    const client = new CookieClient(sample.url);
    expect((await client.login()).status).toBe(200);
    await client.post('/notes', { text: 'hi' }).expect(201);
    await client.post('/notes', { text: 'hi' }, false).expect(403);
  });
});
