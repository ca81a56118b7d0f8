/** Shared pieces of the local-cache specs: the session changes every replica must hear, and cache probes. */
import request from 'supertest';
import { SESSION_CACHE_STATS, type SessionCacheStats } from '../../lib/cache/cache-stats.js';
import { until } from '../ops/ops-helpers.js';
import { ADMIN, ALICE, BOB, loginHeader } from '../utils/http.js';
import type { RunningSample, TestClock } from '../utils/sample-app.js';

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
export type Tokens = Awaited<ReturnType<typeof loginHeader>>;
export type DemoUser = typeof ALICE;

export const stats = (s: RunningSample): SessionCacheStats => s.app.get<symbol, SessionCacheStats>(SESSION_CACHE_STATS);

export const me = (s: RunningSample, token: string) => request(s.url).get('/me').set(bearer(token));

/** `{ sub, sid }` of an access token (the test's own, so no verification needed). */
export function claimsOf(token: string): { sub: string; sid: string } {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { sub: string; sid: string };
}

/** Waits until `token`'s session is answered from `s`'s cache (the first read fills it in the background). */
export async function warm(s: RunningSample, token: string): Promise<void> {
  await until('the session to be served from the cache', async () => {
    const before = stats(s).hits;
    await me(s, token).expect(200);
    return stats(s).hits > before;
  });
}

/** Ends every session of `user` (a fresh login, then logout-all) so each case starts clean. */
async function reset(actor: RunningSample, user: DemoUser): Promise<void> {
  const t = await loginHeader(actor.url, user);
  await request(actor.url).post('/auth/logout-all').set(bearer(t.accessToken)).expect(204);
}

export interface ChangeContext {
  /** Where the change is made. */
  actor: RunningSample;
  /** Whose cache must hear it (the actor itself for read-your-writes). */
  observer: RunningSample;
  clock: TestClock;
}

/** Makes one change with warm caches; resolves to a probe that is true once the observer enforces it. */
export interface SessionChange {
  name: string;
  run(c: ChangeContext): Promise<() => Promise<boolean>>;
}

/** `dead` answer 401 and `alive` 200 on the observer. */
function enforced(observer: RunningSample, dead: string[], alive: string[] = []): () => Promise<boolean> {
  return async () => {
    for (const t of dead) if ((await me(observer, t)).status !== 401) return false;
    for (const t of alive) if ((await me(observer, t)).status !== 200) return false;
    return true;
  };
}

async function loginWarm(c: ChangeContext, user: DemoUser): Promise<Tokens> {
  const t = await loginHeader(c.actor.url, user);
  await warm(c.observer, t.accessToken);
  return t;
}

/** The sample's fresh-only route: with a wrong current password, 401 `insufficient_user_authentication` means "not fresh". */
async function isFresh(s: RunningSample, token: string): Promise<boolean> {
  const res = await request(s.url)
    .post('/account/password')
    .set(bearer(token))
    .send({ currentPassword: 'wrong-current-1', newPassword: 'a-new-password-456' });
  return res.status === 401 && (res.body as { error?: string }).error !== 'insufficient_user_authentication';
}

/** Issue 16 §1: every change that ends or changes a session. */
export const SESSION_CHANGES: SessionChange[] = [
  {
    name: 'logout',
    async run(c) {
      await reset(c.actor, ALICE);
      const t = await loginWarm(c, ALICE);
      await request(c.actor.url).post('/auth/logout').set(bearer(t.accessToken)).expect(204);
      return enforced(c.observer, [t.accessToken]);
    },
  },
  {
    name: 'revoke one session from the list',
    async run(c) {
      await reset(c.actor, ALICE);
      const phone = await loginWarm(c, ALICE);
      const laptop = await loginWarm(c, ALICE);
      await request(c.actor.url)
        .delete(`/auth/sessions/${claimsOf(phone.accessToken).sid}`)
        .set(bearer(laptop.accessToken))
        .expect(204);
      return enforced(c.observer, [phone.accessToken], [laptop.accessToken]);
    },
  },
  {
    name: 'logout-all (revokeAll)',
    async run(c) {
      await reset(c.actor, ALICE);
      const one = await loginWarm(c, ALICE);
      const two = await loginWarm(c, ALICE);
      await request(c.actor.url).post('/auth/logout-all').set(bearer(two.accessToken)).expect(204);
      return enforced(c.observer, [one.accessToken, two.accessToken]);
    },
  },
  {
    name: 'logout-others (revokeOthers with except)',
    async run(c) {
      await reset(c.actor, ALICE);
      const other = await loginWarm(c, ALICE);
      const kept = await loginWarm(c, ALICE);
      await request(c.actor.url).post('/auth/logout-others').set(bearer(kept.accessToken)).expect(204);
      return enforced(c.observer, [other.accessToken], [kept.accessToken]);
    },
  },
  {
    name: 'password change (credentialsChanged, not-before)',
    async run(c) {
      await reset(c.actor, BOB);
      const other = await loginWarm(c, BOB);
      const kept = await loginWarm(c, BOB);
      const change = (from: string, to: string) =>
        request(c.actor.url)
          .post('/account/password')
          .set(bearer(kept.accessToken))
          .send({ currentPassword: from, newPassword: to })
          .expect(204);
      await change(BOB.password, 'bob-new-password-456');
      // Back again, so later cases can log Bob in (the kept session is fresh after a change).
      await change('bob-new-password-456', BOB.password);
      return enforced(c.observer, [other.accessToken], [kept.accessToken]);
    },
  },
  {
    name: 'refresh-token theft (reuse after rotation)',
    async run(c) {
      await reset(c.actor, ALICE);
      const t = await loginHeader(c.actor.url, ALICE);
      const rotated = await request(c.actor.url)
        .post('/auth/refresh')
        .send({ refreshToken: t.refreshToken })
        .expect(200);
      const access = rotated.body.accessToken as string;
      await warm(c.observer, access);
      c.clock.advance(1); // past the (zero) grace window
      await request(c.actor.url).post('/auth/refresh').send({ refreshToken: t.refreshToken }).expect(401);
      return enforced(c.observer, [access]);
    },
  },
  {
    name: 'cap eviction (the least recently used session ends)',
    async run(c) {
      await reset(c.actor, ALICE);
      const oldest = await loginWarm(c, ALICE);
      const rest: Tokens[] = [];
      // The cap in these specs is 3: the fourth login evicts the oldest.
      for (let i = 0; i < 3; i++) {
        c.clock.advance(1);
        rest.push(await loginHeader(c.actor.url, ALICE));
      }
      return enforced(c.observer, [oldest.accessToken], [rest[2].accessToken]);
    },
  },
  {
    name: 'impersonation end (the impersonation session logs out)',
    async run(c) {
      await reset(c.actor, ALICE);
      const admin = await loginHeader(c.actor.url, ADMIN);
      const imp = await request(c.actor.url)
        .post('/admin/impersonate')
        .set(bearer(admin.accessToken))
        .set('X-Auth-Transport', 'header')
        .send({ userId: 'u-alice' })
        .expect(200);
      const token = imp.body.accessToken as string;
      await warm(c.observer, token);
      await request(c.actor.url).post('/auth/logout').set(bearer(token)).expect(204);
      return enforced(c.observer, [token], [admin.accessToken]);
    },
  },
  {
    name: 'refresh rotation (a use: the observer re-reads the session)',
    async run(c) {
      await reset(c.actor, ALICE);
      const t = await loginWarm(c, ALICE);
      await request(c.actor.url).post('/auth/refresh').send({ refreshToken: t.refreshToken }).expect(200);
      return async () => {
        const misses = stats(c.observer).misses;
        await me(c.observer, t.accessToken).expect(200);
        return stats(c.observer).misses > misses;
      };
    },
  },
  {
    name: 're-authentication (authTime: the observer sees the session fresh)',
    async run(c) {
      await reset(c.actor, ALICE);
      const t = await loginHeader(c.actor.url, ALICE);
      c.clock.advance(301);
      await warm(c.observer, t.accessToken);
      expect(await isFresh(c.observer, t.accessToken)).toBe(false);
      await request(c.actor.url)
        .post('/auth/reauth')
        .set(bearer(t.accessToken))
        .send({ password: ALICE.password })
        .expect(200);
      return () => isFresh(c.observer, t.accessToken);
    },
  },
];
