import { type DynamicModule, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { SessionJwksController, SessionModule, type SessionModuleOptions } from '../lib/index.js';
import { AppController } from './app.controller.js';
import { AuthController } from './auth.controller.js';
import { DemoPageController } from './demo-page.controller.js';
import { loginThrottle } from './login-throttle.js';
import { sampleMetricsFromEnv } from './metrics.config.js';
import { realtimeImports, realtimeProviders } from './realtime.module.js';
import { sessionOptionsFromEnv } from './session.config.js';
import { SessionControlsController } from './session-controls.controller.js';
import { UsersService } from './users.service.js';

@Module({})
export class AppModule {
  /** The sample configured from the environment; `overrides` lets tests inject a store or other options. */
  static register(overrides: Partial<SessionModuleOptions> = {}): DynamicModule {
    const metrics = sampleMetricsFromEnv();
    return {
      module: AppModule,
      imports: [
        ScheduleModule.forRoot(),
        loginThrottle(),
        SessionModule.forRootAsync({
          useFactory: async () => ({
            ...(await sessionOptionsFromEnv(overrides.store !== undefined)),
            ...metrics.options,
            ...overrides,
          }),
        }),
        ...realtimeImports(),
      ],
      controllers: [
        AuthController,
        AppController,
        DemoPageController,
        SessionJwksController,
        SessionControlsController,
        ...(metrics.module.controllers ?? []),
      ],
      // No filter for no-store on /auth/* errors: the module sets those headers itself, before routing.
      providers: [UsersService, ...realtimeProviders, ...(metrics.module.providers ?? [])],
    };
  }
}
