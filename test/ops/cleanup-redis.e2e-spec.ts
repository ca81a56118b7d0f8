/**
 * Issue 5 §1 on a real redis-server: the cleanup pass removes 100 000 expired index entries in
 * SCAN batches (never KEYS), keeps live entries, leaves /me fast while it runs, and the store lock
 * lets only one of two app instances run a pass at a time.
 */
import { type CleanupResult, RedisSessionRepository, SessionCleanupService } from '../../lib/index.js';
import { loginHeader } from '../utils/http.js';
import { startRedis, type RedisProcess } from '../utils/redis.js';
import { type RunningSample, startSample } from '../utils/sample-app.js';
import { redisTestStore, type TestStore } from '../utils/stores.js';
import {
  commandCalls,
  indexCounts,
  inspector,
  monitor,
  monitorArgs,
  percentile,
  type RawClient,
  seedIndexes,
  timedGet,
  until,
} from './ops-helpers.js';

const BATCH = 100;
const USERS = 1000;
const PER_USER = 100;
const MINUTE = 60_000;

/** Hammers `url` from `workers` parallel loops until `stop()`; returns each request's ms and status. */
async function hammer(url: string, headers: Record<string, string>, stop: () => boolean, workers = 4) {
  const samples: { ms: number; status: number; startedAt: number }[] = [];
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (!stop()) {
        const startedAt = performance.now();
        const r = await timedGet(url, headers);
        samples.push({ ms: r.ms, status: r.status, startedAt });
      }
    }),
  );
  return samples;
}

/** A Redis repository that records when each cleanup pass runs, to check passes never overlap. */
class RecordingRepository extends RedisSessionRepository {
  constructor(
    client: TestStore['client'],
    private readonly who: string,
    private readonly passes: { who: string; start: number; end: number }[],
  ) {
    super(client, { cluster: false, keyPrefix: 'sess:', commandTimeout: 1000 });
  }

  override async cleanup(now: number, batchSize: number, idleTimeoutMs: number): Promise<CleanupResult> {
    const start = performance.now();
    try {
      return await super.cleanup(now, batchSize, idleTimeoutMs);
    } finally {
      this.passes.push({ who: this.who, start, end: performance.now() });
    }
  }
}

describe('cleanup on a real redis-server', () => {
  let redis: RedisProcess;
  let inspect: RawClient;
  const stores: TestStore[] = [];
  const samples: RunningSample[] = [];

  async function sampleOnRedis(extra: Record<string, unknown> = {}): Promise<RunningSample> {
    const s = await redisTestStore(redis.url);
    stores.push(s);
    // The cron job is off: passes run by hand, so a scheduled tick can never take the lock first.
    const sample = await startSample({ store: s.store, cleanup: { enabled: false, batchSize: BATCH }, ...extra });
    samples.push(sample);
    return sample;
  }

  beforeAll(async () => {
    redis = await startRedis();
    inspect = await inspector(redis.url);
  });

  afterAll(async () => {
    for (const s of samples) await s.close();
    for (const s of stores) await s.close();
    await inspect?.disconnect();
    await redis?.stop();
  });

  beforeEach(async () => {
    await inspect.flushAll(); // our own throwaway server only
  });

  it('removes 100 000 expired index entries, keeps live ones, never uses KEYS, and /me stays fast meanwhile', async () => {
    const sample = await sampleOnRedis();
    const cleanup = sample.app.get(SessionCleanupService);
    const { accessToken } = await loginHeader(sample.url);
    const auth = { authorization: `Bearer ${accessToken}` };
    const me = `${sample.url}/me`;

    const now = Date.now();
    await seedIndexes(inspect, {
      prefix: 'sess:',
      users: USERS,
      perUser: PER_USER,
      expiredAt: now - MINUTE,
      liveUntil: now + 60 * MINUTE,
    });
    // + alice's real session index from the login above
    expect(await indexCounts(inspect, 'sess:{*}:x', Date.now())).toEqual({
      keys: USERS + 1,
      expired: USERS * PER_USER,
      live: USERS + 1,
    });

    // Latency with no cleanup running (after a warm-up, so JIT compilation is not counted).
    let warmup = 0;
    await hammer(me, auth, () => warmup++ >= 200);
    let baselineCount = 0;
    const baseline = await hammer(me, auth, () => baselineCount++ >= 400);

    await inspect.configResetStat();
    await inspect.configSet('slowlog-log-slower-than', '50000'); // µs: anything over 50 ms is logged
    await inspect.sendCommand(['SLOWLOG', 'RESET']);

    let done = false;
    let finishedAt = Infinity;
    const started = performance.now();
    const pass = cleanup.run().finally(() => {
      done = true;
      finishedAt = performance.now();
    });
    const during = (await Promise.all([hammer(me, auth, () => done), pass]))[0];
    const result = await pass;
    const elapsed = finishedAt - started;

    expect(result).toEqual({ scanned: expect.any(Number), removed: USERS * PER_USER });
    // SCAN may return a key twice, never skips one. Alice's only session lives in her user key, a
    // string the pass does not scan (its own TTL is its store-clock deadline).
    expect(result!.scanned).toBeGreaterThanOrEqual(USERS);
    const after = await indexCounts(inspect, 'sess:{*}:x', Date.now());
    expect(after).toEqual({ keys: USERS + 1, expired: 0, live: USERS + 1 });

    // Bounded batches: several SCAN calls, one prune script (one ZRANGEBYSCORE) per key seen, no KEYS.
    const calls = await commandCalls(inspect);
    expect(calls.get('keys') ?? 0).toBe(0);
    expect(calls.get('scan')).toBeGreaterThan(1);
    expect(calls.get('zrangebyscore')).toBe(result!.scanned);
    // No cleanup command held Redis for more than 50 ms (one script over every entry would).
    const slow = await inspect.sendCommand<unknown[][]>(['SLOWLOG', 'GET', '128']);
    const slowCommands = slow.map((entry) => String((entry[3] as string[])[0]).toLowerCase());
    expect(slowCommands.filter((c) => c === 'scan' || c === 'evalsha' || c === 'zrangebyscore')).toEqual([]);

    // Every request during the pass succeeded, within a bounded time.
    const inPass = during.filter((s) => s.startedAt < finishedAt);
    expect(inPass.length).toBeGreaterThan(0);
    expect(inPass.every((s) => s.status === 200)).toBe(true);
    expect(baseline.every((s) => s.status === 200)).toBe(true);
    const figures = {
      removed: result!.removed,
      scannedKeys: result!.scanned,
      cleanupMs: Math.round(elapsed),
      scanCalls: calls.get('scan'),
      meBefore: {
        n: baseline.length,
        p50: +percentile(
          baseline.map((s) => s.ms),
          50,
        ).toFixed(1),
        p99: +percentile(
          baseline.map((s) => s.ms),
          99,
        ).toFixed(1),
      },
      meDuring: {
        n: inPass.length,
        p50: +percentile(
          inPass.map((s) => s.ms),
          50,
        ).toFixed(1),
        p99: +percentile(
          inPass.map((s) => s.ms),
          99,
        ).toFixed(1),
      },
    };
    console.log(`cleanup figures: ${JSON.stringify(figures)}`);
    expect(figures.meDuring.p99).toBeLessThan(500);
  });

  it('scans with COUNT = batchSize and the index pattern only, then releases its lock (MONITOR)', async () => {
    const sample = await sampleOnRedis();
    const now = Date.now();
    await seedIndexes(inspect, {
      prefix: 'sess:',
      users: 300,
      perUser: 10,
      expiredAt: now - MINUTE,
      liveUntil: now + MINUTE,
    });
    const mon = await monitor(redis.port);
    const result = await sample.app.get(SessionCleanupService).run();
    const lines = (await mon.stop()).map(monitorArgs);

    expect(result?.removed).toBe(3000);
    const scans = lines.filter((a) => a[0] === 'scan');
    expect(scans.length).toBeGreaterThan(1);
    for (const a of scans) {
      expect(a.slice(2)).toEqual(['MATCH', 'sess:{*}:x', 'COUNT', String(BATCH), 'TYPE', 'zset']);
    }
    expect(lines.filter((a) => a[0] === 'keys')).toEqual([]);
    // The prune script's ZRANGEBYSCORE (MONITOR shows commands run inside scripts too).
    const zrem = lines.filter((a) => a[0] === 'zrangebyscore');
    expect(zrem.length).toBeGreaterThanOrEqual(300);
    for (const a of zrem) {
      expect(a[1]).toMatch(/^sess:\{user-\d+\}:x$/);
      expect(a[2]).toBe('-inf');
    }
    // The lock: SET NX PX (inside the lock script) before the first SCAN, the owner-checked unlock script after the last.
    const lockSet = lines.findIndex((a) => a[0] === 'set' && a[1] === 'sess:lock:cleanup' && a.includes('NX'));
    const firstScan = lines.findIndex((a) => a[0] === 'scan');
    const lastZrem = lines.map((a) => a[0]).lastIndexOf('zrangebyscore');
    const unlock = lines.findIndex(
      (a, i) => i > lastZrem && (a[0] === 'evalsha' || a[0] === 'eval') && a.includes('sess:lock:cleanup'),
    );
    expect(lockSet).toBeGreaterThanOrEqual(0);
    expect(lockSet).toBeLessThan(firstScan);
    expect(unlock).toBeGreaterThan(lastZrem);
    expect(await inspect.exists('sess:lock:cleanup')).toBe(0);
  });

  it('two app instances on one Redis never run a pass at the same time', async () => {
    const passes: { who: string; start: number; end: number }[] = [];
    const sa = await redisTestStore(redis.url);
    const sb = await redisTestStore(redis.url);
    stores.push(sa, sb);
    const a = await startSample({
      store: new RecordingRepository(sa.client, 'A', passes),
      cleanup: { enabled: false, batchSize: 50 },
    });
    const b = await startSample({
      store: new RecordingRepository(sb.client, 'B', passes),
      cleanup: { enabled: false, batchSize: 50 },
    });
    samples.push(a, b);
    const now = Date.now();
    await seedIndexes(inspect, {
      prefix: 'sess:',
      users: 400,
      perUser: 5,
      expiredAt: now - MINUTE,
      liveUntil: now + MINUTE,
    });

    const ca = a.app.get(SessionCleanupService);
    const cb = b.app.get(SessionCleanupService);
    const rounds: (CleanupResult | null)[][] = [];
    for (let i = 0; i < 30; i++) {
      // Alternate who is asked first so neither instance always wins the race.
      rounds.push(i % 2 === 0 ? await Promise.all([ca.run(), cb.run()]) : await Promise.all([cb.run(), ca.run()]));
    }

    for (const round of rounds) expect(round.filter((r) => r !== null)).toHaveLength(1);
    const removed = rounds.flat().reduce((n, r) => n + (r?.removed ?? 0), 0);
    expect(removed).toBe(400 * 5); // no entry was counted by both instances
    expect(passes).toHaveLength(30);
    expect(new Set(passes.map((p) => p.who))).toEqual(new Set(['A', 'B']));
    const ordered = [...passes].sort((x, y) => x.start - y.start);
    for (let i = 1; i < ordered.length; i++) expect(ordered[i].start).toBeGreaterThanOrEqual(ordered[i - 1].end);
  });

  it('the lock is released only by its owner', async () => {
    const s = await redisTestStore(redis.url);
    stores.push(s);
    const repoA = new RedisSessionRepository(s.client, {
      cluster: false,
      keyPrefix: 'sess:',
      commandTimeout: 1000,
    });
    const repoB = new RedisSessionRepository(s.client, {
      cluster: false,
      keyPrefix: 'sess:',
      commandTimeout: 1000,
    });

    const releaseA = await repoA.acquireLock('cleanup', 150);
    expect(releaseA).not.toBeNull();
    expect(await repoB.acquireLock('cleanup', 60_000)).toBeNull();
    // A's lock runs out (A stalled); B takes it over.
    await until('the lock to expire', async () => (await inspect.exists('sess:lock:cleanup')) === 0, 3000, 10);
    const releaseB = await repoB.acquireLock('cleanup', 60_000);
    expect(releaseB).not.toBeNull();
    const ownerB = await inspect.get('sess:lock:cleanup');

    await releaseA!(); // late release by the former owner: must not free B's lock
    expect(await inspect.get('sess:lock:cleanup')).toBe(ownerB);
    expect(await repoA.acquireLock('cleanup', 60_000)).toBeNull();

    await releaseB!();
    expect(await inspect.exists('sess:lock:cleanup')).toBe(0);
  });
});
