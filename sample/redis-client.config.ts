/**
 * REDIS_CLIENT: which client the sample hands the module. `redis-yet` (default) is the
 * cache-manager-redis-yet store built in session.config.ts; `node-redis` (current major) and
 * `ioredis` are built here, each on REDIS_URL or REDIS_CLUSTER_NODES. The module takes each as it is.
 */
import { Cluster, Redis } from 'ioredis';
import { createClient, createCluster } from 'redis-current';

export type SampleRedisClient = 'redis-yet' | 'node-redis' | 'ioredis';

const CLIENTS: readonly SampleRedisClient[] = ['redis-yet', 'node-redis', 'ioredis'];
/** A Redis that hangs keeps the connection open: without a bound its command queue grows until it reconnects. */
const QUEUE_MAX = 10_000;
const retryMs = (attempt: number) => Math.min(50 * 2 ** attempt, 1000);

/** REDIS_CLIENT, checked: a typo stops startup instead of silently choosing the default. */
export function sampleRedisClient(): SampleRedisClient {
  const raw = process.env.REDIS_CLIENT || 'redis-yet';
  if (!(CLIENTS as readonly string[]).includes(raw))
    throw new Error(`REDIS_CLIENT must be one of ${CLIENTS.join(', ')}, got "${raw}"`);
  return raw as SampleRedisClient;
}

/**
 * A node-redis or ioredis client from the environment, or undefined for `redis-yet` or without
 * Redis. Offline queues off: while disconnected a call fails at once (the module answers 503).
 */
export async function ownRedisClient(onError: (err: Error) => void): Promise<object | undefined> {
  const kind = sampleRedisClient();
  const clusterNodes = process.env.REDIS_CLUSTER_NODES?.split(',').map((n) => n.trim());
  const url = process.env.REDIS_URL;
  if (kind === 'redis-yet' || (!clusterNodes && !url)) return undefined;

  if (kind === 'node-redis') {
    const socket = { connectTimeout: 1000, reconnectStrategy: retryMs };
    const options = { socket, disableOfflineQueue: true, commandsQueueMaxLength: QUEUE_MAX };
    if (clusterNodes) {
      const cluster = createCluster({
        rootNodes: clusterNodes.map((n) => ({ url: `redis://${n}` })),
        defaults: options,
      });
      cluster.on('error', onError);
      await cluster.connect();
      return cluster;
    }
    const client = createClient({ url, ...options });
    client.on('error', onError);
    // Not awaited: the app starts even while Redis is down and answers 503 until it is back.
    client.connect().catch(() => undefined);
    return client;
  }

  const redisOptions = {
    connectTimeout: 1000,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: retryMs,
  };
  if (clusterNodes) {
    const nodes = clusterNodes.map((n) => {
      const [host, port] = n.split(':');
      return { host: host, port: Number(port) };
    });
    const cluster = new Cluster(nodes, {
      enableOfflineQueue: false,
      lazyConnect: true,
      clusterRetryStrategy: retryMs,
      redisOptions,
    });
    cluster.on('error', onError);
    await cluster.connect();
    return cluster;
  }
  // Connects on its own (not awaited), as above.
  const client = new Redis(url!, redisOptions);
  client.on('error', onError);
  return client;
}
