/** Authentication failed: answered 401 without detail. `reason` is for logs only. */
export class SessionUnauthorizedError extends Error {
  constructor(readonly reason: string) {
    super('unauthorized');
    this.name = 'SessionUnauthorizedError';
  }
}
