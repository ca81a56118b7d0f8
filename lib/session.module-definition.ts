import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { SessionModuleOptions } from './interfaces/session-module-options.interface.js';
import { createSessionController } from './controllers/session.controller.js';
import { createDbscController } from './dbsc/dbsc.controller.js';
import { SESSION_CONTROLLER, SESSION_ROUTE_PREFIX } from './session.internal-constants.js';

/** Definition-time choices (they shape the module, so they cannot come from async options). */
export interface SessionModuleExtras {
  /** Register the module globally. @default true */
  isGlobal?: boolean;
  /** Mount the refresh/logout/sessions controller under `prefix`, or `false` to mount your own. @default { prefix: 'auth' } */
  routes?: { prefix?: string } | false;
}

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: SESSION_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<SessionModuleOptions>({ moduleName: 'Session' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createSessionOptions')
  .setExtras<SessionModuleExtras>({ isGlobal: true, routes: { prefix: 'auth' } }, (definition, extras) => {
    const prefix = extras.routes === false ? 'auth' : (extras.routes?.prefix ?? 'auth');
    const controller = extras.routes === false ? null : createSessionController(prefix);
    return {
      ...definition,
      global: extras.isGlobal ?? true,
      controllers: controller ? [controller, createDbscController(prefix)] : [],
      providers: [
        ...(definition.providers ?? []),
        { provide: SESSION_ROUTE_PREFIX, useValue: prefix },
        { provide: SESSION_CONTROLLER, useValue: controller },
      ],
    };
  })
  .build();
