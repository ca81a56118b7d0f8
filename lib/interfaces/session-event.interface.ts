/** Audit event names, after the OWASP Logging Vocabulary. */
export type SessionAuditEventType =
  | 'authn_login_success'
  | 'authn_login_fail'
  | 'session_created'
  | 'session_renewed'
  | 'session_expired'
  | 'session_revoked'
  | 'authn_token_reuse'
  | 'authn_token_invalid'
  | 'authz_fail'
  | 'csrf_fail'
  | 'authn_reauth_success'
  | 'authn_password_change'
  | 'authn_impersonation_start';

/** Why a session was revoked. */
export type SessionRevokeReason =
  | 'logout'
  | 'logout_all'
  | 'revoked_by_user'
  | 'theft'
  | 'relogin'
  | 'admin'
  | 'logout_others'
  | 'evicted'
  | 'password_changed';

/**
 * One audit event. Never carries a token or a raw session id: `sessionHash` is a short keyed hash.
 * @publicApi
 */
export interface SessionAuditEvent {
  type: SessionAuditEventType;
  /** ISO 8601 UTC time. */
  time: string;
  userId?: string;
  sessionHash?: string;
  ip?: string;
  reason?: string;
  /** Events of an impersonation session: the user id of the actor (the admin). */
  impersonator?: string;
}

/**
 * Implement and pass to `SessionEvents.subscribe()` to receive audit events. Listeners get every
 * event, unthrottled: only the log lines are budgeted (per event type and source).
 */
export type SessionEventListener = (event: SessionAuditEvent) => void;
