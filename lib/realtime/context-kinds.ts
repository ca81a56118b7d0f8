import { HttpException, IntrinsicException, type ExecutionContext } from '@nestjs/common';
import type { HttpRequestLike, HttpResponseLike } from '../http/http-request.js';
import { asHttpRequest, handshakeOf } from './handshake-request.js';

/**
 * What the guard needs from GraphQL and WebSocket contexts, read without importing
 * `@nestjs/graphql` or `@nestjs/websockets` (apps without them never load them).
 */

/** GraphQL resolvers get (root, args, context, info); the context holds what the driver's `context` option returned. */
interface GqlContext {
  req?: HttpRequestLike;
  request?: HttpRequestLike;
  res?: HttpResponseLike;
  reply?: HttpResponseLike;
}

/** The request and response of a GraphQL or WebSocket context; `undefined` for HTTP (and anything else). */
export function realtimeRequestResponse(
  context: ExecutionContext,
): { req: HttpRequestLike | undefined; res: HttpResponseLike | undefined } | undefined {
  const type = context.getType<string>();
  if (type === 'graphql') {
    const gql = context.getArgByIndex<GqlContext | undefined>(2) ?? {};
    return { req: gql.req ?? gql.request, res: gql.res ?? gql.reply };
  }
  if (type === 'ws') {
    const handshake = handshakeOf(context.switchToWs().getClient());
    // A socket's handshake never gets a response from a message handler: no headers, no cookies.
    return { req: handshake ? asHttpRequest(handshake) : undefined, res: undefined };
  }
  return undefined;
}

/**
 * Whether the operation changes state, so cookie-carried requests need CSRF proof: HTTP by
 * method (the policy decides), a GraphQL mutation (or subscription) but not a query (all arrive
 * as POST), never a WebSocket message (its handshake passed the origin check).
 */
export function isUnsafeOperation(context: ExecutionContext): boolean {
  const type = context.getType<string>();
  if (type === 'graphql') {
    const info = context.getArgByIndex<{ operation?: { operation?: string } } | undefined>(3);
    return info?.operation?.operation !== 'query';
  }
  return type !== 'ws';
}

/** GraphQL error codes by HTTP status (the names Apollo uses). */
const GRAPHQL_CODES: Record<number, string> = { 401: 'UNAUTHENTICATED', 403: 'FORBIDDEN', 503: 'SERVICE_UNAVAILABLE' };

/**
 * A refusal in GraphQL's terms: graphql-js copies an error's `extensions` into the answer, so
 * `extensions.code` is UNAUTHENTICATED / FORBIDDEN / SERVICE_UNAVAILABLE without a 5xx. Intrinsic:
 * Nest does not log it as an error (a refused request is an audit event, not a failure).
 * @publicApi
 */
export class SessionGraphQLError extends IntrinsicException {
  readonly extensions: { code: string };
  constructor(message: string, code: string) {
    super(message);
    this.name = 'SessionGraphQLError';
    this.extensions = { code };
  }
}

/** Turns an HTTP refusal into the context's own: a GraphQL error, or a `WsException` for sockets. */
export async function toContextError(context: ExecutionContext, err: unknown): Promise<unknown> {
  if (!(err instanceof HttpException)) return err;
  const status = err.getStatus();
  const code = GRAPHQL_CODES[status];
  const type = context.getType<string>();
  if (type === 'graphql' && code) return new SessionGraphQLError(err.message, code);
  if (type === 'ws') {
    // Only a WebSocket app reaches here, so the package is installed.
    const { WsException } = await import('@nestjs/websockets');
    return new WsException({ status, message: err.message });
  }
  return err;
}
