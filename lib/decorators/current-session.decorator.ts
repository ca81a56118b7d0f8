import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { SessionPrincipal } from '../interfaces/session-record.interface.js';
import { realtimeRequestResponse } from '../realtime/context-kinds.js';
import { SESSION_REQUEST_KEY } from '../session.internal-constants.js';

function principal(ctx: ExecutionContext): SessionPrincipal | undefined {
  // GraphQL resolvers and gateway handlers: the request the guard authenticated.
  const req = realtimeRequestResponse(ctx)?.req ?? ctx.switchToHttp().getRequest<object>();
  return (req as Record<string, unknown> | undefined)?.[SESSION_REQUEST_KEY] as SessionPrincipal | undefined;
}

/** Injects the authenticated session (`SessionPrincipal`). @publicApi */
export const CurrentSession = createParamDecorator((_: unknown, ctx: ExecutionContext) => principal(ctx));

/** Injects `{ id, roles }` of the authenticated user. @publicApi */
export const CurrentUser = createParamDecorator((_: unknown, ctx: ExecutionContext) => {
  const p = principal(ctx);
  return p ? { id: p.userId, roles: p.roles } : undefined;
});
