/**
 * Issue 16 §5 on a real redis-server: validation by one plain MGET when no touch is due, the
 * script otherwise, on every client; and records written in the old format (a hash per session,
 * before issue 16) still validate, rotate, list and go.
 */
import { randomBytes } from 'node:crypto';
import { startRedis, type RedisProcess } from '../../test/utils/redis.js';
import { CLIENT_CASES, singleClient, type TestClient } from '../../test/utils/redis-clients.js';
import { redisTestStore, type TestStore } from '../../test/utils/stores.js';
import type { RedisStoreLike } from '../interfaces/session-module-options.interface.js';
import type { NewSession } from '../interfaces/session-repository.interface.js';
import { randomHash, randomSid } from '../testing/repository-contract.js';
import { RedisKeys } from './redis-keys.js';
import { RedisSessionRepository, type RedisRepositoryOptions } from './redis-session.repository.js';

const IDLE = 30 * 60_000;
const TOUCH = 3 * 60_000;
const HOUR = 3_600_000;

let redis: RedisProcess;
let inspector: TestStore;
interface Raw {
  sendCommand(args: string[]): Promise<unknown>;
}
const raw = () => inspector.client as unknown as Raw;

beforeAll(async () => {
  redis = await startRedis();
  inspector = await redisTestStore(redis.url);
});
afterAll(async () => {
  await inspector?.close();
  await redis?.stop();
});

/** Calls per command since the server started (INFO commandstats), e.g. `{ mget: 3, evalsha: 1 }`. */
async function commandCalls(): Promise<Record<string, number>> {
  const info = String(await raw().sendCommand(['INFO', 'commandstats']));
  const out: Record<string, number> = {};
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out[m[1]] = Number(m[2]);
  return out;
}

/** What the client under test sent between two readings (the inspector's INFO counts itself). */
async function sent<T>(work: () => Promise<T>): Promise<{ result: T; mget: number; scripts: number }> {
  const before = await commandCalls();
  const result = await work();
  const after = await commandCalls();
  const delta = (c: string) => (after[c] ?? 0) - (before[c] ?? 0);
  return { result, mget: delta('mget'), scripts: delta('evalsha') + delta('eval') };
}

function newSession(overrides: Partial<NewSession> = {}): NewSession {
  const now = Date.now();
  return {
    id: randomSid(),
    userId: `u-${randomBytes(4).toString('hex')}`,
    roles: ['user', 'admin'],
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) hot-path',
    ip: '203.0.113.9',
    device: 'Firefox on Linux',
    data: { plan: 'pro' },
    now,
    idleTimeoutMs: IDLE,
    absoluteExpiresAt: now + 24 * HOUR,
    refreshHash: randomHash(),
    refreshIssuedAt: Math.floor(now / 1000),
    ...overrides,
  };
}

describe.each(CLIENT_CASES)('Redis validation hot path on $client', ({ client }) => {
  let c: TestClient;
  let prefix: string;
  const repo = (options: Partial<RedisRepositoryOptions> = {}) =>
    new RedisSessionRepository(c.store as RedisStoreLike, {
      cluster: false,
      keyPrefix: prefix,
      commandTimeout: 2000,
      ...options,
    });
  const validate = (r: RedisSessionRepository, s: NewSession, touchIntervalMs = TOUCH, now = Date.now()) =>
    r.validate(s.userId, s.id, { now, idleTimeoutMs: IDLE, touchIntervalMs });

  beforeAll(async () => {
    c = await singleClient(client, redis.url);
    // Scripts cached on the server: a first EVALSHA would fail NOSCRIPT and count twice.
    prefix = 'warm:';
    const s = newSession();
    await repo().create(s);
    await validate(repo(), s, 0);
  });
  afterAll(async () => {
    await c?.close();
  });
  beforeEach(() => {
    prefix = `hp-${randomBytes(4).toString('hex')}:`;
  });

  it('with no touch due a validation is one MGET; the script runs first (store clock anchor) and when a touch is due', async () => {
    const r = repo();
    for (const s of [newSession(), newSession({ userId: 'u-two' }), newSession({ userId: 'u-two' })]) {
      await r.create(s);
      // A fresh repository has no anchor to Redis time yet: the script decides and stamps its reply.
      const fresh = repo();
      const first = await sent(() => validate(fresh, s));
      expect(first).toMatchObject({ mget: 0, scripts: 1, result: { status: 'ok' } });
      const reads = await sent(async () => {
        const out = [];
        for (let i = 0; i < 10; i++) out.push(await validate(fresh, s));
        return out;
      });
      expect(reads).toMatchObject({ mget: 10, scripts: 0 });
      for (const v of reads.result)
        expect(v).toEqual({
          status: 'ok',
          session: {
            roles: ['user', 'admin'],
            data: { plan: 'pro' },
            authTime: expect.any(Number),
            absoluteExpiresAt: expect.any(Number),
          },
        });
      // The same answer the script gives.
      expect(reads.result[0]).toEqual(first.result);
      // A touch due (interval 0: every request writes) goes to the script.
      expect(await sent(() => validate(fresh, s, 0))).toMatchObject({ mget: 0, scripts: 1 });
    }
  });

  it("`validation: 'script'` runs the script on every request (the pre-issue-16 path)", async () => {
    const r = repo({ validation: 'script' });
    const s = newSession();
    await r.create(s);
    expect(await sent(() => Promise.all([1, 2, 3].map(() => validate(r, s))))).toMatchObject({ mget: 0, scripts: 3 });
  });

  it('revocation, logout-all and a credential change are seen by the very next read on another replica', async () => {
    const [a, b] = [repo(), repo()];
    const kept = newSession();
    const other = newSession({ userId: kept.userId });
    const third = newSession({ userId: kept.userId });
    for (const s of [kept, other, third]) await a.create(s);
    for (const s of [kept, other, third]) expect((await validate(b, s)).status).toBe('ok');
    expect((await sent(() => validate(b, other))).scripts).toBe(0);

    await a.revoke(other.userId, other.id);
    expect((await validate(b, other)).status).toBe('missing');

    // As if an index write had been lost: revokeOthers cannot find `third`, the not-before mark still ends it.
    await raw().sendCommand(['ZREM', new RedisKeys(prefix).index(third.userId), third.id]);
    await a.revokeOthers(kept.userId, kept.id, { now: Date.now(), idleTimeoutMs: IDLE, notBefore: { ttlMs: HOUR } });
    expect((await validate(b, third)).status).toBe('missing');
    expect((await validate(b, kept)).status).toBe('ok');

    await a.revokeAll(kept.userId);
    expect((await validate(b, kept)).status).toBe('missing');
  });

  it('a single session (in the user key) reads the same, and only for its own id', async () => {
    const r = repo();
    const s = newSession({ impersonator: 'u-admin' });
    await r.create(s);
    await validate(r, s); // anchor
    const read = await sent(() => validate(r, s));
    expect(read).toMatchObject({ mget: 1, scripts: 0 });
    expect(read.result).toMatchObject({ status: 'ok', session: { impersonator: 'u-admin' } });
    // Another id of the same user: the single record is not its, the script answers missing.
    expect(await sent(() => validate(r, { ...s, id: randomSid() }))).toMatchObject({
      result: { status: 'missing' },
      scripts: 1,
    });
  });

  it('on the caller clock (tests), near a deadline the read defers to the script, which ends the session', async () => {
    const r = repo({ clock: 'local' });
    const s = newSession();
    await r.create(s);
    const idleEnd = s.now + IDLE;
    // Just inside the idle deadline, touch not due: the read answers.
    expect(await sent(() => validate(r, s, IDLE, idleEnd - 1))).toMatchObject({
      result: { status: 'ok' },
      scripts: 0,
    });
    expect(await sent(() => validate(r, s, IDLE, idleEnd))).toMatchObject({
      result: { status: 'expired' },
      scripts: 1,
    });
    expect((await validate(r, s, IDLE, s.now)).status).toBe('missing');
  });

  it('a User-Agent with the record separator in it is stored with U+FFFD instead; roles with it are refused', async () => {
    const r = repo({ clock: 'local' });
    const s = newSession({ userAgent: 'evil\x1fua', device: 'x\x1fy' });
    await r.create(s);
    expect((await validate(r, s, TOUCH, s.now + 1)).status).toBe('ok');
    expect(await r.list(s.userId, s.now + 1, IDLE)).toMatchObject([{ userAgent: 'evil\ufffdua', device: 'x\ufffdy' }]);
    await expect(r.create(newSession({ roles: ['a\x1fb'] }))).rejects.toThrow(/U\+001F/);
  });

  it('without index expiry (the module while its cleanup job runs) the index has no TTL; a cleanup pass deletes it with its last entry', async () => {
    const r = repo({ clock: 'local', indexExpiry: false });
    const now = Date.now();
    const a = newSession({ now });
    const b = newSession({ now, userId: a.userId, absoluteExpiresAt: now + 10 * 60_000 });
    await r.create(a);
    await r.create(b);
    const keys = new RedisKeys(prefix);
    const index = keys.index(a.userId);
    expect(await raw().sendCommand(['TYPE', index])).toBe('zset');
    expect(await raw().sendCommand(['PEXPIRETIME', index])).toBe(-1);
    // A touch keeps it without one; the sessions keep theirs.
    expect((await validate(r, a, 0, now + 1000)).status).toBe('ok');
    expect(await raw().sendCommand(['PEXPIRETIME', index])).toBe(-1);
    expect(await raw().sendCommand(['PEXPIRETIME', keys.session(a.userId, a.id)])).toBe(now + 1000 + IDLE);
    expect((await r.cleanup(now + 11 * 60_000, 10, IDLE)).removed).toBe(1);
    expect(await raw().sendCommand(['EXISTS', index])).toBe(1);
    expect((await r.cleanup(now + 1000 + IDLE, 10, IDLE)).removed).toBe(1);
    expect(await raw().sendCommand(['EXISTS', index])).toBe(0);
  });

  describe('records written before issue 16 (one hash per session)', () => {
    /** Writes a session exactly as the pre-16 CREATE script did: hash fields, TTL, index entry. */
    async function oldFormat(s: NewSession, now: number): Promise<void> {
      const keys = new RedisKeys(prefix);
      const [key, index] = keys.sessionAndIndex(s.userId, s.id);
      const exp = String(Math.min(now + IDLE, s.absoluteExpiresAt));
      const n = String(now);
      await raw().sendCommand(
        ['HSET', key, 'c', n, 'l', n, 'a', String(s.absoluteExpiresAt), 'g', '0', 'h', s.refreshHash]
          .concat(['i', String(s.refreshIssuedAt), 'r', s.roles.join(','), 'ua', s.userAgent, 'ip', s.ip, 't', n])
          .concat(['d', JSON.stringify(s.data), 'dv', s.device]),
      );
      await raw().sendCommand(['PEXPIREAT', key, exp]);
      await raw().sendCommand(['ZADD', index, exp, s.id]);
      await raw().sendCommand(['PEXPIREAT', index, exp]);
    }
    const type = (key: string) => raw().sendCommand(['TYPE', key]);

    it('validate (by the script: a hash is no string to MGET), list, touch to the packed form, rotate, revoke', async () => {
      const r = repo({ clock: 'local' });
      const now = Date.now();
      const s = newSession({ now });
      const t = newSession({ now, userId: s.userId });
      await oldFormat(s, now);
      await oldFormat(t, now);
      const key = new RedisKeys(prefix).session(s.userId, s.id);
      expect(await type(key)).toBe('hash');

      const v = await sent(() => validate(r, s, TOUCH, now + 1000));
      expect(v).toMatchObject({ mget: 1, scripts: 1 });
      expect(v.result).toEqual({
        status: 'ok',
        session: {
          roles: ['user', 'admin'],
          data: { plan: 'pro' },
          authTime: now,
          absoluteExpiresAt: s.absoluteExpiresAt,
        },
      });
      expect(await type(key)).toBe('hash'); // no touch due: nothing written
      expect((await r.list(s.userId, now + 1000, IDLE)).map((x) => [x.id, x.createdAt, x.device])).toEqual(
        expect.arrayContaining([
          [s.id, now, 'Firefox on Linux'],
          [t.id, now, 'Firefox on Linux'],
        ]),
      );

      // The first touch rewrites it packed; from then on the plain read serves it.
      expect((await validate(r, s, TOUCH, now + TOUCH)).status).toBe('ok');
      expect(await type(key)).toBe('string');
      expect(await sent(() => validate(r, s, TOUCH, now + TOUCH + 1))).toMatchObject({
        scripts: 0,
        result: { status: 'ok' },
      });

      // Rotation on an old-format record, then theft detection with the old token past the grace window.
      const rotate = (gen: number, hash: string, at: number) =>
        r.rotate(t.userId, t.id, {
          now: at,
          idleTimeoutMs: IDLE,
          graceMs: 10_000,
          presentedGeneration: gen,
          presentedHash: hash,
          nextHash: randomHash(),
          nextIssuedAt: Math.floor(at / 1000),
        });
      expect(await rotate(0, t.refreshHash, now + 2000)).toMatchObject({
        status: 'rotated',
        generation: 1,
        absoluteExpiresAt: t.absoluteExpiresAt,
        roles: ['user', 'admin'],
      });
      expect(await rotate(0, t.refreshHash, now + 3000)).toMatchObject({ status: 'raced', generation: 1 });
      expect(await rotate(0, t.refreshHash, now + 20_000)).toEqual({ status: 'reused' });
      expect((await validate(r, t, TOUCH, now + 20_001)).status).toBe('missing');

      expect(await r.revoke(s.userId, s.id)).toBe(true);
      expect((await validate(r, s, TOUCH, now + TOUCH + 2)).status).toBe('missing');
    });

    it('expiry, cleanup and a second login next to an old-format session', async () => {
      const r = repo({ clock: 'local' });
      const now = Date.now();
      const old = newSession({ now });
      await oldFormat(old, now);
      const fresh = newSession({ now, userId: old.userId });
      await r.create(fresh);
      // The user key was already an index: the new session goes under its own key beside the hash.
      expect(await type(new RedisKeys(prefix).index(old.userId))).toBe('zset');
      expect((await r.list(old.userId, now, IDLE)).map((x) => x.id).sort()).toEqual([old.id, fresh.id].sort());
      expect((await r.cleanup(now + IDLE + 1, 10, IDLE)).removed).toBe(2);
      expect(await r.list(old.userId, now + IDLE + 1, IDLE)).toEqual([]);
    });
  });
});
