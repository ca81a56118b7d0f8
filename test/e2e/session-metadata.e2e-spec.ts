/**
 * What a login stores: a fresh 128-bit random session id (S-23), and the User-Agent kept to its
 * first 64 UTF-8 bytes (never splitting a character), so that on Redis the session hash stays a
 * compact listpack.
 */
import request from 'supertest';
import { SessionService } from '../../lib/index.js';
import { startRedis, type RedisProcess } from '../utils/redis.js';
import { type RunningSample, startSample } from '../utils/sample-app.js';
import { redisTestStore, type TestStore } from '../utils/stores.js';
import { ALICE } from '../utils/http.js';
import { findSessionRecord } from '../utils/session-record.js';

const DESKTOP_UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const PREFIX = 'meta:';

let redis: RedisProcess;
let store: TestStore;
let sample: RunningSample;

beforeAll(async () => {
  redis = await startRedis();
  store = await redisTestStore(redis.url);
  sample = await startSample({ store: store.store, redis: { keyPrefix: PREFIX } });
});

afterAll(async () => {
  await sample?.close();
  await store?.close();
  await redis?.stop();
});

async function loginWith(userAgent: string): Promise<{ accessToken: string; sessionId: string }> {
  const res = await request(sample.url)
    .post('/auth/login')
    .set('X-Auth-Transport', 'header')
    .set('User-Agent', userAgent)
    .send(ALICE)
    .expect(200);
  const payload = JSON.parse(Buffer.from(String(res.body.accessToken).split('.')[1], 'base64url').toString());
  return { accessToken: res.body.accessToken, sessionId: payload.sid };
}

async function listedUserAgent(login: { accessToken: string; sessionId: string }): Promise<string> {
  const res = await request(sample.url)
    .get('/auth/sessions')
    .set('Authorization', `Bearer ${login.accessToken}`)
    .expect(200);
  const entry = (res.body as Array<{ id: string; userAgent: string }>).find((e) => e.id === login.sessionId);
  if (!entry) throw new Error('the session is missing from /auth/sessions');
  return entry.userAgent;
}

describe('stored User-Agent', () => {
  it('keeps the first 64 bytes of a desktop browser User-Agent in the packed Redis record', async () => {
    const login = await loginWith(DESKTOP_UA);
    expect(await listedUserAgent(login)).toBe(DESKTOP_UA.slice(0, 64));
    const client = store.client as unknown as { sendCommand(args: string[]): Promise<unknown> };
    const found = await findSessionRecord(client, PREFIX, login.sessionId);
    expect(found.record.ua).toBe(DESKTOP_UA.slice(0, 64));
  });

  it('keeps a short User-Agent whole', async () => {
    const ua = 'ExampleApp/3.2.1 (iPhone; iOS 17.4.1; Scale/3.00)';
    expect(await listedUserAgent(await loginWith(ua))).toBe(ua);
  });

  it('cuts a multi-byte User-Agent on a character boundary, within 64 bytes', async () => {
    // Node decodes header bytes as latin1, so the server sees each UTF-8 'é' as 'Ã©': 64 one-char
    // units of two UTF-8 bytes each after the 'x'. Byte 64 falls inside the 32nd character.
    const ua = `x${'é'.repeat(40)}`;
    const seen = Buffer.from(ua).toString('latin1');
    const listed = await listedUserAgent(await loginWith(ua));
    expect(Buffer.byteLength(listed)).toBe(63);
    expect(listed).toBe(seen.slice(0, 32));
    expect(listed).not.toContain('\uFFFD');
  });
});

describe('session ids (S-23)', () => {
  it('are 128 random bits in base64url, never repeated, never derived from the user', async () => {
    const service = sample.app.get(SessionService);
    const ids = await Promise.all(
      Array.from({ length: 500 }, () => service.create({ id: 'u-same-user' }).then((t) => t.sessionId)),
    );
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(Buffer.from(id, 'base64url')).toHaveLength(16);
    }
    // Roughly half of the 128 × 500 bits are set: a counter or a constant-heavy id would be far off.
    const ones = ids.reduce(
      (n, id) => n + [...Buffer.from(id, 'base64url')].reduce((m, b) => m + b.toString(2).replace(/0/g, '').length, 0),
      0,
    );
    expect(ones / (128 * ids.length)).toBeGreaterThan(0.47);
    expect(ones / (128 * ids.length)).toBeLessThan(0.53);
  });
});
