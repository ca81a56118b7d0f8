/**
 * Issue 10 item 3: a store error never consumes rotation state the client did not receive.
 * Redis is paused (CLIENT PAUSE from a separate connection) past the command timeout: the
 * refresh answers 503, and the rotation that reaches Redis when it wakes is refused by the
 * script (its deadline, in Redis time, has passed), so the client's old token still works —
 * also after a pause longer than the grace window. The same for the cleanup lock, and a
 * refresh refused at `maxmemory` leaves the old token valid.
 */
import request from 'supertest';
import { SessionCleanupService, type SessionAuditEvent } from '../../lib/index.js';
import { loginHeader } from '../utils/http.js';
import { startRedis, type RedisProcess } from '../utils/redis.js';
import { type RunningSample, startSample } from '../utils/sample-app.js';
import { redisTestStore, type TestStore } from '../utils/stores.js';
import { inspector, type RawClient } from './ops-helpers.js';

const GRACE_S = 2;
const COMMAND_TIMEOUT_MS = 300;

describe('a stalled or full Redis never half-rotates (CLIENT PAUSE, maxmemory)', () => {
  let redis: RedisProcess;
  let store: TestStore;
  let admin: RawClient;
  let waiter: RawClient;
  let sample: RunningSample;
  const events: SessionAuditEvent[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    store = await redisTestStore(redis.url);
    admin = await inspector(redis.url);
    waiter = await inspector(redis.url);
    sample = await startSample({
      store: store.store,
      refreshGrace: GRACE_S,
      redis: { commandTimeout: COMMAND_TIMEOUT_MS },
      cleanup: { enabled: false },
      onEvent: (e) => events.push(e),
    });
  });
  afterAll(async () => {
    await admin?.sendCommand(['CLIENT', 'UNPAUSE']).catch(() => undefined);
    await sample?.close();
    await store?.close();
    await admin?.disconnect();
    await waiter?.disconnect();
    await redis?.stop();
  });
  beforeEach(() => events.splice(0));

  const refresh = (refreshToken: string) => request(sample.url).post('/auth/refresh').send({ refreshToken });
  const me = (token: string) => request(sample.url).get('/me').set('Authorization', `Bearer ${token}`);

  /** Pauses every client for `ms`; resolves once Redis serves again and the app's queued commands have run. */
  async function pause(ms: number): Promise<() => Promise<void>> {
    await admin.sendCommand(['CLIENT', 'PAUSE', String(ms), 'ALL']);
    return async () => {
      await waiter.ping(); // blocked until the pause ends
      await (store.client as RawClient).ping(); // FIFO: after every command the app queued on its connection
    };
  }

  /** A session whose first refresh already ran, so the replica knows its offset to Redis TIME. */
  async function warmSession() {
    const t = await loginHeader(sample.url);
    return (await refresh(t.refreshToken).expect(200)).body as { refreshToken: string; accessToken: string };
  }

  it.each([
    ['longer', GRACE_S * 1000 + 1500],
    ['shorter', 1000],
  ])('a pause %s than the grace window: 503, then the same old token refreshes, no theft', async (_, ms) => {
    const t = await warmSession();
    const awake = await pause(ms);
    const stalled = await refresh(t.refreshToken);
    expect(stalled.status).toBe(503);
    expect(stalled.headers['retry-after']).toBeDefined();
    await awake();

    const retried = await refresh(t.refreshToken).expect(200);
    await me(retried.body.accessToken).expect(200);
    await refresh(retried.body.refreshToken).expect(200);
    expect(events.filter((e) => e.type === 'authn_token_reuse' || e.type === 'session_revoked')).toEqual([]);
  });

  it('a cleanup lock requested during the stall is not left behind: the next pass runs at once', async () => {
    await warmSession();
    const cleanup = sample.app.get(SessionCleanupService);
    const awake = await pause(1500);
    await expect(cleanup.run()).rejects.toThrow();
    await awake();
    expect(await admin.exists('sess:lock:cleanup')).toBe(0);
    await expect(cleanup.run()).resolves.toMatchObject({ removed: expect.any(Number) });
  });

  it('a refresh refused at maxmemory answers 503 and the old token works once memory is back', async () => {
    const t = await warmSession();
    await admin.configSet('maxmemory', '1');
    try {
      const full = await refresh(t.refreshToken);
      expect(full.status).toBe(503);
    } finally {
      await admin.configSet('maxmemory', '0');
    }
    const next = await refresh(t.refreshToken).expect(200);
    await me(next.body.accessToken).expect(200);
    expect(events.filter((e) => e.type === 'authn_token_reuse')).toEqual([]);
  });
});
