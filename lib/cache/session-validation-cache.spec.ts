/**
 * SessionValidationCache alone, with a scripted repository and signal: the LRU bound, reads that
 * raced a change, store errors, and the lost/restored cycle. (Its behaviour on real stores and
 * replicas is in test/cache/.)
 */
import type { SessionRecord, ValidatedSession } from '../interfaces/session-record.interface.js';
import type { SessionRepository, ValidateResult } from '../interfaces/session-repository.interface.js';
import { resolveSessionOptions } from '../session-options.js';
import type {
  SessionEndedSignal,
  SessionSignalListener,
  SessionSignalMessage,
} from '../signal/session-signal.interface.js';
import { SessionValidationCache } from './session-validation-cache.js';

const SECRET = 'Zq3v9pT1xK8mW2rB7nL4cY6hJ0dF5gS1aE3uI9oP2tR';
const SESSION: ValidatedSession = { roles: ['user'], data: undefined, authTime: 0 };

class ScriptedSignal implements SessionEndedSignal {
  readonly kind = 'redis';
  listening = true;
  private listener: SessionSignalListener | undefined;
  async publish(): Promise<void> {}
  async publishChanged(): Promise<void> {}
  async subscribe(listener: SessionSignalListener): Promise<() => void> {
    this.listener = listener;
    return () => (this.listener = undefined);
  }
  emit(m: SessionSignalMessage): void {
    this.listener?.(m);
  }
}

function setup(maxEntries = 100) {
  let now = 1_000_000;
  const options = resolveSessionOptions({ secret: SECRET, localCache: { maxEntries, maxStaleness: 10 } }, 'auth', {
    now: () => now,
    store: 'local',
  });
  const record = (id: string): SessionRecord => ({
    id,
    userId: 'u1',
    createdAt: now,
    lastSeenAt: now,
    expiresAt: now + options.idleTimeoutMs,
    absoluteExpiresAt: now + options.absoluteTimeoutMs,
    userAgent: '',
    ip: '',
  });
  // Each call takes the next scripted failure, if any.
  const failures = { list: [] as Error[], validate: [] as Error[] };
  const calls = { list: 0, validate: 0 };
  const repository = {
    kind: 'redis',
    list: async () => {
      calls.list++;
      const err = failures.list.shift();
      if (err) throw err;
      return ['s1', 's2', 's3'].map(record);
    },
    validate: async (): Promise<ValidateResult> => {
      calls.validate++;
      const err = failures.validate.shift();
      if (err) throw err;
      return { status: 'ok', session: SESSION };
    },
  } as unknown as SessionRepository;
  const signal = new ScriptedSignal();
  const cache = new SessionValidationCache(options, repository, signal);
  return { cache, failures, calls, signal, advance: (ms: number) => (now += ms), now: () => now };
}

async function fill(c: SessionValidationCache, sessionId: string, now: number): Promise<void> {
  c.offer(c.ticket('u1', sessionId), SESSION, now);
  // The deadline read runs in the background.
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

async function started(c: SessionValidationCache): Promise<void> {
  c.start();
  await Promise.resolve();
  await Promise.resolve();
}

describe('SessionValidationCache', () => {
  let env: ReturnType<typeof setup>;
  afterEach(() => env?.cache.close());

  it('keeps at most maxEntries, dropping the least recently used', async () => {
    env = setup(2);
    const { cache, now } = env;
    await started(cache);
    await fill(cache, 's1', now());
    await fill(cache, 's2', now());
    expect(cache.get('u1', 's1', now())).toBe(SESSION); // s1 used: s2 is now the oldest
    await fill(cache, 's3', now());
    expect(cache.entries).toBe(2);
    expect(cache.get('u1', 's2', now())).toBeUndefined();
    expect(cache.get('u1', 's1', now())).toBe(SESSION);
    expect(cache.get('u1', 's3', now())).toBe(SESSION);
  });

  it('never answers for another user with the same session id', async () => {
    env = setup();
    await started(env.cache);
    await fill(env.cache, 's1', env.now());
    expect(env.cache.get('u2', 's1', env.now())).toBeUndefined();
  });

  it('does not cache a read that raced a change of the same user', async () => {
    env = setup();
    const { cache, signal, now } = env;
    await started(cache);
    const ticket = cache.ticket('u1', 's1');
    signal.emit({ kind: 'ended', userId: 'u1', sessionId: null, reason: 'logout_all' });
    cache.offer(ticket, SESSION, now());
    await fill(cache, 's2', now()); // a read taken after the change is cached
    expect(cache.get('u1', 's1', now())).toBeUndefined();
    expect(cache.get('u1', 's2', now())).toBe(SESSION);
  });

  it('admits a session whose validation carries its absolute deadline at once, without a list read', async () => {
    env = setup();
    const { cache, calls, now } = env;
    await started(cache);
    // Nearer than the staleness bound (10 s) and the idle deadline: only the absolute deadline ends the entry.
    const absoluteExpiresAt = now() + 1000;
    cache.offer(cache.ticket('u1', 's1'), { ...SESSION, absoluteExpiresAt }, now());
    expect(cache.get('u1', 's1', now())).toEqual({ ...SESSION, absoluteExpiresAt });
    expect(calls.list).toBe(0);
    env.advance(999);
    expect(cache.get('u1', 's1', env.now())).toBeDefined();
    env.advance(1);
    expect(cache.get('u1', 's1', env.now())).toBeUndefined();
  });

  it('does not admit a raced read even when it carries its deadline', async () => {
    env = setup();
    const { cache, signal, now } = env;
    await started(cache);
    const ticket = cache.ticket('u1', 's1');
    signal.emit({ kind: 'changed', userId: 'u1', sessionId: 's1' });
    cache.offer(ticket, { ...SESSION, absoluteExpiresAt: now() + 60_000 }, now());
    expect(cache.entries).toBe(0);
  });

  it('does not cache when the deadline read fails (a store error)', async () => {
    env = setup();
    const { cache, failures, now } = env;
    failures.list.push(new Error('store down'));
    await started(cache);
    await fill(cache, 's1', now());
    expect(cache.entries).toBe(0);
  });

  it('lost: flushed and bypassed; restored: caches again', async () => {
    env = setup();
    const { cache, signal, now } = env;
    await started(cache);
    await fill(cache, 's1', now());
    signal.emit({ kind: 'lost' });
    expect(cache.entries).toBe(0);
    const bypassed = cache.bypassed;
    expect(cache.get('u1', 's1', now())).toBeUndefined();
    expect(cache.bypassed).toBe(bypassed + 1);
    await fill(cache, 's1', now()); // a read while down is not kept
    expect(cache.entries).toBe(0);
    signal.emit({ kind: 'restored' });
    await fill(cache, 's1', now());
    expect(cache.get('u1', 's1', now())).toBe(SESSION);
  });

  it('starts bypassed when the shared subscription is down at the time it subscribes', async () => {
    env = setup();
    env.signal.listening = false;
    await started(env.cache);
    expect(env.cache.serving).toBe(false);
  });

  it('a failed write-behind re-read drops the entry (fail closed)', async () => {
    env = setup();
    const { cache, failures, calls, advance, now } = env;
    await started(cache);
    await fill(cache, 's1', now());
    advance(6000); // past half of maxStaleness: the hit queues a re-read
    expect(cache.get('u1', 's1', now())).toBe(SESSION);
    failures.validate.push(new Error('store down'));
    // The flush runs on a real timer (every ≤ 1 s).
    const deadline = Date.now() + 10_000;
    while (cache.entries > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(calls.validate).toBe(1);
    expect(cache.entries).toBe(0);
  });
});
