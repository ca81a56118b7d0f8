export { SessionGuard, type SessionGuardFailure, type SessionRequestResponse } from './auth/session.guard.js';
export { type SessionJwtUser, SessionJwtStrategy } from './auth/session-jwt.strategy.js';
export { SESSION_CLEANUP_JOB, SessionCleanupService } from './cleanup/session-cleanup.service.js';
export type { SessionListEntry } from './controllers/session.controller.js';
export { SessionCsrfPolicy } from './csrf/csrf-policy.js';
export type { SessionDbscOptions } from './dbsc/dbsc-options.js';
export { type DbscSessionInstructions, SessionDbscService } from './dbsc/dbsc.service.js';
export type * from './dbsc/device-binding.interface.js';
export * from './decorators/index.js';
export { InjectSessionOptions, InjectSessionRepository } from './decorators/inject-session.decorator.js';
export { SessionEvents } from './events/session-events.service.js';
export { type SessionHealth, SessionHealthIndicator } from './health/session-health.indicator.js';
export type { HttpRequestLike, HttpResponseLike } from './http/http-request.js';
export { type CookieTokenAnswer, type HeaderTokenAnswer, SessionHttpService } from './http/session-http.service.js';
export { type RequestCredential, SessionTransport } from './http/session-transport.js';
export { TokenResponseInterceptor } from './interceptors/token-response.interceptor.js';
export * from './interfaces/index.js';
export { MemorySessionRepository } from './repository/memory-session.repository.js';
export {
  RedisSessionRepository,
  type RedisClockMode,
  type RedisRepositoryOptions,
} from './repository/redis-session.repository.js';
export { HKDF_INFO } from './session-keys.js';
export * from './session.constants.js';
export { SessionConfigError, SessionStoreUnavailableError, SessionUnauthorizedError } from './session.errors.js';
export type { SessionModuleExtras } from './session.module-definition.js';
export { SessionModule } from './session.module.js';
export { getSessionOptionsToken, getSessionRepositoryToken } from './session.providers.js';
export { type IssuedTokens, type SessionMeta, SessionService } from './session.service.js';
