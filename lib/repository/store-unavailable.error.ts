/** The session store could not answer (down, slow or erroring). Requests fail closed with 503. */
export class SessionStoreUnavailableError extends Error {
  constructor(readonly reason: string) {
    super(`session store unavailable: ${reason}`);
    this.name = 'SessionStoreUnavailableError';
  }
}
