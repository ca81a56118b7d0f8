/**
 * One bench peer as a Nest 12 app on Express, chosen by BENCH_PEER, on 127.0.0.1:PORT.
 * Started (and pinned to a CPU) by bench/run.mjs; stops cleanly on SIGTERM so --cpu-prof can write.
 */
import 'reflect-metadata';
import { type DynamicModule, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { BareModule } from './bare.js';
import { env, redisClient, type RedisClient } from './common.js';
import { ExpressSessionModule } from './express-session.js';
import { MinimalModule } from './minimal.js';
import { ModulePeer } from './module.js';
import { PassportJwtModule } from './passport-jwt.js';

async function build(peer: string): Promise<{ module: Type | DynamicModule; client?: RedisClient }> {
  switch (peer) {
    case 'bare':
      return { module: BareModule };
    case 'passport-jwt':
      return { module: PassportJwtModule.register(true) };
    case 'passport-jwt-string':
      return { module: PassportJwtModule.register(false) };
    case 'express-session': {
      return { module: ExpressSessionModule, client: await redisClient() };
    }
    case 'minimal':
    case 'minimal-headers': {
      const client = await redisClient();
      return { module: MinimalModule.register(client), client };
    }
    case 'module':
    case 'module-passport':
    case 'module-with-interceptor': {
      const client = await redisClient();
      const guard = peer === 'module' ? 'authenticated' : peer === 'module-passport' ? 'passport' : 'with-interceptor';
      return { module: ModulePeer.register(client, guard), client };
    }
    case 'module-cached': {
      // The local validation cache with its defaults (issue 16); bench/invalidation.mjs sets a longer staleness bound.
      const client = await redisClient();
      const staleness = Number(process.env.BENCH_CACHE_STALENESS);
      const localCache = Number.isFinite(staleness) && staleness > 0 ? { maxStaleness: staleness } : true;
      return { module: ModulePeer.register(client, 'authenticated', { localCache }), client };
    }
    default:
      throw new Error(`unknown BENCH_PEER "${peer}"`);
  }
}

const { module, client } = await build(env.peer);
const app = await NestFactory.create<NestExpressApplication>(module, { abortOnError: false });
app.disable('x-powered-by');
if (env.peer === 'express-session') ExpressSessionModule.configure(app, client!);
await app.listen(env.port, '127.0.0.1');

let closing = false;
process.on('SIGTERM', () => {
  if (closing) return;
  closing = true;
  void (async () => {
    await app.close();
    if (client?.isOpen) await client.quit();
    process.exit(0);
  })();
});
