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

/** Raw Redis commands the grey-box checks need; a node-redis client or cluster client fits. */
export interface RawRedis {
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
      const key = fixture.keys.session(userId, sid);

      const stored = await fixture.raw.hGetAll(key);
      expect(Object.keys(stored).sort()).toEqual(['a', 'c', 'dv', 'g', 'h', 'i', 'ip', 'l', 'r', 't', 'ua']);
      expect(stored.h).toBe(tokens.hash(token0));
      const assertNoToken = (hash: Record<string, string>, token: string) => {
        const [, payload, signature] = token.split('.');
        for (const value of Object.values(hash)) {
          expect(value).not.toContain(token);
          expect(value).not.toContain(payload);
          expect(value).not.toContain(signature);
        }
      };
      assertNoToken(stored, token0);

      const token1 = tokens.sign(userId, sid, 1, iat + 60, iat + 3600);
      const rotated = await kit.rotate(s, base + MINUTE, 0, tokens.hash(token0), {
        nextHash: tokens.hash(token1),
        nextIssuedAt: iat + 60,
      });
      expect(rotated).toMatchObject({ status: 'rotated', generation: 1 });
      const after = await fixture.raw.hGetAll(key);
      expect(after).toMatchObject({ g: '1', h: tokens.hash(token1), p1: `${tokens.hash(token0)}:${base + MINUTE}` });
      assertNoToken(after, token0);
      assertNoToken(after, token1);
    });

    it('drops the previous refresh digests at the first touch a minute past the grace window, and the chain goes on', async () => {
      const s = await kit.create();
      const key = fixture.keys.session(s.userId, s.id);
      const h1 = randomHash();
      const at = base + MINUTE;
      expect(await kit.rotate(s, at, 0, s.refreshHash, { nextHash: h1 })).toMatchObject({ status: 'rotated' });
      expect(await fixture.raw.hGetAll(key)).toMatchObject({ p1: `${s.refreshHash}:${at}` });

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
      expect(await fixture.raw.hGetAll(key)).toHaveProperty('p1'); // not yet past
      expect(
        (await fixture.repo.validate(s.userId, s.id, { now: edge + 1, idleTimeoutMs: IDLE, touchIntervalMs: 0 }))
          .status,
      ).toBe('ok');
      expect(await fixture.raw.hGetAll(key)).toHaveProperty('p1'); // no grace given: kept
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
      expect(await fixture.raw.hGetAll(key)).toHaveProperty('p1'); // no touch due: untouched

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
      const pruned = await fixture.raw.hGetAll(key);
      expect(Object.keys(pruned).sort()).toEqual(['a', 'c', 'dv', 'g', 'h', 'i', 'ip', 'l', 'r', 't', 'ua']);
      expect(pruned).toMatchObject({ g: '1', h: h1 });

      expect(await kit.rotate(s, edge + 2, 1, h1)).toMatchObject({ status: 'rotated', generation: 2 });
      expect(await kit.rotate(s, edge + 3, 0, s.refreshHash)).toEqual({ status: 'reused' });
    });

    it('keeps at most 3 previous digests, each value within 64 bytes (compact listpack), and drops them past the window', async () => {
      const s = await kit.create();
      const key = fixture.keys.session(s.userId, s.id);
      let hash = s.refreshHash;
      for (let gen = 0; gen < 5; gen++) {
        const next = randomHash();
        expect(await kit.rotate(s, base + 1000 * (gen + 1), gen, hash, { nextHash: next })).toMatchObject({
          status: 'rotated',
        });
        hash = next;
      }
      const stored = await fixture.raw.hGetAll(key);
      expect(
        Object.keys(stored)
          .filter((f) => f.startsWith('p'))
          .sort(),
      ).toEqual(['p1', 'p2', 'p3']);
      for (const value of Object.values(stored)) expect(Buffer.byteLength(value)).toBeLessThanOrEqual(64);
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
      expect(Object.keys(await fixture.raw.hGetAll(key)).sort()).toEqual([
        'a',
        'c',
        'dv',
        'g',
        'h',
        'i',
        'ip',
        'l',
        'r',
        't',
        'ua',
      ]);
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
      const key = fixture.keys.session(userId, made.id);
      // Placed at the store's time: idle deadline one idle timeout from now, lifetime an hour.
      const ttlEnd = await fixture.raw.pExpireTime(key);
      expect(ttlEnd).toBeGreaterThanOrEqual(real + IDLE_60);
      expect(ttlEnd).toBeLessThan(Date.now() + IDLE_60 + SECOND);
      expect(
        (await server.validate(userId, made.id, { now: fast, idleTimeoutMs: IDLE_60, touchIntervalMs: 0 })).status,
      ).toBe('ok');
      expect((await server.list(userId, fast, IDLE_60)).map((r) => r.id)).toEqual([made.id]);
      expect((await server.cleanup(fast, 50, IDLE_60)).removed).toBe(0);
      expect(await fixture.raw.zScore(fixture.keys.index(userId), made.id)).not.toBeNull();
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
      expect(await fixture.raw.exists(key)).toBe(0);
    });

    it('sets the session key TTL to the nearer deadline and never extends it past the absolute one', async () => {
      const s = await kit.create();
      const key = fixture.keys.session(s.userId, s.id);
      const index = fixture.keys.index(s.userId);
      expect(await fixture.raw.pExpireTime(key)).toBe(base + IDLE);
      expect(await fixture.raw.zScore(index, s.id)).toBe(base + IDLE);
      expect(await fixture.raw.pExpireTime(index)).toBeGreaterThanOrEqual(base + IDLE);

      expect(await kit.status(s, base + 5 * MINUTE)).toBe('ok');
      expect(await fixture.raw.pExpireTime(key)).toBe(base + 5 * MINUTE + IDLE);
      expect(await fixture.raw.zScore(index, s.id)).toBe(base + 5 * MINUTE + IDLE);

      const near = await kit.create({ absoluteExpiresAt: base + 10 * MINUTE });
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
        expect(await fixture.raw.exists(fixture.keys.session(s.userId, s.id))).toBe(0);
        expect(await fixture.raw.zScore(fixture.keys.index(s.userId), s.id)).toBeNull();
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
        expect(await fixture.raw.exists(fixture.keys.session(s.userId, s.id))).toBe(0);
        expect(await fixture.raw.zScore(fixture.keys.index(s.userId), s.id)).toBeNull();
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
      for (const s of [missed, alsoMissed])
        expect(await fixture.raw.exists(fixture.keys.session(s.userId, s.id))).toBe(0);
      expect(await kit.status(kept, at + 2)).toBe('ok');
      const mark = `${index.slice(0, -1)}n`;
      expect(await fixture.raw.pTTL(mark)).toBeGreaterThan(HOUR - MINUTE);
      expect(await fixture.raw.pTTL(mark)).toBeLessThanOrEqual(HOUR);
    });

    it('an impersonation session stores its actor in one short field', async () => {
      const s = await kit.create({ impersonator: 'u-admin' });
      const stored = await fixture.raw.hGetAll(fixture.keys.session(s.userId, s.id));
      expect(stored).toMatchObject({ m: 'u-admin', t: String(s.now) });
      for (const value of Object.values(stored)) expect(Buffer.byteLength(value)).toBeLessThanOrEqual(64);
    });
  });
}
