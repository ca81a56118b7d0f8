/**
 * Every Redis client the module accepts, connected to a Redis the tests started: the card's
 * cache-manager-redis-yet store (node-redis 4), node-redis of the current major, and ioredis;
 * single node or cluster. Test settings: offline queues off, quick reconnects.
 */
import { redisClusterInsStore, redisInsStore } from 'cache-manager-redis-yet';
import { Cluster, Redis } from 'ioredis';
import { createClient as createClient4, createCluster as createCluster4 } from 'redis';
import { createClient, createCluster } from 'redis-current';
import type { RedisClientKind, SessionModuleOptions } from '../../lib/index.js';

export type ClientName = RedisClientKind;
export const CLIENTS: readonly ClientName[] = ['redis-yet', 'node-redis', 'ioredis'];

/** `describe.each(CLIENT_CASES)('... on $client', ({ client }) => ...)`. */
export const CLIENT_CASES = CLIENTS.map((client) => ({ client }));

export interface TestClient {
  name: ClientName;
  /** What the app passes as `store`. */
  store: NonNullable<SessionModuleOptions['store']>;
  /** The client itself (for a redis-yet store, the node-redis 4 client inside it). */
  raw: object;
  close(): Promise<void>;
}

const retry = (attempt: number) => Math.min(20 * 2 ** attempt, 500);
const nodeSocket = { connectTimeout: 1000, reconnectStrategy: retry };
const ioOptions = {
  connectTimeout: 1000,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  retryStrategy: retry,
  lazyConnect: true,
};

interface Closable {
  isOpen: boolean;
  disconnect(): Promise<void>;
}
const closeNodeRedis = (c: Closable) => async () => {
  if (c.isOpen) await c.disconnect().catch(() => undefined);
};
const quietly = <T extends { on(e: 'error', f: () => void): unknown }>(c: T): T => {
  c.on('error', () => undefined);
  return c;
};

/** A connected client of kind `name` on the single redis-server at `url`. */
export async function singleClient(name: ClientName, url: string): Promise<TestClient> {
  if (name === 'redis-yet') {
    const c = quietly(createClient4({ url, socket: nodeSocket, disableOfflineQueue: true }));
    await c.connect();
    return { name, store: redisInsStore(c as never) as never, raw: c, close: closeNodeRedis(c) };
  }
  if (name === 'node-redis') {
    const c = quietly(createClient({ url, socket: nodeSocket, disableOfflineQueue: true }));
    await c.connect();
    return { name, store: c, raw: c, close: closeNodeRedis(c) };
  }
  const c = quietly(new Redis(url, ioOptions));
  await c.connect();
  return { name, store: c, raw: c, close: async () => c.disconnect() };
}

/** A connected cluster client of kind `name` on a test cluster. */
export async function clusterClient(name: ClientName, rootNodes: { url: string }[]): Promise<TestClient> {
  if (name === 'redis-yet') {
    const c = quietly(createCluster4({ rootNodes, defaults: { socket: nodeSocket, disableOfflineQueue: true } }));
    await c.connect();
    return { name, store: redisClusterInsStore(c as never, { rootNodes }) as never, raw: c, close: closeNodeRedis(c) };
  }
  if (name === 'node-redis') {
    const c = quietly(createCluster({ rootNodes, defaults: { socket: nodeSocket, disableOfflineQueue: true } }));
    await c.connect();
    return { name, store: c, raw: c, close: closeNodeRedis(c) };
  }
  const nodes = rootNodes.map((n) => {
    const u = new URL(n.url);
    return { host: u.hostname, port: Number(u.port) };
  });
  const c = quietly(
    new Cluster(nodes, {
      enableOfflineQueue: false,
      lazyConnect: true,
      clusterRetryStrategy: retry,
      redisOptions: ioOptions,
    }),
  );
  await c.connect();
  return { name, store: c, raw: c, close: async () => c.disconnect() };
}
