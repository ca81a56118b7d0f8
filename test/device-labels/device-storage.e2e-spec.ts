/**
 * Issue 14 §6, storage: the label is computed once at login and kept beside the 64-byte
 * User-Agent in the session hash (field `dv`), so the hash stays a compact listpack and listing
 * never parses. A session stored before labels existed (no `dv`) still lists a label, derived from
 * the User-Agent prefix that was kept.
 */
import request from 'supertest';
import { ALICE } from '../utils/http.js';
import { startRedis, type RedisProcess } from '../utils/redis.js';
import { type RunningSample, startSample } from '../utils/sample-app.js';
import { redisTestStore, type TestStore } from '../utils/stores.js';
import { USER_AGENTS } from './user-agents.js';

const PREFIX = 'dev:';

interface Raw {
  sendCommand(args: string[]): Promise<unknown>;
}

let redis: RedisProcess;
let store: TestStore;
let sample: RunningSample;
let raw: Raw;

beforeAll(async () => {
  redis = await startRedis();
  store = await redisTestStore(redis.url);
  raw = store.client as unknown as Raw;
  sample = await startSample({ store: store.store, redis: { keyPrefix: PREFIX } });
});

afterAll(async () => {
  await sample?.close();
  await store?.close();
  await redis?.stop();
});

async function login(ua: string): Promise<{ accessToken: string; sid: string; key: string }> {
  const res = await request(sample.url)
    .post('/auth/login')
    .set('X-Auth-Transport', 'header')
    .set('User-Agent', ua)
    .send(ALICE)
    .expect(200);
  const sid = JSON.parse(Buffer.from(String(res.body.accessToken).split('.')[1], 'base64url').toString()).sid as string;
  const keys = (await raw.sendCommand(['KEYS', `${PREFIX}*:s:${sid}`])) as string[];
  expect(keys).toHaveLength(1);
  return { accessToken: res.body.accessToken, sid, key: keys[0] };
}

async function listedDevice(s: { accessToken: string; sid: string }): Promise<string | undefined> {
  const res = await request(sample.url)
    .get('/auth/sessions')
    .set('Authorization', `Bearer ${s.accessToken}`)
    .expect(200);
  return (res.body as Array<{ id: string; device: string }>).find((e) => e.id === s.sid)?.device;
}

describe('device label storage on Redis', () => {
  it('stores the label in `dv` beside the 64-byte User-Agent; the hash stays a listpack and grows by under 64 bytes', async () => {
    const edge = USER_AGENTS.find((u) => u.name.startsWith('Edge'))!;
    const s = await login(edge.ua);
    expect(await raw.sendCommand(['HGET', s.key, 'dv'])).toBe(edge.device);
    expect(await raw.sendCommand(['HGET', s.key, 'ua'])).toBe(edge.ua.slice(0, 64));
    expect(await raw.sendCommand(['OBJECT', 'ENCODING', s.key])).toBe('listpack');
    const withLabel = Number(await raw.sendCommand(['MEMORY', 'USAGE', s.key]));
    await raw.sendCommand(['HDEL', s.key, 'dv']);
    const withoutLabel = Number(await raw.sendCommand(['MEMORY', 'USAGE', s.key]));
    // Printed for the record: the cost of a label per session.
    console.log(
      `MEMORY USAGE of a session hash: ${withoutLabel} B without the label, ${withLabel} B with "${edge.device}"`,
    );
    expect(withLabel).toBeGreaterThan(withoutLabel);
    expect(withLabel - withoutLabel).toBeLessThanOrEqual(64);
  });

  it('a session stored without a label (before the upgrade) lists one derived from the kept User-Agent prefix', async () => {
    const s = await login('curl/8.5.0');
    await raw.sendCommand(['HDEL', s.key, 'dv']);
    expect(await listedDevice(s)).toBe('curl 8');
  });

  it('the label comes from the whole User-Agent: Chrome names itself after byte 64, yet is recognised', async () => {
    const chrome = USER_AGENTS[0];
    expect(chrome.ua.indexOf('Chrome/')).toBeGreaterThan(64);
    const s = await login(chrome.ua);
    expect(await listedDevice(s)).toBe(chrome.device);
    // What re-parsing the stored prefix would give instead.
    await raw.sendCommand(['HDEL', s.key, 'dv']);
    expect(await listedDevice(s)).not.toBe(chrome.device);
  });
});
