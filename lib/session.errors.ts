/**
 * Every error class of the module, in one place. Only `SessionConfigError`,
 * `SessionStoreUnavailableError` and `SessionUnauthorizedError` leave the module.
 */

/** Thrown at startup when the options cannot give a secure configuration. @publicApi */
export class SessionConfigError extends Error {
  constructor(message: string) {
    super(`nestjs-jwt-session: ${message}`);
    this.name = 'SessionConfigError';
  }
}

/** Authentication failed: answered 401 without detail. `reason` is for logs only. @publicApi */
export class SessionUnauthorizedError extends Error {
  constructor(readonly reason: string) {
    super('unauthorized');
    this.name = 'SessionUnauthorizedError';
  }
}

/** The session store could not answer (down, slow or erroring). Requests fail closed with 503. @publicApi */
export class SessionStoreUnavailableError extends Error {
  constructor(readonly reason: string) {
    super(`session store unavailable: ${reason}`);
    this.name = 'SessionStoreUnavailableError';
  }
}

/** A new session would pass the per-user cap (`sessionCapPolicy: 'refuse'`): answered 409. @publicApi */
export class SessionLimitError extends Error {
  constructor() {
    super('session limit reached');
    this.name = 'SessionLimitError';
  }
}

/**
 * The session's last login or re-authentication is older than the route allows (step-up):
 * answered 401 `insufficient_user_authentication` (RFC 9470). @publicApi
 */
export class SessionStepUpRequiredError extends Error {
  constructor(readonly maxAge: number) {
    super('insufficient user authentication');
    this.name = 'SessionStepUpRequiredError';
  }
}

/** The session may not do this (an impersonation session impersonating or changing credentials): 403. @publicApi */
export class SessionForbiddenError extends Error {
  constructor(readonly reason: string) {
    super('forbidden');
    this.name = 'SessionForbiddenError';
  }
}

/**
 * A token that must be refused. `reason` is for logs and events, never for the client.
 * Internal: `SessionService` turns it into `SessionUnauthorizedError`.
 */
export class InvalidTokenError extends Error {
  constructor(readonly reason: string) {
    super('invalid token');
    this.name = 'InvalidTokenError';
  }
}
