import { Controller, Get, UnauthorizedException } from '@nestjs/common';
import { createClient } from 'redis';

/** Everything a bench server learns from the orchestrator, through the environment. */
export const env = {
  peer: process.env.BENCH_PEER ?? 'bare',
  port: Number(process.env.PORT ?? 0),
  redisUrl: process.env.REDIS_URL ?? '',
  /** Every key a bench server writes starts with this, so a shared Redis is never disturbed. */
  prefix: process.env.BENCH_PREFIX ?? 'bench:',
  /** Exposes POST /bench/cleanup (cleanup-tick scenario only). */
  admin: process.env.BENCH_ADMIN === '1',
};

/** The one password every bench user has: logins measure session work, not password hashing. */
export const BENCH_PASSWORD = 'bench-password';

/** `user-7@bench` → `user-7`; refuses anything else with the same 401 for both failures. */
export function checkLogin(body: unknown): string {
  const { email, password } = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (typeof email !== 'string' || password !== BENCH_PASSWORD || !/^[\w-]{1,64}@bench$/.test(email)) {
    throw new UnauthorizedException();
  }
  return email.slice(0, email.indexOf('@'));
}

/** A node-redis v4 client, the same library and settings for every peer that uses Redis. */
export async function redisClient() {
  if (!env.redisUrl) throw new Error('REDIS_URL is required for this peer');
  const client = createClient({ url: env.redisUrl, disableOfflineQueue: true });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

export type RedisClient = Awaited<ReturnType<typeof redisClient>>;

/** Readiness probe the orchestrator polls; unauthenticated in every peer. */
@Controller()
export class HealthController {
  @Get('health')
  health() {
    return { ok: true };
  }
}

/** The body every peer's `GET /me` answers. */
export function meBody(id: string) {
  return { id };
}
