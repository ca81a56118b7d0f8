/**
 * A DBSC request the module refuses. `status`: 400 malformed, 401 no live bound session (ends the
 * browser's DBSC session), 403 a fresh proof is needed (the answer carries a new challenge).
 * `reason` is for logs and events only.
 */
export class DbscRefusal extends Error {
  constructor(
    readonly status: 400 | 401 | 403,
    readonly reason: string,
  ) {
    super(`dbsc: ${reason}`);
    this.name = 'DbscRefusal';
  }
}
