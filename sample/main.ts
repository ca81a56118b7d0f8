import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { SessionConfigError } from '../lib/index.js';
import { apiPrefixFromEnv, applyApiPrefix } from './api-prefix.config.js';
import { AppModule } from './app.module.js';
import {
  applyAdapterSettings,
  createHttpAdapter,
  httpAdapterFromEnv,
  listenHost,
  trustProxyFromEnv,
} from './http-adapter.config.js';
import { httpsOptionsFromEnv } from './dbsc.config.js';

async function bootstrap(): Promise<void> {
  const adapter = httpAdapterFromEnv();
  const trustProxy = trustProxyFromEnv();
  const httpsOptions = httpsOptionsFromEnv();
  const app = await NestFactory.create(AppModule.register(), createHttpAdapter(adapter, trustProxy, httpsOptions), {
    abortOnError: false,
    httpsOptions,
  });
  applyAdapterSettings(app, trustProxy);
  applyApiPrefix(app, apiPrefixFromEnv());
  app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? 3000);
  const host = listenHost(adapter);
  await (host ? app.listen(port, host) : app.listen(port));
  new Logger('Sample').log(`listening on ${httpsOptions ? 'https' : 'http'}://localhost:${port} (${adapter})`);
}

bootstrap().catch((err: unknown) => {
  const message =
    err instanceof SessionConfigError ? err.message : `failed to start: ${(err as Error)?.stack ?? String(err)}`;
  console.error(message);
  process.exit(1);
});
