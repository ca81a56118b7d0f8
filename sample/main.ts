import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SessionConfigError } from '../lib/index.js';
import { AppModule } from './app.module.js';
import { httpsOptionsFromEnv } from './dbsc.config.js';

async function bootstrap(): Promise<void> {
  const httpsOptions = httpsOptionsFromEnv();
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(), {
    abortOnError: false,
    httpsOptions,
  });
  app.disable('x-powered-by');
  if (process.env.TRUST_PROXY) app.set('trust proxy', process.env.TRUST_PROXY);
  app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port);
  new Logger('Sample').log(`listening on ${httpsOptions ? 'https' : 'http'}://localhost:${port}`);
}

bootstrap().catch((err: unknown) => {
  const message =
    err instanceof SessionConfigError ? err.message : `failed to start: ${(err as Error)?.stack ?? String(err)}`;
  console.error(message);
  process.exit(1);
});
