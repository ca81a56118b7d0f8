import { Inject } from '@nestjs/common';
import { SessionRepository } from '../interfaces/session-repository.interface.js';
import { SESSION_MODULE_OPTIONS } from '../session.module-definition.js';

/**
 * Injects the `SessionModuleOptions` as given to `forRoot()` or returned by the `forRootAsync()`
 * factory (defaults not applied). Works in any module: `SessionModule` exports the token.
 * @example constructor(@InjectSessionOptions() private readonly options: SessionModuleOptions) {}
 * @publicApi
 */
export const InjectSessionOptions = (): ParameterDecorator & PropertyDecorator => Inject(SESSION_MODULE_OPTIONS);

/**
 * Injects the active `SessionRepository` (the memory one, the Redis one built from `store`, or yours).
 * @example constructor(@InjectSessionRepository() private readonly repository: SessionRepository) {}
 * @publicApi
 */
export const InjectSessionRepository = (): ParameterDecorator & PropertyDecorator => Inject(SessionRepository);
