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
export {
  type HandshakeOutcome,
  type CloseSocket,
  SESSION_ENDED_CLOSE_CODE,
  SessionSockets,
  type WsServerLike,
  type WsSocketLike,
} from './realtime/session-sockets.service.js';
export { SessionGraphQLError } from './realtime/context-kinds.js';
export type { HandshakeRequest } from './realtime/handshake-request.js';
export type { SessionMetricsOptions, SessionMetricsRegistry } from './metrics/session-metrics-options.js';
export { MemorySessionRepository } from './repository/memory-session.repository.js';
export type { RedisClientKind } from './redis/redis-commands.js';
export {
  RedisSessionRepository,
  type RedisClockMode,
  type RedisRepositoryOptions,
} from './repository/redis-session.repository.js';
export { deviceLabel } from './device/device-label.js';
export { HKDF_INFO } from './session-keys.js';
export type { SessionJwk } from './jwks/jwk.js';
export { SessionJwksController } from './jwks/session-jwks.controller.js';
export { type SessionJwks, SessionJwksService } from './jwks/session-jwks.service.js';
export * from './session.constants.js';
export { SessionConfigError, SessionStoreUnavailableError, SessionUnauthorizedError } from './session.errors.js';
export { SessionForbiddenError, SessionLimitError, SessionStepUpRequiredError } from './session.errors.js';
export type { SessionModuleExtras } from './session.module-definition.js';
export { SessionModule } from './session.module.js';
export { getSessionOptionsToken, getSessionRepositoryToken } from './session.providers.js';
export { MemorySessionSignal } from './signal/memory-session.signal.js';
export { RedisSessionSignal } from './signal/redis-session.signal.js';
export type { SignalPubSub } from './signal/signal-pubsub.interface.js';
export * from './signal/session-signal.interface.js';
export { type IssuedTokens, type SessionMeta, SessionService } from './session.service.js';
