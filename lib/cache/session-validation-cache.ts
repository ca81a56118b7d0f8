import { Logger } from '@nestjs/common';
import type { ValidatedSession } from '../interfaces/session-record.interface.js';
import type { SessionRepository } from '../interfaces/session-repository.interface.js';
import type { ResolvedSessionOptions } from '../session-options.js';
import type { SessionEndedSignal, SessionSignalMessage } from '../signal/session-signal.interface.js';
import type { SessionCacheStats } from './cache-stats.js';

/** One validated session as this replica last read it. Times are epoch ms on the module clock. */
interface Entry {
  userId: string;
  sessionId: string;
  session: ValidatedSession;
  /** Last successful read from the store: the staleness bound counts from here. */
  readAt: number;
  /** A lower bound of the store's idle deadline (the store's `lastSeen` is at least `readAt - touchInterval`). */
  idleDeadline: number;
  absoluteExpiresAt: number;
  /** Waiting in the write-behind queue. */
  queued: boolean;
}

/** Taken before a store read; the answer may be cached only if nothing about the user changed since. */
export interface CacheTicket {
  readonly userId: string;
  readonly sessionId: string;
  readonly seq: number;
}

/** Background re-reads (touches) in flight at once. */
const FLUSH_CONCURRENCY = 32;
/** Users with an invalidation remembered for in-flight reads; beyond it every in-flight read is dropped. */
const MAX_MARKS = 10_000;
/** Re-try a failed signal subscription this often (the cache stays bypassed meanwhile). */
const RESUBSCRIBE_MS = 1000;

/**
 * The per-replica validation cache (`localCache`): a bounded LRU of sessions this replica validated,
 * answered without a store round trip. Every change reaches it over the session-ended signal (this
 * replica's own changes synchronously, before the answer); a read that raced a change is not cached.
 * An entry is served only before the session's absolute deadline, before a lower bound of its
 * idle deadline, and within `maxStaleness` of its last store read. Uses of a cached session are
 * written behind: a hit whose last read is older than the touch interval (or half the staleness
 * bound) queues a background `validate`, which slides the idle deadline and re-reads the session.
 * While the subscription is down or being re-established the cache is empty and bypassed.
 */
export class SessionValidationCache implements SessionCacheStats {
  private readonly logger = new Logger('SessionValidationCache');
  private readonly cached = new Map<string, Entry>();
  private readonly byUser = new Map<string, Set<string>>();
  private readonly queue = new Set<Entry>();
  /** Deadline reads in flight, by session id (one per session). */
  private readonly filling = new Set<string>();
  private readonly marks = new Map<string, number>();
  private seq = 0;
  private flushedAt = 0;
  private active = false;
  private subscribing = false;
  private lastSubscribeTry = 0;
  private closed = false;
  private unsubscribe: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private readonly maxEntries: number;
  private readonly maxStalenessMs: number;
  private readonly refreshAfterMs: number;
  // `SessionCacheStats`, read by metrics at scrape time.
  hits = 0;
  misses = 0;
  bypassed = 0;

  constructor(
    private readonly options: ResolvedSessionOptions,
    private readonly repository: SessionRepository,
    private readonly signal: SessionEndedSignal,
  ) {
    const cache = options.localCache || { maxEntries: 10_000, maxStalenessMs: 5000 };
    this.maxEntries = cache.maxEntries;
    this.maxStalenessMs = cache.maxStalenessMs;
    // Re-read before the bound so hot sessions never miss; touch as often as the store would.
    this.refreshAfterMs = Math.min(options.touchIntervalMs, cache.maxStalenessMs / 2);
  }

  get entries(): number {
    return this.cached.size;
  }

  /** True while the subscription is up and the cache answers. */
  get serving(): boolean {
    return this.active;
  }

  start(): void {
    const flushEvery = Math.max(10, Math.min(1000, this.maxStalenessMs / 4));
    this.timer = setInterval(() => this.tick(), flushEvery);
    this.timer.unref();
    this.subscribe();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.active = false;
    clearInterval(this.timer);
    this.unsubscribe?.();
    this.clear();
    await this.flushing;
  }

  /** The cached session, or undefined (a miss, or the cache is bypassed). */
  get(userId: string, sessionId: string, now: number): ValidatedSession | undefined {
    if (!this.active) {
      this.bypassed++;
      return undefined;
    }
    const e = this.cached.get(sessionId);
    if (!e || e.userId !== userId) {
      this.misses++;
      return undefined;
    }
    if (now >= e.absoluteExpiresAt || now >= e.idleDeadline || now - e.readAt >= this.maxStalenessMs) {
      this.remove(e);
      this.misses++;
      return undefined;
    }
    this.hits++;
    // LRU: most recently used last.
    this.cached.delete(sessionId);
    this.cached.set(sessionId, e);
    if (!e.queued && now - e.readAt >= this.refreshAfterMs) {
      e.queued = true;
      this.queue.add(e);
    }
    return e.session;
  }

  ticket(userId: string, sessionId: string): CacheTicket {
    return { userId, sessionId, seq: this.seq };
  }

  /**
   * Offers a store answer read under `ticket` at `readAt`. A session not cached yet needs its
   * absolute deadline: the built-in repositories return it with the validation; for a repository
   * that does not, one `list` read fetches it in the background (off the request path).
   */
  offer(t: CacheTicket, session: ValidatedSession, readAt: number): void {
    if (!this.valid(t)) return;
    const e = this.cached.get(t.sessionId);
    if (e && e.userId === t.userId) {
      this.refreshed(e, session, readAt);
      return;
    }
    if (session.absoluteExpiresAt !== undefined) {
      this.admit(t, session, readAt, session.absoluteExpiresAt, this.idleFloor(readAt));
      return;
    }
    if (this.filling.has(t.sessionId) || this.filling.size >= this.maxEntries) return;
    this.filling.add(t.sessionId);
    void this.fill(t, session, readAt).finally(() => this.filling.delete(t.sessionId));
  }

  /** Drops what the store says is gone (a miss that found no live session). */
  drop(userId: string, sessionId: string): void {
    const e = this.cached.get(sessionId);
    if (e && e.userId === userId) this.remove(e);
  }

  private async fill(t: CacheTicket, session: ValidatedSession, readAt: number): Promise<void> {
    let record;
    try {
      const list = await this.repository.list(t.userId, this.options.clock(), this.options.idleTimeoutMs);
      record = list.find((s) => s.id === t.sessionId);
    } catch {
      return; // A store error is never cached.
    }
    if (!record || !this.valid(t)) return;
    const idleDeadline = Math.max(this.idleFloor(readAt), record.lastSeenAt + this.options.idleTimeoutMs);
    this.admit(t, session, readAt, record.absoluteExpiresAt, idleDeadline);
  }

  private admit(
    t: CacheTicket,
    session: ValidatedSession,
    readAt: number,
    absoluteExpiresAt: number,
    idleDeadline: number,
  ): void {
    if (this.cached.has(t.sessionId)) return;
    const e: Entry = {
      userId: t.userId,
      sessionId: t.sessionId,
      session,
      readAt,
      idleDeadline,
      absoluteExpiresAt,
      queued: false,
    };
    this.cached.set(t.sessionId, e);
    let set = this.byUser.get(t.userId);
    if (!set) this.byUser.set(t.userId, (set = new Set()));
    set.add(t.sessionId);
    while (this.cached.size > this.maxEntries) {
      const oldest = this.cached.values().next().value as Entry;
      this.remove(oldest);
    }
  }

  private refreshed(e: Entry, session: ValidatedSession, readAt: number): void {
    if (readAt < e.readAt) return;
    e.session = session;
    e.readAt = readAt;
    e.idleDeadline = Math.max(e.idleDeadline, this.idleFloor(readAt));
  }

  /** After a validation at `readAt`, the store's last touch is at least `readAt - touchInterval`. */
  private idleFloor(readAt: number): number {
    return readAt - this.options.touchIntervalMs + this.options.idleTimeoutMs;
  }

  private valid(t: CacheTicket): boolean {
    return this.active && t.seq >= this.flushedAt && (this.marks.get(t.userId) ?? -1) <= t.seq;
  }

  private onSignal(m: SessionSignalMessage): void {
    switch (m.kind) {
      case 'ended':
        // A user-wide end (`except` too) drops every entry: the kept session may have a new authTime.
        if (m.sessionId === null) this.invalidateUser(m.userId);
        else this.invalidate(m.userId, m.sessionId);
        return;
      case 'changed':
        this.invalidate(m.userId, m.sessionId);
        return;
      case 'lost':
        this.active = false;
        this.clear();
        return;
      case 'restored':
        // Messages may have been missed in the gap: start from empty.
        this.clear();
        this.active = !this.closed;
        return;
    }
  }

  private invalidate(userId: string, sessionId: string): void {
    this.mark(userId);
    const e = this.cached.get(sessionId);
    if (e && e.userId === userId) this.remove(e);
  }

  private invalidateUser(userId: string): void {
    this.mark(userId);
    for (const id of [...(this.byUser.get(userId) ?? [])]) {
      const e = this.cached.get(id);
      if (e) this.remove(e);
    }
  }

  private mark(userId: string): void {
    this.seq++;
    if (this.marks.size >= MAX_MARKS) {
      // Forget per-user marks: every read in flight now counts as raced.
      this.marks.clear();
      this.flushedAt = this.seq;
    }
    this.marks.set(userId, this.seq);
  }

  private clear(): void {
    this.seq++;
    this.flushedAt = this.seq;
    this.marks.clear();
    this.cached.clear();
    this.byUser.clear();
    this.queue.clear();
  }

  private remove(e: Entry): void {
    if (this.cached.get(e.sessionId) === e) this.cached.delete(e.sessionId);
    this.queue.delete(e);
    const set = this.byUser.get(e.userId);
    set?.delete(e.sessionId);
    if (set?.size === 0) this.byUser.delete(e.userId);
  }

  private subscribe(): void {
    if (this.subscribing || this.unsubscribe || this.closed) return;
    this.subscribing = true;
    this.signal
      .subscribe((m) => this.onSignal(m))
      .then(
        (unsubscribe) => {
          this.subscribing = false;
          if (this.closed) return unsubscribe();
          this.unsubscribe = unsubscribe;
          this.clear();
          // Another subscriber may have opened the subscription earlier and it may be down now.
          this.active = this.signal.listening !== false;
        },
        (err: unknown) => {
          this.subscribing = false;
          this.logger.warn(`cache bypassed, no session-ended subscription: ${(err as Error)?.message ?? String(err)}`);
        },
      );
  }

  private tick(): void {
    if (!this.unsubscribe && Date.now() - this.lastSubscribeTry >= RESUBSCRIBE_MS) {
      this.lastSubscribeTry = Date.now();
      this.subscribe();
    }
    if (this.flushing || this.queue.size === 0) return;
    this.flushing = this.flush().finally(() => (this.flushing = undefined));
  }

  /** Write-behind: re-validates queued sessions (a touch and a fresh read in one store call). */
  private async flush(): Promise<void> {
    const batch = [...this.queue];
    this.queue.clear();
    let next = 0;
    const worker = async () => {
      while (next < batch.length && !this.closed) {
        const e = batch[next++];
        e.queued = false;
        if (this.cached.get(e.sessionId) !== e) continue;
        await this.revalidate(e);
      }
    };
    await Promise.all(Array.from({ length: Math.min(FLUSH_CONCURRENCY, batch.length) }, worker));
  }

  private async revalidate(e: Entry): Promise<void> {
    const t = this.ticket(e.userId, e.sessionId);
    const now = this.options.clock();
    try {
      const result = await this.repository.validate(e.userId, e.sessionId, {
        now,
        idleTimeoutMs: this.options.idleTimeoutMs,
        touchIntervalMs: this.options.touchIntervalMs,
        graceMs: this.options.graceMs,
      });
      if (result.status !== 'ok') this.remove(e);
      else if (this.valid(t) && this.cached.get(e.sessionId) === e) this.refreshed(e, result.session, now);
    } catch {
      // Fail closed: the next request asks the store itself (and answers 503 while it is down).
      this.remove(e);
    }
  }
}
