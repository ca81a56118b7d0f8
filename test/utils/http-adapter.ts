/**
 * The HTTP platform tests run the sample on. `npm test` runs the e2e and security suites once
 * per platform: the files under test/fastify/ set `TEST_HTTP_ADAPTER=fastify` and import a suite.
 */
import type { INestApplication, LoggerService } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import {
  applyAdapterSettings,
  createHttpAdapter,
  type HttpAdapterName,
  type TrustProxy,
} from '../../sample/http-adapter.config.js';

export type TestAdapter = HttpAdapterName;

/** `TEST_HTTP_ADAPTER` (set by the test/fastify/ files), else express. */
export function testAdapter(): TestAdapter {
  return process.env.TEST_HTTP_ADAPTER === 'fastify' ? 'fastify' : 'express';
}

/** A Nest app on `adapter`, configured the way the sample's main.ts configures it. */
export function createTestApp(
  moduleRef: TestingModule,
  adapter: TestAdapter = testAdapter(),
  opts: { logger?: LoggerService | false; trustProxy?: TrustProxy } = {},
): INestApplication {
  const app = moduleRef.createNestApplication(createHttpAdapter(adapter, opts.trustProxy), {
    logger: opts.logger ?? false,
  });
  applyAdapterSettings(app, opts.trustProxy);
  return app;
}
