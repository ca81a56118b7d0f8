/**
 * Unit test of one class (RedisSessionRepository's hot path) against a stub of its Redis commands:
 * when the plain read may answer on its estimate of Redis time, and when it must leave the
 * decision to the script (which reads Redis TIME). The same paths on a real Redis are in
 * redis-hot-path.spec.ts; this one moves the monotonic clock by hand to pin the error bound.
 */
import { jest } from '@jest/globals';
import { IoRedisCommands } from '../redis/ioredis.commands.js';
import type { RedisCommands } from '../redis/redis-commands.js';
import { encodeRecord, type DecodedRecord } from './redis-record.js';
import { type LuaScript, VALIDATE } from './redis-scripts.js';
import { RedisSessionRepository, STORE_CLOCK_DRIFT, STORE_CLOCK_MAX_AGE_MS } from './redis-session.repository.js';

const STORE_T0 = 1_800_000_000_000;
const IDLE = 30 * 60_000;
const TOUCH = 3 * 60_000;
const TIMEOUT = 2000;

/** Monotonic time as the repository sees it, moved by the tests. */
let mono = 1_000;
/** Redis TIME now: moves with `mono` (no real drift in the stub). */
const storeNow = () => STORE_T0 + (mono - 1_000);

class StubRedis implements RedisCommands {
  readonly kind = 'node-redis' as const;
  readonly cluster = false;
  readonly client = {};
  scripts = 0;
  reads = 0;
  record: DecodedRecord = {};
  notBefore: string | null = null;
  /** Monotonic ms a script's round trip takes. */
  scriptTrip = 0;

  isReady(): boolean {
    return true;
  }
  evalScript(script: LuaScript): Promise<unknown> {
    this.scripts++;
    if (script !== VALIDATE) throw new Error('only VALIDATE is stubbed');
    mono += this.scriptTrip / 2;
    const now = storeNow();
    mono += this.scriptTrip / 2;
    return Promise.resolve(['user', '', String(this.record.t ?? this.record.c), '', '', now, String(this.record.a)]);
  }
  mget(): Promise<unknown[]> {
    this.reads++;
    return Promise.resolve([encodeRecord(this.record), null, this.notBefore]);
  }
  masters(): Promise<never[]> {
    return Promise.resolve([]);
  }
  publish(): Promise<number> {
    return Promise.resolve(0);
  }
  subscribe(): Promise<never> {
    return Promise.reject(new Error('not stubbed'));
  }
}

describe('RedisSessionRepository hot path: deciding on an estimate of Redis time', () => {
  let redis: StubRedis;
  let repo: RedisSessionRepository;
  const validate = (touchIntervalMs: number) =>
    repo.validate('u-1', 'sid-1', { now: Date.now(), idleTimeoutMs: IDLE, touchIntervalMs });
  /** Which path the next validation takes, and its answer. */
  const path = async (touchIntervalMs = TOUCH) => {
    const [scripts, reads] = [redis.scripts, redis.reads];
    const result = await validate(touchIntervalMs);
    return {
      status: result.status,
      script: redis.scripts - scripts,
      read: redis.reads - reads,
    };
  };

  beforeEach(() => {
    mono = 1_000;
    jest.spyOn(performance, 'now').mockImplementation(() => mono);
    redis = new StubRedis();
    repo = new RedisSessionRepository(redis, { keyPrefix: 'p:', commandTimeout: TIMEOUT });
    // Last touch a minute ago, far from every deadline.
    redis.record = { c: STORE_T0 - 60_000, l: STORE_T0 - 60_000, a: STORE_T0 + 86_400_000, g: '0', r: 'user' };
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('runs the script until a reply anchors Redis time, then reads', async () => {
    expect(await path()).toEqual({ status: 'ok', script: 1, read: 0 });
    expect(await path()).toEqual({ status: 'ok', script: 0, read: 1 });
  });

  it("never answers from a read within the error bound of a deadline: half the anchor's trip + 1 ms + drift", async () => {
    redis.scriptTrip = 40; // error at the anchor: 20 ms + 1 ms
    await path();
    mono += 5000; // drift allowance: 5 ms
    const error = 20 + 1 + 5000 * STORE_CLOCK_DRIFT;
    const estimate = storeNow();
    // Idle deadline just past the bound: the read answers (no touch due: an interval past the idle timeout).
    const noTouch = 2 * IDLE;
    redis.record.l = estimate + error + 1 - IDLE;
    redis.record.c = redis.record.l;
    expect(await path(noTouch)).toMatchObject({ script: 0, read: 1 });
    // Just inside it (the estimate alone would still call the session live): the script decides.
    redis.record.l = estimate + error - 1 - IDLE;
    expect(await path(noTouch)).toMatchObject({ script: 1, read: 1 });
    // The absolute deadline likewise, right after that script re-anchored (error back to 21 ms).
    redis.record.l = storeNow() - 60_000;
    redis.record.a = storeNow() + 22;
    expect(await path(noTouch)).toMatchObject({ script: 0, read: 1 });
    redis.record.a = storeNow() + 20;
    expect(await path(noTouch)).toMatchObject({ script: 1, read: 1 });
  });

  it('a touch due within the bound goes to the script (never late)', async () => {
    await path();
    redis.record.l = storeNow() - TOUCH + 1; // due 1 ms from now, within the 1 ms bound
    expect(await path()).toMatchObject({ script: 1, read: 1 });
    redis.record.l = storeNow() - TOUCH + 10;
    expect(await path()).toMatchObject({ script: 0, read: 1 });
  });

  it(`re-anchors when the anchor is older than ${STORE_CLOCK_MAX_AGE_MS / 1000} s, and refuses slow replies as anchors`, async () => {
    await path();
    mono += STORE_CLOCK_MAX_AGE_MS - 1;
    expect(await path()).toMatchObject({ script: 0, read: 1 });
    mono += 2;
    expect(await path()).toMatchObject({ script: 1, read: 0 });
    expect(await path()).toMatchObject({ script: 0, read: 1 });

    const slow = new StubRedis();
    slow.record = redis.record;
    slow.scriptTrip = TIMEOUT / 4 + 1;
    redis = slow;
    repo = new RedisSessionRepository(slow, { keyPrefix: 'p:', commandTimeout: TIMEOUT });
    for (let i = 0; i < 3; i++) expect(await path()).toMatchObject({ script: 1, read: 0 });
  });

  it("this host's wall clock decides nothing: 100 s off either way, the same paths", async () => {
    await path();
    for (const skew of [100_000, -100_000]) {
      jest.spyOn(Date, 'now').mockReturnValue(STORE_T0 + skew);
      expect(await path()).toMatchObject({ status: 'ok', script: 0, read: 1 });
      redis.record.l = storeNow() - IDLE + 1;
      expect(await path()).toMatchObject({ script: 1 });
      redis.record.l = storeNow() - 60_000;
      await path(); // anchor again
    }
  });

  it('a not-before mark newer than the authentication, or an unknown record version, goes to the script', async () => {
    await path();
    redis.record.t = storeNow() - 10_000;
    redis.notBefore = String(storeNow() - 5_000);
    expect(await path()).toMatchObject({ script: 1, read: 1 });
    redis.notBefore = String(storeNow() - 20_000);
    expect(await path()).toMatchObject({ script: 0, read: 1 });

    const mget = jest.spyOn(redis, 'mget').mockResolvedValue([`2\x1fwhatever`, null, null]);
    expect(await path()).toMatchObject({ script: 1 });
    expect(mget).toHaveBeenCalled();
  });

  it("`validation: 'script'`, a touch interval of 0, or a client without plain reads: the script every time", async () => {
    const scriptOnly = new RedisSessionRepository(redis, {
      keyPrefix: 'p:',
      commandTimeout: TIMEOUT,
      validation: 'script',
    });
    for (let i = 0; i < 3; i++)
      await scriptOnly.validate('u-1', 'sid-1', { now: 0, idleTimeoutMs: IDLE, touchIntervalMs: TOUCH });
    expect(redis.reads).toBe(0);
    await path();
    await repo.validate('u-1', 'sid-1', { now: 0, idleTimeoutMs: IDLE, touchIntervalMs: 0 });
    expect(redis.reads).toBe(0);
    const noReads = new StubRedis();
    (noReads as { mget?: unknown }).mget = undefined;
    noReads.record = redis.record;
    const other = new RedisSessionRepository(noReads, { keyPrefix: 'p:', commandTimeout: TIMEOUT });
    for (let i = 0; i < 3; i++)
      await other.validate('u-1', 'sid-1', { now: 0, idleTimeoutMs: IDLE, touchIntervalMs: TOUCH });
    expect(noReads.scripts).toBe(3);
  });
});

describe('plain reads only from the master', () => {
  const ioCluster = (scaleReads?: string) =>
    new IoRedisCommands({
      status: 'ready',
      isCluster: true,
      evalsha: () => undefined,
      mget: () => Promise.resolve([]),
      on: () => undefined,
      listenerCount: () => 1,
      options: scaleReads === undefined ? {} : { scaleReads },
    });

  it('an ioredis cluster reading from replicas (scaleReads) gets no MGET: the repository keeps the script', () => {
    expect(ioCluster().mget).toEqual(expect.any(Function));
    expect(ioCluster('master').mget).toEqual(expect.any(Function));
    expect(ioCluster('slave').mget).toBeUndefined();
    expect(ioCluster('all').mget).toBeUndefined();
  });
});
