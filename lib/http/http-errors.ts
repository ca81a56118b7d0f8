import { HttpException, ServiceUnavailableException, UnauthorizedException } from '@nestjs/common';
import { SessionStoreUnavailableError } from '../session.errors.js';
import { SessionUnauthorizedError } from '../session.errors.js';

/** Seconds a client should wait before retrying after a store outage. */
export const RETRY_AFTER_SECONDS = '2';

/** RFC 6750 §3.1: a valid bearer token without the rights the route needs. */
export const INSUFFICIENT_SCOPE_CHALLENGE = 'Bearer error="insufficient_scope"';

/** The HTTP answer to a session error: the exception to throw and the headers it needs. */
export interface HttpRefusal {
  readonly exception: Error;
  readonly headers: ReadonlyArray<readonly [name: string, value: string]>;
}

const NO_HEADERS: HttpRefusal['headers'] = [];

/**
 * Maps session errors to HTTP: 401 with a `WWW-Authenticate` challenge (RFC 6750), 503 with
 * `Retry-After` when the store is down. HTTP exceptions and anything else pass through unchanged.
 * `bearer`: the credential came in an `Authorization: Bearer` header.
 */
export function toHttpRefusal(err: unknown, bearer: boolean): HttpRefusal {
  if (err instanceof HttpException) return { exception: err, headers: NO_HEADERS };
  if (err instanceof SessionUnauthorizedError) {
    // RFC 6750 §3: an error code only when a bearer token was presented (or the header was malformed).
    const challenge =
      err.reason === 'malformed_authorization'
        ? 'Bearer error="invalid_request"'
        : bearer
          ? 'Bearer error="invalid_token"'
          : 'Bearer';
    return { exception: new UnauthorizedException(), headers: [['WWW-Authenticate', challenge]] };
  }
  if (err instanceof SessionStoreUnavailableError) {
    return {
      exception: new ServiceUnavailableException('Session store unavailable'),
      headers: [['Retry-After', RETRY_AFTER_SECONDS]],
    };
  }
  return { exception: err as Error, headers: NO_HEADERS };
}
