/**
 * The SessionRepository contract: one behavioural suite that every repository (memory, Redis,
 * Redis Cluster, and yours) must pass. Shipped as `nestjs-jwt-session/testing`. Every time is an
 * explicit `now`, so nothing sleeps, except the lock-expiry case, which polls real time because
 * locks use the wall clock.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  NewSession,
  RotateRequest,
  RotateResult,
  SessionRepository,
} from '../interfaces/session-repository.interface.js';
import { type ContractTestApi, globalTestApi } from './test-api.js';
import { describeSessionControls } from './session-controls-contract.js';

/**
 * What the suite runs against, made fresh for every test by the `setup` you pass.
 * @publicApi
 */
export interface ContractFixture {
  repo: SessionRepository;
  /** More repositories over other connections to the same data, so races cross connections. */
  peers?: SessionRepository[];
  teardown(): Promise<void>;
}

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const IDLE = 30 * MINUTE;
export const TOUCH = MINUTE;
export const GRACE = 10 * SECOND;
const ABSOLUTE = 8 * HOUR;

export const randomHash = (): string => randomBytes(16).toString('base64url');
export const randomSid = (): string => randomBytes(16).toString('base64url');

/** User ids that stress the key layout: hash-tag braces, separators, glob and %-escapes, unicode. */
export const TRICKY_USER_IDS = [
  '{alice}',
  '{',
  '}',
  '%7b',
  '%7B',
  'a}b{c',
  'user:1:s:x',
  'x{y}z:x',
  '50%',
  '50%25',
  'with space',
  'with%20space',
  'tab\there',
  'a*b?[c]\\d',
  'ünïcødé-用户-🙂',
] as const;

/** Test helpers bound to one repository and one base time. */
export class ContractKit {
  constructor(
    readonly repo: SessionRepository,
    readonly base: number,
  ) {}

  session(overrides: Partial<NewSession> = {}): NewSession {
    const now = overrides.now ?? this.base;
    return {
      id: randomSid(),
      userId: 'user-a',
      roles: ['user'],
      userAgent: 'jest-agent/1.0',
      ip: '203.0.113.7',
      device: 'jest-agent 1',
      data: undefined,
      idleTimeoutMs: IDLE,
      refreshHash: randomHash(),
      refreshIssuedAt: Math.floor(now / 1000),
      ...overrides,
      now,
      absoluteExpiresAt: overrides.absoluteExpiresAt ?? now + ABSOLUTE,
    };
  }

  async create(overrides: Partial<NewSession> = {}): Promise<NewSession> {
    const s = this.session(overrides);
    await this.repo.create(s);
    return s;
  }

  async validate(s: NewSession, now: number, touchMs = TOUCH, repo = this.repo) {
    const result = await repo.validate(s.userId, s.id, { now, idleTimeoutMs: IDLE, touchIntervalMs: touchMs });
    // Optional, and on the store's clock: its own test compares it with list().
    if (result.status === 'ok') delete result.session.absoluteExpiresAt;
    return result;
  }

  async status(s: NewSession, now: number): Promise<string> {
    return (await this.validate(s, now)).status;
  }

  rotate(
    s: NewSession,
    now: number,
    generation: number,
    hash: string,
    next: Partial<Pick<RotateRequest, 'nextHash' | 'nextIssuedAt'>> = {},
    repo = this.repo,
  ): Promise<RotateResult> {
    return repo.rotate(s.userId, s.id, {
      now,
      idleTimeoutMs: IDLE,
      graceMs: GRACE,
      presentedGeneration: generation,
      presentedHash: hash,
      nextHash: next.nextHash ?? randomHash(),
      nextIssuedAt: next.nextIssuedAt ?? Math.floor(now / 1000),
    });
  }

  async listIds(userId: string, now: number): Promise<string[]> {
    return (await this.repo.list(userId, now, IDLE)).map((r) => r.id);
  }

  async lastSeen(s: NewSession, now: number): Promise<number | undefined> {
    return (await this.repo.list(s.userId, now, IDLE)).find((r) => r.id === s.id)?.lastSeenAt;
  }
}

/** Polls `check` until it yields a truthy value or the deadline passes. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 5000, stepMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms (last: ${String(last)})`);
    await sleep(stepMs);
  }
}

/**
 * Declares the contract suite for a `SessionRepository`: call it at the top level of a test file.
 * `setup` makes a fresh fixture for each test. The runner's globals are used unless `api` is given.
 * @example describeRepositoryContract('my store', async () => ({ repo: new MyRepository(), teardown: async () => {} }));
 * @publicApi
 */
export function describeRepositoryContract(
  name: string,
  setup: () => Promise<ContractFixture>,
  api: ContractTestApi = globalTestApi(),
): void {
  // The runner's functions are free functions (Jest and Vitest globals), never methods of `api`.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const { describe, it, beforeEach, afterEach, expect } = api;
  describe(`SessionRepository contract: ${name}`, () => {
    let fixture: ContractFixture;
    let repo: SessionRepository;
    let peers: SessionRepository[];
    let kit: ContractKit;
    let base: number;

    beforeEach(async () => {
      fixture = await setup();
      repo = fixture.repo;
      peers = fixture.peers ?? [];
      // Real time as the base: a Redis TTL is wall-clock, so every deadline stays in the future.
      base = Date.now();
      kit = new ContractKit(repo, base);
    });
    afterEach(() => fixture.teardown());

    describeSessionControls(api, () => ({ repo, peers, kit, base }));

    describe('create and validate', () => {
      it('reports the absolute deadline with a validation, if at all, as list() reports it', async () => {
        const s = await kit.create();
        const result = await repo.validate(s.userId, s.id, {
          now: base + 1,
          idleTimeoutMs: IDLE,
          touchIntervalMs: TOUCH,
        });
        if (result.status !== 'ok') throw new Error(`expected ok, got ${result.status}`);
        const listed = (await repo.list(s.userId, base + 1, IDLE)).find((r) => r.id === s.id);
        expect(listed).not.toBeUndefined();
        const reported = result.session.absoluteExpiresAt;
        if (reported !== undefined) expect(reported).toBe(listed?.absoluteExpiresAt);
      });

      it('returns the stored roles and data of a new session', async () => {
        const data = { theme: 'dark', n: 3, nested: { list: [1, 'two', null], flag: true }, text: 'ü 用户 🙂' };
        const s = await kit.create({ roles: ['user', 'admin'], data });
        expect(await kit.validate(s, base + SECOND)).toEqual({
          status: 'ok',
          session: { roles: ['user', 'admin'], data, authTime: s.now },
        });

        const bare = await kit.create({ roles: [], data: undefined });
        expect(await kit.validate(bare, base + SECOND)).toEqual({
          status: 'ok',
          session: { roles: [], data: undefined, authTime: bare.now },
        });
      });

      it('hands out copies: changing a returned session does not change the stored one', async () => {
        const s = await kit.create({ roles: ['user'], data: { count: 1 } });
        const first = await kit.validate(s, base + 1);
        if (first.status !== 'ok') throw new Error(`expected ok, got ${first.status}`);
        first.session.roles.push('admin');
        (first.session.data as { count: number }).count = 99;
        expect(await kit.validate(s, base + 2)).toEqual({
          status: 'ok',
          session: { roles: ['user'], data: { count: 1 }, authTime: s.now },
        });
      });

      it('answers missing for an unknown user or session id', async () => {
        const s = await kit.create();
        expect(
          await repo.validate('nobody', s.id, { now: base + 1, idleTimeoutMs: IDLE, touchIntervalMs: TOUCH }),
        ).toEqual({ status: 'missing' });
        expect(
          await repo.validate(s.userId, randomSid(), { now: base + 1, idleTimeoutMs: IDLE, touchIntervalMs: TOUCH }),
        ).toEqual({ status: 'missing' });
        expect(await kit.rotate({ ...s, id: randomSid() }, base + 1, 0, s.refreshHash)).toEqual({ status: 'missing' });
        expect(await repo.revoke(s.userId, randomSid())).toBe(false);
        expect(await kit.status(s, base + 1)).toBe('ok');
      });

      it("answers missing for one user's session looked up under another user", async () => {
        const a = await kit.create({ userId: 'user-a' });
        const asB = { ...a, userId: 'user-b' };
        expect(await kit.validate(asB, base + 1)).toEqual({ status: 'missing' });
        expect(await kit.rotate(asB, base + 1, 0, a.refreshHash)).toEqual({ status: 'missing' });
        expect(await repo.revoke('user-b', a.id)).toBe(false);
        expect(await repo.revokeAll('user-b')).toBe(0);
        expect(await repo.list('user-b', base + 1, IDLE)).toEqual([]);
        // Nothing above touched the real owner's session.
        expect(await kit.validate(a, base + 2)).toMatchObject({ status: 'ok' });
        expect(await kit.rotate(a, base + 3, 0, a.refreshHash)).toMatchObject({ status: 'rotated', generation: 1 });
      });
    });

    describe('idle timeout', () => {
      it('is alive just before lastSeen + idle and expired at it; the session is gone afterwards', async () => {
        const s = await kit.create();
        // A touch interval longer than idle, so this validate does not slide the deadline.
        expect((await kit.validate(s, base + IDLE - 1, 2 * IDLE)).status).toBe('ok');
        expect(await kit.validate(s, base + IDLE)).toEqual({ status: 'expired' });
        // Gone, not just reported as expired: even an earlier `now` does not find it.
        expect(await kit.validate(s, base + 1)).toEqual({ status: 'missing' });
        expect(await kit.listIds(s.userId, base + 1)).toEqual([]);
        expect(await kit.rotate(s, base + 1, 0, s.refreshHash)).toEqual({ status: 'missing' });
      });

      it('throttles touches: inside touchInterval lastSeenAt stays, outside it moves and the deadline slides', async () => {
        const s = await kit.create();
        expect(await kit.status(s, base + TOUCH - 1)).toBe('ok');
        expect(await kit.lastSeen(s, base + TOUCH - 1)).toBe(base);

        expect(await kit.status(s, base + TOUCH)).toBe('ok');
        const [record] = await repo.list(s.userId, base + TOUCH, IDLE);
        expect(record).toMatchObject({ id: s.id, lastSeenAt: base + TOUCH, expiresAt: base + TOUCH + IDLE });

        // Past the original deadline, but inside the slid one.
        expect(await kit.status(s, base + IDLE + 1)).toBe('ok');
        expect(await kit.lastSeen(s, base + IDLE + 1)).toBe(base + IDLE + 1);
        expect(await kit.status(s, base + IDLE + 1 + IDLE)).toBe('expired');
      });

      it('keeps a session alive under steady use even though most touches are throttled', async () => {
        const s = await kit.create();
        const step = TOUCH / 2;
        let t = base;
        for (; t < base + 2 * IDLE; t += step) {
          const result = await kit.validate(s, t);
          if (result.status !== 'ok') throw new Error(`expired under steady use at +${t - base} ms: ${result.status}`);
        }
        // lastSeenAt lags `now` by less than one touch interval.
        const lastSeen = await kit.lastSeen(s, t);
        expect(lastSeen).toBeGreaterThan(t - step - TOUCH);
      });

      it('counts a refresh as a use', async () => {
        const s = await kit.create();
        const at = base + 20 * MINUTE;
        expect(await kit.rotate(s, at, 0, s.refreshHash)).toMatchObject({ status: 'rotated' });
        expect(await kit.lastSeen(s, at)).toBe(at);
        expect(await kit.status(s, base + IDLE + MINUTE)).toBe('ok');
      });
    });

    describe('absolute timeout', () => {
      it('cannot be extended by touches or rotations', async () => {
        const absolute = base + 2 * HOUR;
        const s = await kit.create({ absoluteExpiresAt: absolute });
        let gen = 0;
        let hash = s.refreshHash;
        for (let t = base + 10 * MINUTE; t < absolute; t += 10 * MINUTE) {
          expect(await kit.status(s, t)).toBe('ok');
          const nextHash = randomHash();
          const rotated = await kit.rotate(s, t + 1, gen, hash, { nextHash });
          expect(rotated).toMatchObject({ status: 'rotated', generation: gen + 1, absoluteExpiresAt: absolute });
          gen += 1;
          hash = nextHash;
        }
        const [record] = await repo.list(s.userId, absolute - 1, IDLE);
        expect(record).toMatchObject({ absoluteExpiresAt: absolute, expiresAt: absolute });
        expect(await kit.status(s, absolute - 1)).toBe('ok');
        // Last use was moments ago, so only the absolute deadline can end it.
        expect(await kit.rotate(s, absolute, gen, hash)).toEqual({ status: 'expired' });
        expect(await kit.status(s, absolute - 1)).toBe('missing');
      });

      it('expires at the absolute deadline on validate too', async () => {
        const absolute = base + 5 * MINUTE;
        const s = await kit.create({ absoluteExpiresAt: absolute });
        expect(await kit.status(s, absolute - 1)).toBe('ok');
        expect(await kit.status(s, absolute)).toBe('expired');
        expect(await kit.status(s, base)).toBe('missing');
      });
    });

    describe('rotate', () => {
      it('rotates the current token: generation + 1 and issuedAt = nextIssuedAt, every generation', async () => {
        const s = await kit.create({ roles: ['user', 'editor'] });
        const h1 = randomHash();
        const r1 = await kit.rotate(s, base + SECOND, 0, s.refreshHash, {
          nextHash: h1,
          nextIssuedAt: s.refreshIssuedAt + 11,
        });
        expect(r1).toEqual({
          status: 'rotated',
          generation: 1,
          issuedAt: s.refreshIssuedAt + 11,
          absoluteExpiresAt: s.absoluteExpiresAt,
          roles: ['user', 'editor'],
        });
        const r2 = await kit.rotate(s, base + 2 * SECOND, 1, h1, { nextIssuedAt: s.refreshIssuedAt + 22 });
        expect(r2).toMatchObject({ status: 'rotated', generation: 2, issuedAt: s.refreshIssuedAt + 22 });
        expect(await kit.status(s, base + 3 * SECOND)).toBe('ok');
      });

      it('answers raced, with the rotation’s generation and issuedAt, for the previous token inside the grace window', async () => {
        const s = await kit.create();
        const at = base + MINUTE;
        const rotated = await kit.rotate(s, at, 0, s.refreshHash, {
          nextHash: randomHash(),
          nextIssuedAt: s.refreshIssuedAt + 60,
        });
        expect(rotated.status).toBe('rotated');
        const { status: _, ...successor } = rotated as Extract<RotateResult, { generation: number }>;
        for (const t of [at, at + 1, at + GRACE]) {
          expect(await kit.rotate(s, t, 0, s.refreshHash)).toEqual({ status: 'raced', ...successor });
        }
        expect(await kit.status(s, at + GRACE)).toBe('ok');
      });

      it('treats the previous token after the grace window as reuse and deletes the session', async () => {
        const s = await kit.create();
        const h1 = randomHash();
        const at = base + MINUTE;
        expect(await kit.rotate(s, at, 0, s.refreshHash, { nextHash: h1 })).toMatchObject({ status: 'rotated' });
        expect(await kit.rotate(s, at + GRACE + 1, 0, s.refreshHash)).toEqual({ status: 'reused' });
        expect(await kit.status(s, at + GRACE + 2)).toBe('missing');
        // The thief's successor is dead too: the current token no longer rotates.
        expect(await kit.rotate(s, at + GRACE + 2, 1, h1)).toEqual({ status: 'missing' });
        expect(await kit.listIds(s.userId, at + GRACE + 2)).toEqual([]);
      });

      it('answers raced for a token up to 3 generations back that was rotated out less than the grace window ago', async () => {
        const s = await kit.create();
        const hashes = [s.refreshHash];
        let last: RotateResult | undefined;
        for (let gen = 0; gen < 3; gen++) {
          hashes.push(randomHash());
          last = await kit.rotate(s, base + 1000 * (gen + 1), gen, hashes[gen], {
            nextHash: hashes[gen + 1],
            nextIssuedAt: s.refreshIssuedAt + gen + 1,
          });
          expect(last).toMatchObject({ status: 'rotated', generation: gen + 1 });
        }
        const { status: _, ...current } = last as Extract<RotateResult, { generation: number }>;
        // Every tab behind by 1, 2 or 3 rotations gets the current successor (generation 3).
        for (const gen of [0, 1, 2]) {
          expect(await kit.rotate(s, base + 3001, gen, hashes[gen])).toEqual({ status: 'raced', ...current });
        }
        // A fourth rotation pushes generation 0 out of the kept generations: theft.
        expect(await kit.rotate(s, base + 4000, 3, hashes[3])).toMatchObject({ status: 'rotated', generation: 4 });
        expect(await kit.rotate(s, base + 4001, 0, hashes[0])).toEqual({ status: 'reused' });
        expect(await kit.status(s, base + 4002)).toBe('missing');
      });

      it('treats a token rotated out longer than the grace window ago as reuse, even if a later rotation is recent', async () => {
        const s = await kit.create();
        const h1 = randomHash();
        expect(await kit.rotate(s, base + 1000, 0, s.refreshHash, { nextHash: h1 })).toMatchObject({ generation: 1 });
        expect(await kit.rotate(s, base + 1000 + GRACE, 1, h1)).toMatchObject({ status: 'rotated', generation: 2 });
        // h1 was rotated out just now, the first token GRACE + 1 ago.
        expect(await kit.rotate(s, base + 1001 + GRACE, 1, h1)).toMatchObject({ status: 'raced', generation: 2 });
        expect(await kit.rotate(s, base + 1001 + GRACE, 0, s.refreshHash)).toEqual({ status: 'reused' });
        expect(await kit.status(s, base + 1002 + GRACE)).toBe('missing');
      });

      it('a wrong digest at a kept generation is reuse, not an answer', async () => {
        const s = await kit.create();
        const h1 = randomHash();
        expect(await kit.rotate(s, base + 1000, 0, s.refreshHash, { nextHash: h1 })).toMatchObject({ generation: 1 });
        expect(await kit.rotate(s, base + 1001, 0, randomHash())).toEqual({ status: 'reused' });
        expect(await kit.status(s, base + 1002)).toBe('missing');
      });

      it('answers invalid for a wrong hash at the current (or a future) generation and changes nothing', async () => {
        const s = await kit.create();
        const before = await repo.list(s.userId, base + 1, IDLE);
        expect(await kit.rotate(s, base + 2 * TOUCH, 0, randomHash())).toEqual({ status: 'invalid' });
        expect(await kit.rotate(s, base + 2 * TOUCH, 5, randomHash())).toEqual({ status: 'invalid' });
        expect(await kit.rotate(s, base + 2 * TOUCH, 1, s.refreshHash)).toEqual({ status: 'invalid' });
        // Not even a touch: lastSeenAt is still the creation time.
        expect(await repo.list(s.userId, base + 1, IDLE)).toEqual(before);
        expect(await kit.validate(s, base + 2 * TOUCH + 1)).toMatchObject({ status: 'ok' });
        expect(await kit.rotate(s, base + 2 * TOUCH + 2, 0, s.refreshHash)).toMatchObject({
          status: 'rotated',
          generation: 1,
        });
      });

      it('answers expired for an idle-expired session (and removes it) and missing for an unknown one', async () => {
        const s = await kit.create();
        expect(await kit.rotate(s, base + IDLE, 0, s.refreshHash)).toEqual({ status: 'expired' });
        expect(await kit.status(s, base + 1)).toBe('missing');
        expect(await kit.rotate(s, base + 2, 0, s.refreshHash)).toEqual({ status: 'missing' });
      });
    });

    describe('revoke and revokeAll', () => {
      it('revoke answers true once, then false, and touches only the named session', async () => {
        const a1 = await kit.create();
        const a2 = await kit.create();
        const b1 = await kit.create({ userId: 'user-b', id: a1.id });
        expect(await repo.revoke(a1.userId, a1.id)).toBe(true);
        expect(await repo.revoke(a1.userId, a1.id)).toBe(false);
        expect(await kit.status(a1, base + 1)).toBe('missing');
        expect(await kit.rotate(a1, base + 1, 0, a1.refreshHash)).toEqual({ status: 'missing' });
        expect(await kit.status(a2, base + 1)).toBe('ok');
        expect(await kit.status(b1, base + 1)).toBe('ok');
        expect(await kit.listIds('user-a', base + 1)).toEqual([a2.id]);
      });

      it("revokeAll removes only that user's sessions and returns the count", async () => {
        const mine = [await kit.create(), await kit.create(), await kit.create()];
        const theirs = [await kit.create({ userId: 'user-b' }), await kit.create({ userId: 'user-b' })];
        expect(await repo.revokeAll('user-a')).toBe(3);
        for (const s of mine) expect(await kit.status(s, base + 1)).toBe('missing');
        for (const s of theirs) expect(await kit.status(s, base + 1)).toBe('ok');
        expect(await kit.listIds('user-a', base + 1)).toEqual([]);
        expect((await kit.listIds('user-b', base + 1)).sort()).toEqual(theirs.map((s) => s.id).sort());
        expect(await repo.revokeAll('user-a')).toBe(0);
        expect(await repo.revokeAll('never-seen')).toBe(0);
        // The user can sign in again afterwards.
        const again = await kit.create();
        expect(await kit.status(again, base + 2)).toBe('ok');
      });
    });

    describe('list', () => {
      it('returns live sessions sorted by createdAt with their stored userAgent, ip and device', async () => {
        const later = await kit.create({
          now: base + 3000,
          userAgent: 'Firefox/130',
          ip: '198.51.100.3',
          device: 'Firefox 130',
        });
        const first = await kit.create({
          now: base + 1000,
          userAgent: 'Mozilla/5.0 (ü) 🙂',
          ip: '2001:db8::1',
          device: 'Chrome 131 on macOS',
        });
        const middle = await kit.create({ now: base + 2000, userAgent: '', ip: '', device: 'Unknown device' });
        await kit.create({ userId: 'user-b' });
        const records = await repo.list('user-a', base + 4000, IDLE);
        expect(records).toEqual(
          [first, middle, later].map((s) => ({
            id: s.id,
            userId: 'user-a',
            createdAt: s.now,
            lastSeenAt: s.now,
            expiresAt: s.now + IDLE,
            absoluteExpiresAt: s.absoluteExpiresAt,
            userAgent: s.userAgent,
            ip: s.ip,
            device: s.device,
          })),
        );
      });

      it('leaves out and prunes dead sessions', async () => {
        const dead = await kit.create({ now: base });
        const liveA = await kit.create({ now: base + 1000 });
        const shortLived = await kit.create({ now: base + 1000, absoluteExpiresAt: base + 2000 });
        const revoked = await kit.create({ now: base + 1000 });
        await repo.revoke(revoked.userId, revoked.id);
        const at = base + IDLE + 500;
        expect(await kit.listIds('user-a', at)).toEqual([liveA.id]);
        // Pruned, not just hidden: an earlier `now` no longer finds them.
        expect(await kit.status(dead, base + 1)).toBe('missing');
        expect(await kit.status(shortLived, base + 1)).toBe('missing');
        expect(await kit.status(liveA, base + 1001)).toBe('ok');
        expect(await repo.list('nobody', at, IDLE)).toEqual([]);
      });
    });

    describe('user ids', () => {
      it('works for ids with braces, colons, %, spaces, globs and unicode, and keeps each user isolated', async () => {
        // The same session id under every user: only the user id tells them apart.
        const id = randomSid();
        const sessions: NewSession[] = [];
        for (const [n, userId] of TRICKY_USER_IDS.entries()) {
          sessions.push(await kit.create({ userId, id, roles: [`role-${n}`], data: { n } }));
        }
        for (const [n, s] of sessions.entries()) {
          expect(await kit.validate(s, base + 1)).toEqual({
            status: 'ok',
            session: { roles: [`role-${n}`], data: { n }, authTime: s.now },
          });
          const records = await repo.list(s.userId, base + 1, IDLE);
          expect(records.map((r) => [r.id, r.userId])).toEqual([[id, s.userId]]);
        }
        const [victim, ...others] = sessions;
        expect(await kit.rotate(victim, base + 2, 0, victim.refreshHash)).toMatchObject({
          status: 'rotated',
          roles: ['role-0'],
        });
        expect(await repo.revokeAll(victim.userId)).toBe(1);
        expect(await repo.revoke(others[0].userId, id)).toBe(true);
        for (const [n, s] of others.entries()) {
          expect(await kit.status(s, base + 3)).toBe(n === 0 ? 'missing' : 'ok');
          if (n > 0)
            expect(await kit.rotate(s, base + 3, 0, s.refreshHash)).toMatchObject({ status: 'rotated', generation: 1 });
        }
      });
    });

    describe('cleanup', () => {
      it('removes expired entries in batches, returns counts and leaves live sessions', async () => {
        const shortUsers = ['c-1', 'c-2', 'c-3', 'c:{4}'];
        const short: NewSession[] = [];
        for (const userId of shortUsers) {
          short.push(await kit.create({ userId, absoluteExpiresAt: base + 10 * MINUTE }));
        }
        short.push(await kit.create({ userId: 'c-1', absoluteExpiresAt: base + 5 * MINUTE }));
        const live = [await kit.create({ userId: 'c-1' }), await kit.create({ userId: 'c-live' })];
        const at = base + 20 * MINUTE;

        // A batch size smaller than the number of users forces several SCAN pages.
        const first = await repo.cleanup(at, 2, IDLE);
        expect(first.removed).toBe(short.length);
        expect(first.scanned).toBeGreaterThanOrEqual(shortUsers.length + 1);
        for (const s of short) {
          expect(await kit.listIds(s.userId, at)).not.toContain(s.id);
          expect(await kit.status(s, at)).not.toBe('ok');
        }
        for (const s of live) expect(await kit.status(s, at)).toBe('ok');

        expect((await repo.cleanup(at, 2, IDLE)).removed).toBe(0);
        // Far beyond every deadline (index scores are deadlines): the rest goes too.
        const farFuture = base + 400 * 24 * HOUR;
        expect((await repo.cleanup(farFuture, 100, IDLE)).removed).toBe(live.length);
        expect(await kit.listIds('c-live', farFuture)).toEqual([]);
      });
    });

    describe('locks and ping', () => {
      it('acquireLock: a second acquire gets null until release, then works again', async () => {
        const release = await repo.acquireLock('cleanup', 30_000);
        expect(release).toEqual(expect.any(Function));
        expect(await repo.acquireLock('cleanup', 30_000)).toBeNull();
        for (const peer of peers) expect(await peer.acquireLock('cleanup', 30_000)).toBeNull();
        const other = await repo.acquireLock('other', 30_000);
        expect(other).toEqual(expect.any(Function));
        await release!();
        const again = await (peers[0] ?? repo).acquireLock('cleanup', 30_000);
        expect(again).toEqual(expect.any(Function));
        await again!();
        await other!();
      });

      it('a lock lapses after its ttl, and a stale owner’s release does not free the new owner’s lock', async () => {
        const stale = await repo.acquireLock('lapse', 150);
        expect(stale).toEqual(expect.any(Function));
        expect(await repo.acquireLock('lapse', 150)).toBeNull();
        const fresh = await eventually(() => repo.acquireLock('lapse', 30_000), 5000);
        await stale!();
        expect(await repo.acquireLock('lapse', 30_000)).toBeNull();
        await fresh!();
        const last = await repo.acquireLock('lapse', 30_000);
        expect(last).toEqual(expect.any(Function));
        await last!();
      });

      it('renew keeps a lock past its ttl while the holder runs; a stale owner’s renew answers false', async () => {
        const held = await repo.acquireLock('renewed', 200);
        expect(held?.renew).toEqual(expect.any(Function));
        const until = Date.now() + 700;
        while (Date.now() < until) {
          expect(await held!.renew!()).toBe(true);
          expect(await (peers[0] ?? repo).acquireLock('renewed', 200)).toBeNull();
          await sleep(50);
        }
        // Not renewed any more: it lapses within its ttl and the next holder gets it.
        const next = await eventually(() => (peers[0] ?? repo).acquireLock('renewed', 30_000), 2000);
        expect(await held!.renew!()).toBe(false);
        await held!();
        expect(await repo.acquireLock('renewed', 30_000)).toBeNull();
        await next!();
      });

      it('ping resolves', async () => {
        await expect(repo.ping()).resolves.toBeUndefined();
      });
    });

    describe('concurrency', () => {
      it('50 parallel rotations of one token: exactly one rotated, the rest raced with the same generation and issuedAt', async () => {
        const s = await kit.create();
        const repos = [repo, ...peers];
        const at = base + MINUTE;
        const requests = Array.from({ length: 50 }, (_, k) => ({
          nextHash: randomHash(),
          nextIssuedAt: s.refreshIssuedAt + 100 + k,
        }));
        const results = await Promise.all(
          requests.map((next, k) => kit.rotate(s, at + (k % 5), 0, s.refreshHash, next, repos[k % repos.length])),
        );
        const winners = results.flatMap((r, k) => (r.status === 'rotated' ? [k] : []));
        expect(winners).toHaveLength(1);
        const winner = requests[winners[0]];
        for (const r of results) {
          expect(r).toEqual({
            status: expect.stringMatching(/^(rotated|raced)$/),
            generation: 1,
            issuedAt: winner.nextIssuedAt,
            absoluteExpiresAt: s.absoluteExpiresAt,
            roles: s.roles,
          });
        }
        expect(results.filter((r) => r.status === 'raced')).toHaveLength(49);
        // Only the winner's successor is current.
        const loser = requests[(winners[0] + 1) % requests.length];
        expect(await kit.rotate(s, at + 10, 1, loser.nextHash)).toEqual({ status: 'invalid' });
        expect(await kit.rotate(s, at + 11, 1, winner.nextHash)).toMatchObject({ status: 'rotated', generation: 2 });
      });

      it('parallel validates and revokes agree: one revoke wins and the session stays gone', async () => {
        const s = await kit.create();
        const repos = [repo, ...peers];
        const other = await kit.create();
        const ops = Array.from({ length: 60 }, (_, k) => {
          const r = repos[k % repos.length];
          // touchInterval 0: every validate writes, so a touch racing the revoke would show.
          if (k % 12 === 6) return r.revoke(s.userId, s.id).then((ok) => (ok ? 'revoked' : 'not-found'));
          return kit.validate(s, base + k, 0, r).then((v) => v.status);
        });
        const outcomes = await Promise.all(ops);
        expect(outcomes.filter((o) => o === 'revoked')).toHaveLength(1);
        expect(outcomes.filter((o) => o === 'not-found')).toHaveLength(4);
        for (const o of outcomes) expect(['ok', 'missing', 'revoked', 'not-found']).toContain(o);
        expect(await kit.status(s, base + 100)).toBe('missing');
        expect(await kit.listIds(s.userId, base + 100)).toEqual([other.id]);
        expect(await kit.status(other, base + 100)).toBe('ok');
      });

      it('parallel rotations and a revoke: the session ends revoked, never half-rotated', async () => {
        const s = await kit.create();
        const repos = [repo, ...peers];
        const ops: Promise<string>[] = [];
        for (let k = 0; k < 30; k++) {
          const r = repos[k % repos.length];
          ops.push(kit.rotate(s, base + MINUTE, 0, s.refreshHash, {}, r).then((x) => x.status));
          if (k === 15) ops.push(r.revoke(s.userId, s.id).then((ok) => `revoke:${ok}`));
        }
        const outcomes = await Promise.all(ops);
        expect(outcomes).toContain('revoke:true');
        for (const o of outcomes) expect(['rotated', 'raced', 'missing', 'revoke:true']).toContain(o);
        expect(outcomes.filter((o) => o === 'rotated').length).toBeLessThanOrEqual(1);
        expect(await kit.status(s, base + MINUTE + 1)).toBe('missing');
        expect(await kit.listIds(s.userId, base + MINUTE + 1)).toEqual([]);
      });
    });
  });
}
