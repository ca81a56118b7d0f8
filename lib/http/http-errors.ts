import {
  ConflictException,
  ForbiddenException,
  HttpException,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import { SessionStoreUnavailableError } from '../session.errors.js';
import { SessionUnauthorizedError } from '../session.errors.js';
import { SessionForbiddenError, SessionLimitError, SessionStepUpRequiredError } from '../session.errors.js';

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
  const control = sessionControlRefusal(err, bearer);
  if (control) return control;
  if (err instanceof SessionStoreUnavailableError) {
    return {
      exception: new ServiceUnavailableException('Session store unavailable'),
      headers: [['Retry-After', RETRY_AFTER_SECONDS]],
    };
  }
  return { exception: err as Error, headers: NO_HEADERS };
}

/** RFC 9470 §3: the bearer challenge of a step-up refusal. */
export function stepUpChallenge(maxAge: number): string {
  return `Bearer error="insufficient_user_authentication", max_age=${maxAge}`;
}

/** Session cap (409), step-up (401, RFC 9470) and forbidden session actions (403). */
function sessionControlRefusal(err: unknown, bearer: boolean): HttpRefusal | undefined {
  if (err instanceof SessionLimitError) {
    const body = { statusCode: 409, error: 'session_limit', message: 'Too many sessions for this user' };
    return { exception: new ConflictException(body), headers: NO_HEADERS };
  }
  if (err instanceof SessionStepUpRequiredError) {
    const body = {
      statusCode: 401,
      error: 'insufficient_user_authentication',
      message: 'A more recent authentication is required',
      maxAge: err.maxAge,
    };
    // Error codes in the challenge only for bearer requests, as every other 401 here (RFC 6750 §3).
    const challenge = bearer ? stepUpChallenge(err.maxAge) : 'Bearer';
    return { exception: new UnauthorizedException(body), headers: [['WWW-Authenticate', challenge]] };
  }
  if (err instanceof SessionForbiddenError) {
    return { exception: new ForbiddenException('Not allowed in this session'), headers: NO_HEADERS };
  }
  return undefined;
}
