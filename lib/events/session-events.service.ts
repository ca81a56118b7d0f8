import { createHmac } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationShutdown, Optional } from '@nestjs/common';
import type {
  SessionAuditEvent,
  SessionAuditEventType,
  SessionEventListener,
} from '../interfaces/session-event.interface.js';
import type { ResolvedSessionOptions } from '../session-options.js';
import { SESSION_RESOLVED_OPTIONS } from '../session.internal-constants.js';
import { AUDIT_LOG_LIMITS, AuditLogBudget, type AuditLogLimits, DEFAULT_AUDIT_LOG_LIMITS } from './audit-log-budget.js';
import { AuditLogRecord } from './audit-log-record.js';
import { sanitizeForLog } from './sanitize-for-log.js';

export { sanitizeForLog };

/** Failures worth an operator's attention. Not `error`: Nest writes that to stderr, the sample logs to stdout. */
const WARN: ReadonlySet<SessionAuditEventType> = new Set([
  'authn_login_fail',
  'authn_token_invalid',
  'authn_token_reuse',
  'authz_fail',
  'csrf_fail',
]);

function isWarning(event: SessionAuditEvent): boolean {
  return WARN.has(event.type) || (event.type === 'session_revoked' && event.reason === 'theft');
}

/**
 * Audit events: delivered to subscribers and the `onEvent` option, and logged through Nest's
 * Logger as an object (`AuditLogRecord`: one JSON object in JSON loggers, one line of JSON in the
 * text logger). Never carries a token or a raw session id. Log lines (not deliveries) are budgeted
 * per event type and source; see `AuditLogBudget`.
 * @publicApi
 */
@Injectable()
export class SessionEvents implements OnApplicationShutdown {
  private readonly logger = new Logger('SessionAudit');
  private readonly listeners = new Set<SessionEventListener>();
  private readonly budget: AuditLogBudget;

  constructor(
    @Inject(SESSION_RESOLVED_OPTIONS) private readonly options: ResolvedSessionOptions,
    @Optional() @Inject(AUDIT_LOG_LIMITS) limits?: AuditLogLimits,
  ) {
    this.budget = new AuditLogBudget(
      limits ?? DEFAULT_AUDIT_LOG_LIMITS,
      (summary) => this.logger.warn(new AuditLogRecord(summary)),
      options.clock,
    );
  }

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
    fields: { userId?: string; sessionId?: string; ip?: string; reason?: string; impersonator?: string } = {},
  ): void {
    const event: SessionAuditEvent = { type, time: new Date(this.options.clock()).toISOString() };
    if (fields.userId !== undefined) event.userId = sanitizeForLog(fields.userId);
    if (fields.sessionId !== undefined) event.sessionHash = this.sessionHash(fields.sessionId);
    if (fields.ip !== undefined) event.ip = sanitizeForLog(fields.ip, 64);
    if (fields.reason !== undefined) event.reason = sanitizeForLog(fields.reason, 64);
    if (fields.impersonator !== undefined) event.impersonator = sanitizeForLog(fields.impersonator, 64);
    this.log(event);
    // Subscribers get every event: only log lines are budgeted.
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

  /** Writes the summaries of lines still being counted, so a shutdown loses no count. */
  onApplicationShutdown(): void {
    this.budget.close();
  }

  private log(event: SessionAuditEvent): void {
    if (!this.budget.admit(event)) return;
    // A copy: the event object itself goes to subscribers unchanged.
    const record = new AuditLogRecord({ ...event });
    if (isWarning(event)) this.logger.warn(record);
    else this.logger.log(record);
  }
}
