/** The sample (or a bare app with `routes: false`) in a given shape: extra imports, prefix, versioning. */
import type { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { SessionModule, type SessionModuleOptions } from '../../lib/index.js';
import { AppModule } from '../../sample/app.module.js';
import { createTestApp, type TestAdapter } from '../utils/http-adapter.js';
import { listenOnLoopback, type RunningSample, TEST_SECRET } from '../utils/sample-app.js';

export interface AppShape {
  adapter: TestAdapter;
  /** Options for the sample's module (over its environment defaults). */
  options?: Partial<SessionModuleOptions>;
  /** Modules imported beside the sample, e.g. `RouterModule.register(...)`. */
  imports?: DynamicModule[];
  /** Instead of the sample: `SessionModule.forRoot(options)` with `routes: false` and these controllers. */
  bare?: { options: Partial<SessionModuleOptions>; controllers: Type[] };
  /** Runs before the app initialises: `setGlobalPrefix`, `enableVersioning`. */
  configure?: (app: INestApplication) => void;
}

export async function startShapedApp(shape: AppShape): Promise<RunningSample> {
  const root = shape.bare
    ? {
        imports: [SessionModule.forRoot({ secret: TEST_SECRET, ...shape.bare.options, routes: false })],
        controllers: shape.bare.controllers,
      }
    : { imports: [AppModule.register({ secret: TEST_SECRET, ...shape.options }), ...(shape.imports ?? [])] };
  const moduleRef = await Test.createTestingModule(root).compile();
  const app = createTestApp(moduleRef, shape.adapter);
  shape.configure?.(app);
  try {
    return await listenOnLoopback(app);
  } catch (err) {
    await app.close().catch(() => undefined);
    throw err;
  }
}
