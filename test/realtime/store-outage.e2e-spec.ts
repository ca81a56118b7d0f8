/**
 * Issue 13 with the store down (S-60): a WebSocket handshake is refused with 503 before the
 * upgrade (never accepted, never a 401 that would log a client out), GraphQL answers
 * SERVICE_UNAVAILABLE without a 5xx, and both work again once Redis is back.
 */
import request from 'supertest';
import { loginHeader } from '../utils/http.js';
import { until } from '../ops/ops-helpers.js';
import { startRedis, type RedisProcess } from '../utils/redis.js';
import { type RunningSample, startSample } from '../utils/sample-app.js';
import { redisTestStore, type TestStore } from '../utils/stores.js';
import { openSocket, refusedStatus } from './ws-client.js';

describe('GET /ws and POST /graphql while Redis is down', () => {
  let redis: RedisProcess;
  let store: TestStore;
  let sample: RunningSample;

  beforeAll(async () => {
    redis = await startRedis({ appendonly: true });
    store = await redisTestStore(redis.url);
    // The session made just before the kill must survive it.
    await (store.client as { sendCommand(args: string[]): Promise<unknown> }).sendCommand([
      'CONFIG',
      'SET',
      'appendfsync',
      'always',
    ]);
    sample = await startSample({ store: store.store, cleanup: { enabled: false } });
  });
  afterAll(async () => {
    await sample?.close();
    await store?.close();
    await redis?.stop();
  });

  it('503 before the upgrade and SERVICE_UNAVAILABLE, then recovery', async () => {
    const t = await loginHeader(sample.url);
    const auth = { Authorization: `Bearer ${t.accessToken}` };
    await redis.kill();
    expect(await refusedStatus(sample.url, auth)).toBe(503);
    const res = await request(sample.url).post('/graphql').set(auth).send({ query: '{ me { id } }' });
    expect(res.status).toBeLessThan(500);
    expect((res.body as { errors: Array<{ extensions: { code: string } }> }).errors[0].extensions.code).toBe(
      'SERVICE_UNAVAILABLE',
    );
    await redis.restart();
    await until('the handshake works again', async () => {
      const s = await openSocket(sample.url, auth);
      s.ws.close();
      return true;
    });
    const back = await request(sample.url).post('/graphql').set(auth).send({ query: '{ me { id } }' }).expect(200);
    expect(back.body).toEqual({ data: { me: { id: 'u-alice' } } });
  });
});
