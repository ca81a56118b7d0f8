import { redisClusterInsStore, redisInsStore } from 'cache-manager-redis-yet';
import { createClient, createCluster } from 'redis';
import { MemorySessionRepository, type RedisStoreLike, type SessionModuleOptions } from '../../lib/index.js';
import { startRedis } from './redis.js';

/** A connected cache-manager-redis-yet store plus a way to close its connection. */
export interface TestStore {
  store: RedisStoreLike;
  /** The raw node-redis client (single node or cluster). */
  client: ReturnType<typeof createClient> | ReturnType<typeof createCluster>;
  close(): Promise<void>;
}

const socket = { connectTimeout: 1000, reconnectStrategy: (retries: number) => Math.min(20 * 2 ** retries, 500) };

/** A store on a single redis-server the tests started (never a shared one). */
export async function redisTestStore(url: string): Promise<TestStore> {
  const client = createClient({ url, socket, disableOfflineQueue: true });
  client.on('error', () => undefined);
  await client.connect();
  return {
    store: redisInsStore(client as never) as unknown as RedisStoreLike,
    client,
    close: async () => {
      if (client.isOpen) await client.disconnect();
    },
  };
}

/** A store on a test cluster. */
export async function clusterTestStore(rootNodes: { url: string }[]): Promise<TestStore> {
  const cluster = createCluster({ rootNodes, defaults: { socket, disableOfflineQueue: true } });
  cluster.on('error', () => undefined);
  await cluster.connect();
  return {
    store: redisClusterInsStore(cluster as never, { rootNodes }) as unknown as RedisStoreLike,
    client: cluster,
    close: async () => {
      if (cluster.isOpen) await cluster.disconnect();
    },
  };
}

/** A store a spec repeats on: module options, and how to release what it started. */
export interface StoreCell {
  name: string;
  setup: () => Promise<{ options: Partial<SessionModuleOptions>; close(): Promise<void> }>;
}

/** The memory store and a fresh redis-server of the spec's own. */
export const MEMORY_AND_REDIS: StoreCell[] = [
  {
    name: 'memory',
    setup: async () => ({ options: { store: new MemorySessionRepository() }, close: async () => undefined }),
  },
  {
    name: 'redis',
    setup: async () => {
      const redis = await startRedis();
      const store = await redisTestStore(redis.url);
      return {
        options: { store: store.store },
        close: async () => {
          await store.close();
          await redis.stop();
        },
      };
    },
  },
];
