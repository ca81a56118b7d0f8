/**
 * Issue 14 §6, storage: the label is computed once at login and kept beside the 64-byte
 * User-Agent in the session record (field `dv`), so listing never parses. A session stored before labels existed (no `dv`) still lists a label, derived from
 * the User-Agent prefix that was kept.
 */
import request from 'supertest';
import { ALICE } from '../utils/http.js';
import { startRedis, type RedisProcess } from '../utils/redis.js';
import { type RunningSample, startSample } from '../utils/sample-app.js';
import { redisTestStore, type TestStore } from '../utils/stores.js';
import { findSessionRecord } from '../utils/session-record.js';
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
  return { accessToken: res.body.accessToken, sid, key: (await findSessionRecord(raw, PREFIX, sid)).key };
}

/** A session stored before labels existed: its record without `dv`. */
async function dropLabel(sid: string): Promise<void> {
  const found = await findSessionRecord(raw, PREFIX, sid);
  const { dv: _dv, ...older } = found.record;
  await found.save(older);
}

async function listedDevice(s: { accessToken: string; sid: string }): Promise<string | undefined> {
  const res = await request(sample.url)
    .get('/auth/sessions')
    .set('Authorization', `Bearer ${s.accessToken}`)
    .expect(200);
  return (res.body as Array<{ id: string; device: string }>).find((e) => e.id === s.sid)?.device;
}

describe('device label storage on Redis', () => {
  it('stores the label in `dv` beside the 64-byte User-Agent; the record grows by at most 64 bytes', async () => {
    const edge = USER_AGENTS.find((u) => u.name.startsWith('Edge'))!;
    const s = await login(edge.ua);
    const { record } = await findSessionRecord(raw, PREFIX, s.sid);
    expect(record.dv).toBe(edge.device);
    expect(record.ua).toBe(edge.ua.slice(0, 64));
    const withLabel = Number(await raw.sendCommand(['MEMORY', 'USAGE', s.key]));
    await dropLabel(s.sid);
    const withoutLabel = Number(await raw.sendCommand(['MEMORY', 'USAGE', s.key]));
    // Printed for the record: the cost of a label per session (allocator size classes: 0 or one step).
    console.log(
      `MEMORY USAGE of a session record: ${withoutLabel} B without the label, ${withLabel} B with "${edge.device}"`,
    );
    expect(withLabel).toBeGreaterThanOrEqual(withoutLabel);
    expect(withLabel - withoutLabel).toBeLessThanOrEqual(64);
  });

  it('a session stored without a label (before the upgrade) lists one derived from the kept User-Agent prefix', async () => {
    const s = await login('curl/8.5.0');
    await dropLabel(s.sid);
    expect(await listedDevice(s)).toBe('curl 8');
  });

  it('the label comes from the whole User-Agent: Chrome names itself after byte 64, yet is recognised', async () => {
    const chrome = USER_AGENTS[0];
    expect(chrome.ua.indexOf('Chrome/')).toBeGreaterThan(64);
    const s = await login(chrome.ua);
    expect(await listedDevice(s)).toBe(chrome.device);
    // What re-parsing the stored prefix would give instead.
    await dropLabel(s.sid);
    expect(await listedDevice(s)).not.toBe(chrome.device);
  });
});
