/**
 * Issue 5 §1 in the running sample: the cleanup cron job is registered through SchedulerRegistry
 * from the options, ticks on its schedule, stops with the app and is absent when disabled; the
 * memory store's expired sessions are removed by hand or by the job (TestClock, no waiting).
 */
import { SchedulerRegistry } from '@nestjs/schedule';
import request from 'supertest';
import { MemorySessionRepository, SESSION_CLEANUP_JOB, SessionCleanupService } from '../../lib/index.js';
import { ADMIN, ALICE, BOB, loginHeader } from '../utils/http.js';
import { type RunningSample, startSample, TestClock } from '../utils/sample-app.js';
import { until } from './ops-helpers.js';

const IDLE = 1800; // the sample's default idle timeout, seconds

describe('cleanup job in the sample app (memory store)', () => {
  const open: RunningSample[] = [];
  async function sample(overrides: Parameters<typeof startSample>[0] = {}, clock?: TestClock) {
    const store = new MemorySessionRepository(); // explicit, so REDIS_URL can never switch the store
    const s = await startSample({ store, ...overrides }, { clock });
    let closing: Promise<void> | undefined;
    const close = () => (closing ??= s.close()); // a test may close early; afterAll closes the rest
    open.push({ ...s, close });
    return { ...s, close, store };
  }
  afterAll(async () => {
    for (const s of open) await s.close();
  });

  it('registers an active cron job named session-cleanup with the default schedule, and stops it on app.close()', async () => {
    const s = await sample();
    const registry = s.app.get(SchedulerRegistry);
    const job = registry.getCronJob(SESSION_CLEANUP_JOB);
    expect(job.cronTime.source).toBe('0 * * * * *');
    expect(job.isActive).toBe(true);
    await s.close();
    expect(job.isActive).toBe(false);
    expect(registry.doesExist('cron', SESSION_CLEANUP_JOB)).toBe(false);
  });

  it('registers no job when cleanup is disabled, and run() still works by hand', async () => {
    const clock = new TestClock();
    const s = await sample({ cleanup: { enabled: false } }, clock);
    const registry = s.app.get(SchedulerRegistry);
    expect(registry.doesExist('cron', SESSION_CLEANUP_JOB)).toBe(false);
    await loginHeader(s.url, ALICE);
    clock.advance(IDLE + 1);
    await expect(s.app.get(SessionCleanupService).run()).resolves.toEqual({ scanned: 1, removed: 1 });
    expect(s.store.size()).toBe(0);
  });

  it('run() removes expired memory sessions and keeps live ones, with counts', async () => {
    const clock = new TestClock();
    const s = await sample({ cleanup: { enabled: false } }, clock);
    await loginHeader(s.url, ALICE);
    await loginHeader(s.url, ALICE);
    await loginHeader(s.url, BOB);
    clock.advance(1000);
    const admin = await loginHeader(s.url, ADMIN);
    clock.advance(IDLE - 1000 + 1); // alice's and bob's sessions are idle past the timeout, admin's is not
    expect(s.store.size()).toBe(4);

    await expect(s.app.get(SessionCleanupService).run()).resolves.toEqual({ scanned: 3, removed: 3 });
    expect(s.store.size()).toBe(1);
    await request(s.url).get('/me').set('Authorization', `Bearer ${admin.accessToken}`).expect(200);
    await expect(s.app.get(SessionCleanupService).run()).resolves.toEqual({ scanned: 1, removed: 0 });
  });

  it('the scheduled job runs on the cron expression from the options', async () => {
    const clock = new TestClock();
    const s = await sample({ cleanup: { cron: '* * * * * *' } }, clock);
    expect(s.app.get(SchedulerRegistry).getCronJob(SESSION_CLEANUP_JOB).cronTime.source).toBe('* * * * * *');
    await loginHeader(s.url, ALICE);
    clock.advance(1000);
    const bob = await loginHeader(s.url, BOB);
    clock.advance(IDLE - 1000 + 1);
    expect(s.store.size()).toBe(2);
    // Nobody touches alice's session: only the job can remove it (it ticks every second).
    await until('the cleanup job to remove the expired session', async () => s.store.size() === 1, 5000);
    await request(s.url).get('/me').set('Authorization', `Bearer ${bob.accessToken}`).expect(200);
  });
});
