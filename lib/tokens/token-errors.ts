/** A token that must be refused. `reason` is for logs and events, never for the client. */
export class InvalidTokenError extends Error {
  constructor(readonly reason: string) {
    super('invalid token');
    this.name = 'InvalidTokenError';
  }
}
