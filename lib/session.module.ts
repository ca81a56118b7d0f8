import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { sessionCacheProviders } from './cache/session-cache.providers.js';
import { SessionCleanupService } from './cleanup/session-cleanup.service.js';
import { RouteContextGuard } from './auth/route-context.guard.js';
import { SessionGuard } from './auth/session.guard.js';
import { SessionJwtStrategy } from './auth/session-jwt.strategy.js';
import { SessionCsrfPolicy } from './csrf/csrf-policy.js';
import { dbscProviders } from './dbsc/dbsc.providers.js';
import { SessionDbscService } from './dbsc/dbsc.service.js';
import { CsrfService } from './csrf/csrf.service.js';
import { SessionEvents } from './events/session-events.service.js';
import { SessionHealthIndicator } from './health/session-health.indicator.js';
import { SessionHttpService } from './http/session-http.service.js';
import { SessionJwksService } from './jwks/session-jwks.service.js';
import { metricsProviders } from './metrics/metrics.providers.js';
import { SessionRouteHeaders } from './http/route-headers.js';
import { SessionRoutes } from './http/session-routes.js';
import { SessionTransport } from './http/session-transport.js';
import { TokenResponseInterceptor } from './interceptors/token-response.interceptor.js';
import { SessionRepository } from './interfaces/session-repository.interface.js';
import { ConfigurableModuleClass, SESSION_MODULE_OPTIONS } from './session.module-definition.js';
import { sessionProviders } from './session.providers.js';
import { SessionService } from './session.service.js';
import { SessionSockets } from './realtime/session-sockets.service.js';
import { SessionEndedSignal } from './signal/session-signal.interface.js';
import { sessionSignalProviders } from './signal/session-signal.providers.js';
import { AccessTokenService } from './tokens/access-token.service.js';
import { RefreshTokenService } from './tokens/refresh-token.service.js';

/**
 * Server-side sessions with JWT access tokens and rotating refresh tokens.
 * `SessionModule.forRoot({...})` or `SessionModule.forRootAsync({ useFactory | useClass | useExisting })`;
 * extras `isGlobal` (default true) and `routes` (default `{ prefix: 'auth' }`, or `false`).
 * @publicApi
 */
@Module({
  imports: [PassportModule],
  providers: [
    ...sessionProviders,
    AccessTokenService,
    RefreshTokenService,
    CsrfService,
    SessionCsrfPolicy,
    SessionEvents,
    SessionService,
    SessionRoutes,
    SessionTransport,
    SessionHttpService,
    SessionRouteHeaders,
    SessionGuard,
    TokenResponseInterceptor,
    SessionJwtStrategy,
    // Notes each HTTP request's route for SessionJwtStrategy (Passport gives a strategy only the request).
    { provide: APP_GUARD, useClass: RouteContextGuard },
    SessionCleanupService,
    SessionHealthIndicator,
    SessionJwksService,
    ...sessionSignalProviders,
    ...sessionCacheProviders,
    SessionSockets,
    ...dbscProviders,
    ...metricsProviders,
  ],
  // What users inject, and exactly the providers lib/index.ts exports (test/module/public-api.e2e-spec.ts).
  exports: [
    SESSION_MODULE_OPTIONS,
    SessionRepository,
    SessionEvents,
    SessionService,
    SessionTransport,
    SessionCsrfPolicy,
    SessionHttpService,
    SessionGuard,
    TokenResponseInterceptor,
    SessionJwtStrategy,
    SessionCleanupService,
    SessionHealthIndicator,
    SessionJwksService,
    SessionEndedSignal,
    SessionSockets,
    SessionDbscService,
  ],
})
export class SessionModule extends ConfigurableModuleClass {}
