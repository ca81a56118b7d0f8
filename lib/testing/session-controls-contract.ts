/**
 * The session-control part of the repository contract: the per-user cap, ending the other
 * sessions, the "not before" time of a credential change, re-authentication and the actor of an
 * impersonation session. Declared inside `describeRepositoryContract`.
 */
import type { SessionRepository } from '../interfaces/session-repository.interface.js';
import type { ContractKit } from './repository-contract.js';
import type { ContractTestApi } from './test-api.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const IDLE = 30 * MINUTE;

/** What the enclosing suite has made for the running test. */
export interface ControlsContext {
  repo: SessionRepository;
  peers: SessionRepository[];
  kit: ContractKit;
  base: number;
}

export function describeSessionControls(api: ContractTestApi, current: () => ControlsContext): void {
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const { describe, it, expect } = api;
  describe('session controls', () => {
    it('at the cap, evict-oldest ends the least recently used live session, atomically with the create', async () => {
      const { repo, kit, base } = current();
      const a = await kit.create({ now: base });
      const b = await kit.create({ now: base + 1 });
      const c = await kit.create({ now: base + 2 });
      // a is used again (touch every time): b is now the least recently used.
      expect(await kit.validate(a, base + 10, 0)).toMatchObject({ status: 'ok' });
      const d = kit.session({ now: base + 20, maxSessions: 3, capPolicy: 'evict-oldest' });
      expect(await repo.create(d)).toEqual({ status: 'created', evicted: [b.id] });
      expect(await kit.status(b, base + 21)).toBe('missing');
      expect((await kit.listIds(a.userId, base + 21)).sort()).toEqual([a.id, c.id, d.id].sort());
    });

    it('at the cap, refuse writes nothing; dead sessions never count', async () => {
      const { repo, kit, base } = current();
      const dying = await kit.create({ now: base, absoluteExpiresAt: base + SECOND });
      const a = await kit.create({ now: base + 1 });
      const later = base + 2 * SECOND;
      const b = kit.session({ now: later, maxSessions: 2, capPolicy: 'refuse' });
      // The dead session is pruned, so b fits.
      expect(await repo.create(b)).toEqual({ status: 'created', evicted: [] });
      const c = kit.session({ now: later + 1, maxSessions: 2, capPolicy: 'refuse' });
      expect(await repo.create(c)).toEqual({ status: 'refused' });
      expect(await kit.status(c, later + 2)).toBe('missing');
      expect((await kit.listIds(a.userId, later + 2)).sort()).toEqual([a.id, b.id].sort());
      expect(await kit.status(dying, later + 2)).toBe('missing');
    });

    it('20 parallel creates over several connections never leave more than the cap', async () => {
      const { repo, peers, kit, base } = current();
      const repos = [repo, ...peers];
      const evict = Array.from({ length: 20 }, (_, k) =>
        repos[k % repos.length].create(kit.session({ userId: 'cap-evict', now: base + k, maxSessions: 5 })),
      );
      const evicted = (await Promise.all(evict)).flatMap((r) => (r.status === 'created' ? r.evicted : ['?']));
      expect(new Set(evicted).size).toBe(15);
      expect(await kit.listIds('cap-evict', base + 100)).toHaveLength(5);

      const refuse = Array.from({ length: 20 }, (_, k) =>
        repos[k % repos.length].create(
          kit.session({ userId: 'cap-refuse', now: base + k, maxSessions: 5, capPolicy: 'refuse' }),
        ),
      );
      const outcomes = (await Promise.all(refuse)).map((r) => r.status);
      expect(outcomes.filter((s) => s === 'created')).toHaveLength(5);
      expect(await kit.listIds('cap-refuse', base + 100)).toHaveLength(5);
    });

    it('revokeOthers ends every other session of the user and keeps one', async () => {
      const { repo, kit, base } = current();
      const a = await kit.create();
      const b = await kit.create();
      const c = await kit.create();
      const stranger = await kit.create({ userId: 'user-b' });
      expect(await repo.revokeOthers(a.userId, b.id, { now: base + 1, idleTimeoutMs: IDLE })).toBe(2);
      expect(await kit.listIds(a.userId, base + 2)).toEqual([b.id]);
      expect(await kit.status(a, base + 2)).toBe('missing');
      expect(await kit.status(c, base + 2)).toBe('missing');
      expect(await kit.status(stranger, base + 2)).toBe('ok');
      // Without a session to keep: all of them.
      expect(await repo.revokeOthers(a.userId, '', { now: base + 3, idleTimeoutMs: IDLE })).toBe(1);
      expect(await kit.listIds(a.userId, base + 4)).toEqual([]);
    });

    it('a credential change sets "not before": older sessions die, the kept one counts as authenticated now', async () => {
      const { repo, kit, base } = current();
      const kept = await kit.create({ now: base });
      const other = await kit.create({ now: base });
      const at = base + MINUTE;
      const request = { now: at, idleTimeoutMs: IDLE, notBefore: { ttlMs: HOUR } };
      expect(await repo.revokeOthers(kept.userId, kept.id, request)).toBe(1);
      expect(await kit.validate(kept, at + 1)).toMatchObject({ status: 'ok', session: { authTime: at } });
      expect(await kit.status(other, at + 1)).toBe('missing');
      // Logins after the change live; refresh of the kept one works and leaves its auth time.
      const fresh = await kit.create({ now: at + 2 });
      expect(await kit.status(fresh, at + 3)).toBe('ok');
      expect(await kit.rotate(kept, at + 4, 0, kept.refreshHash)).toMatchObject({ status: 'rotated' });
      expect(await kit.validate(kept, at + 5)).toMatchObject({ session: { authTime: at } });
    });

    it('reauthenticate moves the auth time of a live session only; refresh does not', async () => {
      const { repo, kit, base } = current();
      const s = await kit.create({ now: base });
      expect(await kit.rotate(s, base + MINUTE, 0, s.refreshHash)).toMatchObject({ status: 'rotated' });
      expect(await kit.validate(s, base + MINUTE + 1)).toMatchObject({ session: { authTime: base } });
      expect(await repo.reauthenticate(s.userId, s.id, base + 2 * MINUTE, IDLE)).toBe(base + 2 * MINUTE);
      expect(await kit.validate(s, base + 2 * MINUTE + 1)).toMatchObject({ session: { authTime: base + 2 * MINUTE } });
      await repo.revoke(s.userId, s.id);
      expect(await repo.reauthenticate(s.userId, s.id, base + 3 * MINUTE, IDLE)).toBeNull();
      // Idle past its timeout: gone too.
      const idle = await kit.create({ now: base });
      expect(await repo.reauthenticate(idle.userId, idle.id, base + IDLE + 1, IDLE)).toBeNull();
    });

    it('an impersonation session carries its actor in validate, rotate and list; others carry none', async () => {
      const { kit, base } = current();
      const s = await kit.create({ now: base, impersonator: 'u-admin' });
      const plain = await kit.create({ now: base });
      expect(await kit.validate(s, base + 1)).toMatchObject({ session: { impersonator: 'u-admin' } });
      const v = await kit.validate(plain, base + 1);
      expect(v.status === 'ok' && 'impersonator' in v.session).toBe(false);
      expect(await kit.rotate(s, base + 2, 0, s.refreshHash)).toMatchObject({ impersonator: 'u-admin' });
      const records = await kit.repo.list(s.userId, base + 3, IDLE);
      expect(records.find((r) => r.id === s.id)?.impersonator).toEqual({ id: 'u-admin' });
      expect(records.find((r) => r.id === plain.id)).not.toHaveProperty('impersonator');
      // Its end names the actor too: expiry (validate and rotate) and reuse.
      const late = base + IDLE + 10;
      expect(await kit.validate(s, late)).toEqual({ status: 'expired', impersonator: 'u-admin' });
      const other = await kit.create({ now: base, impersonator: 'u-admin' });
      expect(await kit.rotate(other, late, 0, other.refreshHash)).toEqual({
        status: 'expired',
        impersonator: 'u-admin',
      });
      const stolen = await kit.create({ now: base, impersonator: 'u-admin' });
      await kit.rotate(stolen, base + 1, 0, stolen.refreshHash);
      expect(await kit.rotate(stolen, base + MINUTE, 0, stolen.refreshHash)).toEqual({
        status: 'reused',
        impersonator: 'u-admin',
      });
    });
  });
}
