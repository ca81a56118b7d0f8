/**
 * Grey-box checks of the Redis data model (see the legend in redis-scripts.ts), shared by the
 * single-node and cluster specs. Test code: excluded from the build, not part of `testing`.
 */
import { createSecretKey, randomBytes } from 'node:crypto';
import type { NewSession, SessionRepository } from '../interfaces/session-repository.interface.js';
import type { ResolvedSessionOptions } from '../session-options.js';
import {
  type ContractFixture,
  ContractKit,
  GRACE,
  HOUR,
  IDLE,
  MINUTE,
  randomHash,
  randomSid,
  SECOND,
  TOUCH,
} from '../testing/repository-contract.js';
import { RefreshTokenService } from '../tokens/refresh-token.service.js';
import { RedisKeys } from './redis-keys.js';
import { decodeRecord } from './redis-record.js';

/** Raw Redis commands the grey-box checks need; a node-redis client or cluster client fits. */
export interface RawRedis {
  get(key: string): Promise<string | null>;
  type(key: string): Promise<string>;
  hGetAll(key: string): Promise<Record<string, string>>;
  pExpireTime(key: string): Promise<number>;
  exists(key: string): Promise<number>;
  zScore(key: string, member: string): Promise<number | null>;
  zRem(key: string, member: string): Promise<number>;
  pTTL(key: string): Promise<number>;
}

export interface RedisFixture extends ContractFixture {
  /** A repository on the same keys that decides with Redis TIME (production mode). */
  serverClock(commandTimeout?: number): SessionRepository;
  raw: RawRedis;
  keys: RedisKeys;
}

/** A real refresh-token service, so the grey-box check stores the hash of a real token. */
function refreshTokens(): RefreshTokenService {
  return new RefreshTokenService({
    refreshKey: createSecretKey(randomBytes(32)),
    clockTolerance: 0,
  } as unknown as ResolvedSessionOptions);
}

/** Where a session lives (its own key, or the user key for a user's single one) and its fields, numbers in decimal. */
export interface StoredSession {
  key: string;
  single: boolean;
  packed: string;
  fields: Record<string, string>;
}

export async function storedSession(fixture: RedisFixture, userId: string, sid: string): Promise<StoredSession | null> {
  const own = fixture.keys.session(userId, sid);
  const user = fixture.keys.index(userId);
  for (const [key, single] of [
    [own, false],
    [user, true],
  ] as const) {
    if ((await fixture.raw.type(key)) !== 'string') continue;
    const packed = (await fixture.raw.get(key))!;
    const rec = decodeRecord(packed);
    if (rec === null) throw new Error(`${key} holds no session record`);
    if (single !== (rec.id !== undefined)) throw new Error(`${key}: id ${rec.id} in the wrong place`);
    if (single && rec.id !== sid) continue;
    const fields = Object.fromEntries(
      Object.entries(rec)
        .filter(([f]) => f !== 'id')
        .map(([f, v]) => [f, String(v)]),
    );
    return { key, single, packed, fields };
  }
  return null;
}

/** True when the user key is an index (zset) holding the session id. */
export async function indexed(fixture: RedisFixture, userId: string, sid: string): Promise<boolean> {
  const index = fixture.keys.index(userId);
  if ((await fixture.raw.type(index)) !== 'zset') return false;
  return (await fixture.raw.zScore(index, sid)) !== null;
}

export function describeRedisInternals(name: string, setup: () => Promise<RedisFixture>): void {
  describe(`Redis data model: ${name}`, () => {
    let fixture: RedisFixture;
    let kit: ContractKit;
    let base: number;

    beforeEach(async () => {
      fixture = await setup();
      base = Date.now();
      kit = new ContractKit(fixture.repo, base);
    });
    afterEach(() => fixture.teardown());
    const stored = (s: { userId: string; id: string }) => storedSession(fixture, s.userId, s.id);
    const fieldsOf = async (s: { userId: string; id: string }) => (await stored(s))!.fields;
    const FIELDS_AT_LOGIN = ['a', 'c', 'dv', 'g', 'h', 'i', 'ip', 'l', 'r', 't', 'ua'];

    it('S-21: stores only the hash of the refresh token, never the token', async () => {
      const tokens = refreshTokens();
      const sid = randomSid();
      const iat = Math.floor(base / 1000);
      // A long, distinctive user id makes the token long and easy to spot anywhere.
      const userId = `grey-box-${randomBytes(24).toString('hex')}`;
      const token0 = tokens.sign(userId, sid, 0, iat, iat + 3600);
      const s = await kit.create({
        userId,
        id: sid,
        refreshHash: tokens.hash(token0),
        refreshIssuedAt: iat,
        roles: ['user'],
      });
      const first = (await stored(s))!;
      expect(first.single).toBe(true);
      expect(Object.keys(first.fields).sort()).toEqual(FIELDS_AT_LOGIN);
      expect(first.fields.h).toBe(tokens.hash(token0));
      const assertNoToken = (packed: string, token: string) => {
        const [, payload, signature] = token.split('.');
        expect(packed).not.toContain(token);
        expect(packed).not.toContain(payload);
        expect(packed).not.toContain(signature);
      };
      assertNoToken(first.packed, token0);

      const token1 = tokens.sign(userId, sid, 1, iat + 60, iat + 3600);
      const rotated = await kit.rotate(s, base + MINUTE, 0, tokens.hash(token0), {
        nextHash: tokens.hash(token1),
        nextIssuedAt: iat + 60,
      });
      expect(rotated).toMatchObject({ status: 'rotated', generation: 1 });
      const after = (await stored(s))!;
      expect(after.fields).toMatchObject({
        g: '1',
        h: tokens.hash(token1),
        p1: `${tokens.hash(token0)}:${base + MINUTE}`,
      });
      assertNoToken(after.packed, token0);
      assertNoToken(after.packed, token1);
    });

    it('drops the previous refresh digests at the first touch a minute past the grace window, and the chain goes on', async () => {
      const s = await kit.create();
      const h1 = randomHash();
      const at = base + MINUTE;
      expect(await kit.rotate(s, at, 0, s.refreshHash, { nextHash: h1 })).toMatchObject({ status: 'rotated' });
      expect(await fieldsOf(s)).toMatchObject({ p1: `${s.refreshHash}:${at}` });

      const edge = at + GRACE + MINUTE;
      expect(
        (
          await fixture.repo.validate(s.userId, s.id, {
            now: edge,
            idleTimeoutMs: IDLE,
            touchIntervalMs: 0,
            graceMs: GRACE,
          })
        ).status,
      ).toBe('ok');
      expect(await fieldsOf(s)).toHaveProperty('p1'); // not yet past
      expect(
        (await fixture.repo.validate(s.userId, s.id, { now: edge + 1, idleTimeoutMs: IDLE, touchIntervalMs: 0 }))
          .status,
      ).toBe('ok');
      expect(await fieldsOf(s)).toHaveProperty('p1'); // no grace given: kept
      expect(
        (
          await fixture.repo.validate(s.userId, s.id, {
            now: edge + 1,
            idleTimeoutMs: IDLE,
            touchIntervalMs: TOUCH,
            graceMs: GRACE,
          })
        ).status,
      ).toBe('ok');
      expect(await fieldsOf(s)).toHaveProperty('p1'); // no touch due: untouched

      expect(
        (
          await fixture.repo.validate(s.userId, s.id, {
            now: edge + 1,
            idleTimeoutMs: IDLE,
            touchIntervalMs: 0,
            graceMs: GRACE,
          })
        ).status,
      ).toBe('ok');
      const pruned = await fieldsOf(s);
      expect(Object.keys(pruned).sort()).toEqual(FIELDS_AT_LOGIN);
      expect(pruned).toMatchObject({ g: '1', h: h1 });

      expect(await kit.rotate(s, edge + 2, 1, h1)).toMatchObject({ status: 'rotated', generation: 2 });
      expect(await kit.rotate(s, edge + 3, 0, s.refreshHash)).toEqual({ status: 'reused' });
    });

    it('keeps at most 3 previous digests and drops them past the window', async () => {
      const s = await kit.create();
      let hash = s.refreshHash;
      for (let gen = 0; gen < 5; gen++) {
        const next = randomHash();
        expect(await kit.rotate(s, base + 1000 * (gen + 1), gen, hash, { nextHash: next })).toMatchObject({
          status: 'rotated',
        });
        hash = next;
      }
      expect(
        Object.keys(await fieldsOf(s))
          .filter((f) => f.startsWith('p'))
          .sort(),
      ).toEqual(['p1', 'p2', 'p3']);
      expect(
        (
          await fixture.repo.validate(s.userId, s.id, {
            now: base + 5000 + GRACE + MINUTE + 1,
            idleTimeoutMs: IDLE,
            touchIntervalMs: 0,
            graceMs: GRACE,
          })
        ).status,
      ).toBe('ok');
      expect(Object.keys(await fieldsOf(s)).sort()).toEqual(FIELDS_AT_LOGIN);
    });

    it('with the store clock, a caller clock 100 s off either way decides nothing: validate, list, cleanup, rotate, revokeAll', async () => {
      const server = fixture.serverClock();
      const IDLE_60 = 60 * SECOND;
      const real = Date.now();
      const slow = real - 100 * SECOND;
      const fast = real + 100 * SECOND;
      const userId = `skew-${randomBytes(4).toString('hex')}`;
      const made = { ...kit.session({ userId, now: slow, absoluteExpiresAt: slow + HOUR }), idleTimeoutMs: IDLE_60 };
      await server.create(made);
      const { key } = (await stored(made))!;
      // Placed at the store's time: idle deadline one idle timeout from now, lifetime an hour.
      const ttlEnd = await fixture.raw.pExpireTime(key);
      expect(ttlEnd).toBeGreaterThanOrEqual(real + IDLE_60);
      expect(ttlEnd).toBeLessThan(Date.now() + IDLE_60 + SECOND);
      expect(
        (await server.validate(userId, made.id, { now: fast, idleTimeoutMs: IDLE_60, touchIntervalMs: 0 })).status,
      ).toBe('ok');
      expect((await server.list(userId, fast, IDLE_60)).map((r) => r.id)).toEqual([made.id]);
      expect((await server.cleanup(fast, 50, IDLE_60)).removed).toBe(0);
      expect(await stored(made)).not.toBeNull();
      const rotated = await server.rotate(userId, made.id, {
        now: fast,
        idleTimeoutMs: IDLE_60,
        graceMs: GRACE,
        presentedGeneration: 0,
        presentedHash: made.refreshHash,
        nextHash: randomHash(),
        nextIssuedAt: Math.floor(fast / 1000),
      });
      expect(rotated).toMatchObject({ status: 'rotated', generation: 1 });
      // Its replay 100 s later by the fast clock, but not by the store's: inside the window.
      const replay = await server.rotate(userId, made.id, {
        now: fast + 100 * SECOND,
        idleTimeoutMs: IDLE_60,
        graceMs: GRACE,
        presentedGeneration: 0,
        presentedHash: made.refreshHash,
        nextHash: randomHash(),
        nextIssuedAt: 0,
      });
      expect(replay).toMatchObject({ status: 'raced', generation: 1 });
      expect(await server.revokeAll(userId)).toBe(1);
      expect(await stored(made)).toBeNull();
      expect(await fixture.raw.exists(key)).toBe(0);
    });

    it('sets the session key TTL to the nearer deadline and never extends it past the absolute one', async () => {
      const s = await kit.create();
      // A single session lives in the user key, which then expires with it.
      expect(await stored(s)).toMatchObject({ single: true, key: fixture.keys.index(s.userId) });
      expect(await fixture.raw.pExpireTime(fixture.keys.index(s.userId))).toBe(base + IDLE);
      expect(await kit.status(s, base + MINUTE)).toBe('ok');
      expect(await fixture.raw.pExpireTime(fixture.keys.index(s.userId))).toBe(base + MINUTE + IDLE);

      // A second session moves the first to its own key, TTL kept, and the index takes the user key.
      const near = await kit.create({ absoluteExpiresAt: base + 10 * MINUTE });
      const key = fixture.keys.session(s.userId, s.id);
      const index = fixture.keys.index(s.userId);
      expect(await stored(s)).toMatchObject({ single: false, key });
      expect(await fixture.raw.pExpireTime(key)).toBe(base + MINUTE + IDLE);
      expect(await fixture.raw.zScore(index, s.id)).toBe(base + MINUTE + IDLE);
      expect(await fixture.raw.pExpireTime(index)).toBeGreaterThanOrEqual(base + MINUTE + IDLE);

      expect(await kit.status(s, base + 5 * MINUTE)).toBe('ok');
      expect(await fixture.raw.pExpireTime(key)).toBe(base + 5 * MINUTE + IDLE);
      expect(await fixture.raw.zScore(index, s.id)).toBe(base + 5 * MINUTE + IDLE);

      const nearKey = fixture.keys.session(near.userId, near.id);
      expect(await fixture.raw.pExpireTime(nearKey)).toBe(base + 10 * MINUTE);
      expect(await kit.status(near, base + 5 * MINUTE)).toBe('ok');
      expect(await kit.rotate(near, base + 7 * MINUTE, 0, near.refreshHash)).toMatchObject({ status: 'rotated' });
      expect(await fixture.raw.pExpireTime(nearKey)).toBe(base + 10 * MINUTE);
      expect(await fixture.raw.zScore(index, near.id)).toBe(base + 10 * MINUTE);
      // The index outlives its longest-lived member.
      expect(await fixture.raw.pExpireTime(index)).toBeGreaterThanOrEqual(base + 5 * MINUTE + IDLE);
    });

    it('revoke, revokeAll, expiry and reuse leave no keys or index entries behind', async () => {
      const a = await kit.create();
      const b = await kit.create();
      const c = await kit.create();
      const d = await kit.create();
      const gone = async (s: NewSession) => {
        expect(await stored(s)).toBeNull();
        expect(await fixture.raw.exists(fixture.keys.session(s.userId, s.id))).toBe(0);
        expect(await indexed(fixture, s.userId, s.id)).toBe(false);
      };
      await fixture.repo.revoke(a.userId, a.id);
      await gone(a);
      expect(await kit.status(b, base + IDLE)).toBe('expired');
      await gone(b);
      await kit.rotate(c, base + 1000, 0, c.refreshHash);
      expect(await kit.rotate(c, base + 1000 + GRACE + 1, 0, c.refreshHash)).toEqual({ status: 'reused' });
      await gone(c);
      expect(await fixture.raw.exists(fixture.keys.session(d.userId, d.id))).toBe(1);
      expect(await fixture.repo.revokeAll(d.userId)).toBe(1);
      await gone(d);
      expect(await fixture.raw.exists(fixture.keys.index(d.userId))).toBe(0);
    });

    it('a touch racing a revoke never resurrects the session key or its index entry', async () => {
      const repos = [fixture.repo, ...(fixture.peers ?? [])];
      for (let round = 0; round < 5; round++) {
        const s = await kit.create();
        const ops: Promise<unknown>[] = [];
        for (let k = 0; k < 40; k++) {
          const r = repos[k % repos.length];
          ops.push(k === 20 ? r.revoke(s.userId, s.id) : kit.validate(s, base + k + 1, 0, r));
          if (k % 10 === 5) ops.push(kit.rotate(s, base + k + 1, 0, s.refreshHash, {}, r));
        }
        await Promise.all(ops);
        expect(await stored(s)).toBeNull();
        expect(await fixture.raw.exists(fixture.keys.session(s.userId, s.id))).toBe(0);
        expect(await indexed(fixture, s.userId, s.id)).toBe(false);
      }
    });

    it('a credential change kills a session the index missed, in validate and rotate, and dates its mark', async () => {
      const kept = await kit.create();
      const missed = await kit.create();
      const alsoMissed = await kit.create();
      const index = fixture.keys.index(kept.userId);
      // As if an index write had been lost: the hash lives, the index does not know it.
      await fixture.raw.zRem(index, missed.id);
      await fixture.raw.zRem(index, alsoMissed.id);
      const at = base + MINUTE;
      const request = { now: at, idleTimeoutMs: IDLE, notBefore: { ttlMs: HOUR } };
      expect(await fixture.repo.revokeOthers(kept.userId, kept.id, request)).toBe(0);
      expect(await kit.status(missed, at + 1)).toBe('missing');
      expect(await kit.rotate(alsoMissed, at + 1, 0, alsoMissed.refreshHash)).toEqual({ status: 'missing' });
      for (const s of [missed, alsoMissed]) expect(await stored(s)).toBeNull();
      expect(await kit.status(kept, at + 2)).toBe('ok');
      const mark = `${index.slice(0, -1)}n`;
      expect(await fixture.raw.pTTL(mark)).toBeGreaterThan(HOUR - MINUTE);
      expect(await fixture.raw.pTTL(mark)).toBeLessThanOrEqual(HOUR);
    });

    it('an impersonation session stores its actor in one short field', async () => {
      const s = await kit.create({ impersonator: 'u-admin' });
      expect(await fieldsOf(s)).toMatchObject({ m: 'u-admin', t: String(s.now) });
    });
  });
}
