import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { redisClusterInsStore, redisInsStore } from 'cache-manager-redis-yet';
import { createClient, createCluster } from 'redis';
import type { SessionModuleOptions } from '../lib/index.js';
import { signingOptionsFromEnv } from './signing.config.js';
import { ownRedisClient } from './redis-client.config.js';
import { sessionControlsFromEnv } from './session-controls.config.js';
import { dbscOptionsFromEnv } from './dbsc.config.js';

const logger = new Logger('Sample');

/** A whole, non-negative number from the environment; a typo fails startup instead of meaning 0. */
export function envInteger(name: string, fallback: number, unit = 'a whole number'): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d{1,9}$/.test(raw)) throw new Error(`${name} must be ${unit}, got "${raw}"`);
  return Number(raw);
}

function seconds(name: string, fallback: number): number {
  return envInteger(name, fallback, 'a whole number of seconds');
}

/** Throttled so a long outage does not flood the log. */
function reportRedisError(): (err: Error) => void {
  let last = 0;
  return (err) => {
    if (Date.now() - last < 5000) return;
    last = Date.now();
    logger.warn(`redis: ${err.message}`);
  };
}

/** A Redis that hangs keeps the connection open: without a bound its command queue grows until it reconnects. */
const QUEUE_MAX = 10_000;

/** Redis from REDIS_URL / REDIS_CLUSTER_NODES, or none (the module's in-memory store). */
async function createStore(): Promise<SessionModuleOptions['store']> {
  const own = await ownRedisClient(reportRedisError());
  if (own) return own as SessionModuleOptions['store'];
  const socket = { connectTimeout: 1000, reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1000) };
  if (process.env.REDIS_CLUSTER_NODES) {
    const rootNodes = process.env.REDIS_CLUSTER_NODES.split(',').map((n) => ({ url: `redis://${n.trim()}` }));
    const cluster = createCluster({
      rootNodes,
      defaults: { socket, disableOfflineQueue: true, commandsQueueMaxLength: QUEUE_MAX },
    });
    cluster.on('error', reportRedisError());
    await cluster.connect();
    return redisClusterInsStore(cluster as never, { rootNodes });
  }
  if (process.env.REDIS_URL) {
    const client = createClient({
      url: process.env.REDIS_URL,
      socket,
      disableOfflineQueue: true,
      commandsQueueMaxLength: QUEUE_MAX,
    });
    client.on('error', reportRedisError());
    // Not awaited: the app starts even while Redis is down and answers 503 until it is back.
    client.connect().catch(() => undefined);
    return redisInsStore(client as never);
  }
  return undefined;
}

/** Session options from the environment (see the README's sample section). */
export async function sessionOptionsFromEnv(storeGiven = false): Promise<SessionModuleOptions> {
  let secret = process.env.SESSION_SECRET;
  if (!secret) {
    secret = randomBytes(32).toString('base64url');
    logger.warn('SESSION_SECRET is not set: using a random secret, so sessions end when the process stops');
  }
  const secure = process.env.COOKIE_SECURE !== 'false';
  return {
    secret,
    accessToken: { ttl: seconds('SESSION_ACCESS_TTL', 900), ...signingOptionsFromEnv() },
    idleTimeout: seconds('SESSION_IDLE_TIMEOUT', 1800),
    absoluteTimeout: seconds('SESSION_ABSOLUTE_TIMEOUT', 604800),
    refreshGrace: seconds('SESSION_REFRESH_GRACE', 10),
    cookies: { secure },
    csrf: {
      allowedOrigins: (process.env.SESSION_ALLOWED_ORIGINS ?? '')
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    },
    store: storeGiven ? undefined : await createStore(),
    ...sessionControlsFromEnv(),
    dbsc: dbscOptionsFromEnv(),
  };
}
