import { createHmac } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type {
  SessionAuditEvent,
  SessionAuditEventType,
  SessionEventListener,
} from '../interfaces/session-event.interface.js';
import type { ResolvedSessionOptions } from '../session-options.js';
import { SESSION_RESOLVED_OPTIONS } from '../session.internal-constants.js';
import { sanitizeForLog } from './sanitize-for-log.js';

export { sanitizeForLog };

/** Events that attackers can trigger at will; their log lines are rate limited. */
const NOISY: ReadonlySet<SessionAuditEventType> = new Set(['authn_token_invalid', 'csrf_fail', 'authn_login_fail']);
const NOISY_PER_SECOND = 20;

/**
 * Audit events: delivered to subscribers and the `onEvent` option, and logged as one JSON line
 * through Nest's Logger. Never carries a token or a raw session id.
 * @publicApi
 */
@Injectable()
export class SessionEvents {
  private readonly logger = new Logger('SessionAudit');
  private readonly listeners = new Set<SessionEventListener>();
  private windowStart = 0;
  private windowCount = 0;
  private suppressed = 0;

  constructor(@Inject(SESSION_RESOLVED_OPTIONS) private readonly options: ResolvedSessionOptions) {}

  /** Adds a listener; returns a function that removes it. */
  subscribe(listener: SessionEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Short keyed hash of a session id, safe to log and to correlate. */
  sessionHash(sessionId: string): string {
    return createHmac('sha256', this.options.logKey).update(sessionId).digest('base64url').slice(0, 12);
  }

  emit(
    type: SessionAuditEventType,
    fields: { userId?: string; sessionId?: string; ip?: string; reason?: string } = {},
  ): void {
    const event: SessionAuditEvent = { type, time: new Date(this.options.clock()).toISOString() };
    if (fields.userId !== undefined) event.userId = sanitizeForLog(fields.userId);
    if (fields.sessionId !== undefined) event.sessionHash = this.sessionHash(fields.sessionId);
    if (fields.ip !== undefined) event.ip = sanitizeForLog(fields.ip, 64);
    if (fields.reason !== undefined) event.reason = sanitizeForLog(fields.reason, 64);
    this.log(event);
    try {
      this.options.onEvent?.(event);
    } catch {
      // A listener's failure must not change the answer to the request.
    }
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // same as above
      }
    }
  }

  private log(event: SessionAuditEvent): void {
    if (NOISY.has(event.type)) {
      const now = Date.now();
      if (now - this.windowStart >= 1000) {
        if (this.suppressed > 0) {
          this.logger.warn(JSON.stringify({ type: 'audit_suppressed', count: this.suppressed, time: new Date(now).toISOString() }));
        }
        this.windowStart = now;
        this.windowCount = 0;
        this.suppressed = 0;
      }
      if (++this.windowCount > NOISY_PER_SECOND) {
        this.suppressed += 1;
        return;
      }
      this.logger.warn(JSON.stringify(event));
      return;
    }
    this.logger.log(JSON.stringify(event));
  }
}
