/**
 * The three stores the session-control specs run on: memory, a real redis-server and a real
 * 3-master Redis Cluster, all started by the spec file itself.
 */
import { MemorySessionRepository, type SessionAuditEvent, SessionEvents } from '../../lib/index.js';
import type { SessionModuleOptions } from '../../lib/index.js';
import { startRedis, startRedisCluster, type RedisClusterProcess, type RedisProcess } from '../utils/redis.js';
import { type RunningSample, type SampleHooks, startSample } from '../utils/sample-app.js';
import { clusterTestStore, redisTestStore } from '../utils/stores.js';

export type ControlStore = 'memory' | 'redis' | 'redis-cluster';
export const CONTROL_STORES: ControlStore[] = ['memory', 'redis', 'redis-cluster'];

let prefixes = 0;

/** One redis-server and one cluster per spec file, and every sample app started on them. */
export class ControlsHarness {
  private redis: RedisProcess | undefined;
  private cluster: RedisClusterProcess | undefined;
  private readonly closers: Array<() => Promise<void>> = [];

  async start(): Promise<void> {
    [this.redis, this.cluster] = await Promise.all([startRedis(), startRedisCluster()]);
  }

  /** The sample on `store`; each app gets its own key prefix, so apps of one file never share keys. */
  async sample(
    store: ControlStore,
    overrides: Partial<SessionModuleOptions> = {},
    hooks: SampleHooks = {},
  ): Promise<RunningSample> {
    let options: Partial<SessionModuleOptions> = { store: new MemorySessionRepository() };
    if (store !== 'memory') {
      const s =
        store === 'redis' ? await redisTestStore(this.redis!.url) : await clusterTestStore(this.cluster!.rootNodes);
      this.closers.push(s.close);
      options = { store: s.store, redis: { keyPrefix: `ctl${++prefixes}:` } };
    }
    const sample = await startSample({ ...options, ...overrides }, hooks);
    this.closers.push(() => sample.close());
    return sample;
  }

  async stop(): Promise<void> {
    try {
      for (const close of this.closers.splice(0).reverse()) await close();
    } finally {
      await Promise.all([this.redis?.stop(), this.cluster?.stop()]);
    }
  }
}

/** Every audit event the sample emits from now on. */
export function recordEvents(sample: RunningSample): SessionAuditEvent[] {
  const seen: SessionAuditEvent[] = [];
  sample.app.get(SessionEvents).subscribe((e) => seen.push(e));
  return seen;
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** The JSON payload of a JWT (test inspection only). */
export function jwtPayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
}
