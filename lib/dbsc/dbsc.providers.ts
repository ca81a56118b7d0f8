import type { Provider } from '@nestjs/common';
import type { SessionModuleOptions } from '../interfaces/session-module-options.interface.js';
import { SESSION_MODULE_OPTIONS } from '../session.module-definition.js';
import { DBSC_OPTIONS, resolveDbscOptions } from './dbsc-options.js';
import { SessionDbscService } from './dbsc.service.js';

/** What SessionModule adds for DBSC (the service is inert unless `dbsc.enabled`). */
export const dbscProviders: Provider[] = [
  {
    provide: DBSC_OPTIONS,
    useFactory: (options: SessionModuleOptions) => resolveDbscOptions(options.dbsc),
    inject: [SESSION_MODULE_OPTIONS],
  },
  SessionDbscService,
];
