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
