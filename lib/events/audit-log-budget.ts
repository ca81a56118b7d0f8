import type { SessionAuditEvent, SessionAuditEventType } from '../interfaces/session-event.interface.js';
import type { AuditLogFields } from './audit-log-record.js';

/** How many audit lines may be written; subscribers are never limited, only log lines. */
export interface AuditLogLimits {
  /** Lines per window for one event type from one source. */
  perWindow: number;
  /** Window length in milliseconds. */
  windowMs: number;
  /** (type, source) pairs tracked per window; sources beyond it share one budget per type. */
  maxSources: number;
}

export const DEFAULT_AUDIT_LOG_LIMITS: AuditLogLimits = { perWindow: 20, windowMs: 1000, maxSources: 1000 };

/** Internal token for the optional limits argument of `SessionEvents` (tests pass smaller ones). Not exported. */
export const AUDIT_LOG_LIMITS = Symbol('SESSION:AUDIT_LOG_LIMITS');

/** Who a budget belongs to; named in its summary line. */
type Source = { userId: string } | { ip: string };

interface Tally {
  event: SessionAuditEventType;
  /** Absent for the budget that sources beyond `maxSources` share. */
  source: Source | undefined;
  lines: number;
  dropped: number;
}

/**
 * The source an event is charged to: the signed-in user when the module knows who it is, else the
 * client address. A failed login's user name is whatever the client typed, so it is charged to
 * the address: otherwise every new name would bring a fresh budget.
 */
function sourceOf(event: SessionAuditEvent): Source {
  if (event.userId !== undefined && event.type !== 'authn_login_fail') return { userId: event.userId };
  return { ip: event.ip ?? '' };
}

/**
 * Per (event type, source) line budget over fixed windows. All state is dropped when a window
 * ends, after a summary line for each budget that dropped something, so memory is bounded by
 * `maxSources` and every dropped line is counted. The summary is written by a timer at the end
 * of the window (or by the next event, whichever comes first), so it never waits for traffic.
 * Nothing here runs unless an event is emitted.
 */
export class AuditLogBudget {
  private windowEnd = 0;
  private readonly tallies = new Map<string, Tally>();
  private readonly overflow = new Map<SessionAuditEventType, Tally>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly limits: AuditLogLimits,
    /** Writes one summary line (`type: 'audit_suppressed'`). */
    private readonly writeSummary: (summary: AuditLogFields) => void,
    /** Time written in summary lines (the module's clock, like the events). */
    private readonly time: () => number,
    /** Real time for the windows, so a frozen test clock cannot stop them. */
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** True when the event's line may be written; false when it was only counted. */
  admit(event: SessionAuditEvent): boolean {
    const now = this.now();
    if (now >= this.windowEnd) this.roll(now);
    const tally = this.tallyFor(event);
    if (tally.lines < this.limits.perWindow) {
      tally.lines += 1;
      return true;
    }
    tally.dropped += 1;
    this.timer ??= this.armTimer(now);
    return false;
  }

  /** (type, source) pairs tracked in the current window. */
  get trackedSources(): number {
    return this.tallies.size;
  }

  /** Writes the pending summaries now and stops the timer (shutdown). */
  close(): void {
    this.roll(this.now());
  }

  private tallyFor(event: SessionAuditEvent): Tally {
    const source = sourceOf(event);
    const key = 'userId' in source ? `${event.type}\0u${source.userId}` : `${event.type}\0a${source.ip}`;
    let tally = this.tallies.get(key);
    if (tally) return tally;
    if (this.tallies.size >= this.limits.maxSources) {
      tally = this.overflow.get(event.type);
      if (!tally)
        this.overflow.set(event.type, (tally = { event: event.type, source: undefined, lines: 0, dropped: 0 }));
      return tally;
    }
    tally = { event: event.type, source, lines: 0, dropped: 0 };
    this.tallies.set(key, tally);
    return tally;
  }

  private armTimer(now: number): ReturnType<typeof setTimeout> {
    const timer = setTimeout(
      () => {
        this.timer = undefined;
        this.roll(this.now());
      },
      Math.max(0, this.windowEnd - now),
    );
    // Never keeps a process alive on its own.
    timer.unref?.();
    return timer;
  }

  private roll(now: number): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    let time: string | undefined;
    for (const tallies of [this.tallies.values(), this.overflow.values()]) {
      for (const t of tallies) {
        if (t.dropped === 0) continue;
        time ??= new Date(this.time()).toISOString();
        const source = t.source ?? { overflow: true };
        this.writeSummary({ type: 'audit_suppressed', event: t.event, count: t.dropped, ...source, time });
      }
    }
    this.tallies.clear();
    this.overflow.clear();
    this.windowEnd = now + this.limits.windowMs;
  }
}
