import { type DynamicModule, type ExecutionContext, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { ThrottlerModuleOptions } from '@nestjs/throttler';
import { AuthController } from './auth.controller.js';
import { envInteger } from './session.config.js';

/** Window of the login throttle, in milliseconds (what @nestjs/throttler counts in). */
export const LOGIN_WINDOW_MS = 60_000;

/**
 * One address may try this many times LOGIN_THROTTLE per window over all emails: it stops a spray of
 * many emails from one address, and so bounds the keys one address can make the throttler keep.
 */
export const ADDRESS_FACTOR = 10;

/** LOGIN_THROTTLE: login attempts per minute per address + email; 0 (unset) is off. */
export function loginThrottleLimit(): number {
  return envInteger('LOGIN_THROTTLE', 0);
}

/** Lower-cased email of a login body, '' for anything else (the route answers that with a 400). */
function submittedEmail(body: unknown): string {
  const email = typeof body === 'object' && body !== null ? (body as { email?: unknown }).email : undefined;
  return typeof email === 'string' ? email.slice(0, 254).toLowerCase() : '';
}

const isLogin = (context: ExecutionContext) =>
  context.getClass() === AuthController && context.getHandler() === AuthController.prototype.login;

/**
 * @nestjs/throttler options that count `POST /auth/login` only: per address + email, and per address.
 * `normalizeIp` is @nestjs/throttler's (it groups an IPv6 /64 like its default tracker).
 */
export function loginThrottleOptions(limit: number, normalizeIp: (ip: string) => string): ThrottlerModuleOptions {
  return {
    skipIf: (context) => !isLogin(context),
    errorMessage: 'Too many login attempts',
    throttlers: [
      { name: 'address', ttl: LOGIN_WINDOW_MS, limit: limit * ADDRESS_FACTOR },
      // Named 'default' so a refusal carries a plain Retry-After header.
      {
        name: 'default',
        ttl: LOGIN_WINDOW_MS,
        limit,
        getTracker: (req) => `${normalizeIp(String(req.ip ?? ''))}|${submittedEmail(req.body)}`,
      },
    ],
  };
}

@Module({})
class LoginThrottleModule {}

/**
 * The login throttle, on only when LOGIN_THROTTLE is set (the test suites log in many times); a value
 * that is not a whole number stops startup instead of turning it off. Counts live in this process:
 * replicas each count their own unless given a shared ThrottlerStorage.
 *
 * @nestjs/throttler is CommonJS that `require`s Nest's ESM-only packages: Node ≥ 20.19 does that,
 * Jest's module runtime (before Node 24.9) cannot, so it is imported only when switched on and the
 * throttle's HTTP tests drive the built sample as a process.
 */
export async function loginThrottle(): Promise<DynamicModule> {
  const limit = loginThrottleLimit();
  if (limit <= 0) return { module: LoginThrottleModule };
  const { ThrottlerGuard, ThrottlerModule, normalizeIp } = await import('@nestjs/throttler');
  return {
    module: LoginThrottleModule,
    imports: [ThrottlerModule.forRoot(loginThrottleOptions(limit, normalizeIp))],
    providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
  };
}
