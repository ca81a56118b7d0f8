/**
 * Issue 13: the session-ended signal as a building block (lib/signal), on a real redis-server and
 * a real 3-master cluster (SPUBLISH/SSUBSCRIBE): what subscribers get, local delivery without a
 * round trip, and a lost subscription reported as `lost` then `restored`.
 */
import { MemorySessionSignal, RedisSessionSignal, type SessionSignalMessage } from '../../lib/index.js';
import { redisCommandsFor } from '../../lib/redis/redis-store-input.js';
import { CommandsPubSub } from '../../lib/signal/commands-pubsub.js';
import { NodeRedisPubSub } from '../../lib/signal/node-redis-pubsub.js';
import { createSessionSignal } from '../../lib/signal/session-signal.providers.js';
import { until } from '../ops/ops-helpers.js';
import { clusterClient, singleClient, type TestClient } from '../utils/redis-clients.js';
import { inspector, type RawClient } from '../ops/ops-helpers.js';
import { startRedis, startRedisCluster } from '../utils/redis.js';
import { clusterTestStore, redisTestStore, type TestStore } from '../utils/stores.js';

/** Collects what a subscriber hears and resolves waits for a matching message. */
class Heard {
  readonly messages: SessionSignalMessage[] = [];
  private waiters: Array<{ match: (m: SessionSignalMessage) => boolean; done: (m: SessionSignalMessage) => void }> = [];
  readonly listener = (m: SessionSignalMessage): void => {
    this.messages.push(m);
    for (const w of this.waiters.filter((x) => x.match(m))) {
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.done(m);
    }
  };
  next(match: (m: SessionSignalMessage) => boolean, timeoutMs = 5000): Promise<SessionSignalMessage> {
    const seen = this.messages.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((done, fail) => {
      const timer = setTimeout(() => fail(new Error('no such message')), timeoutMs);
      this.waiters.push({ match, done: (m) => (clearTimeout(timer), done(m)) });
    });
  }
}

describe('MemorySessionSignal', () => {
  it('delivers to every subscriber, and not after unsubscribing', async () => {
    const signal = new MemorySessionSignal();
    const one = new Heard();
    const two = new Heard();
    const off = await signal.subscribe(one.listener);
    await signal.subscribe(two.listener);
    await signal.publish({ userId: 'u1', sessionId: 's1', reason: 'logout' });
    off();
    await signal.publish({ userId: 'u1', sessionId: null, reason: 'logout_all' });
    expect(one.messages).toEqual([{ kind: 'ended', userId: 'u1', sessionId: 's1', reason: 'logout' }]);
    expect(two.messages).toHaveLength(2);
    expect(two.messages[1]).toEqual({ kind: 'ended', userId: 'u1', sessionId: null, reason: 'logout_all' });
  });
});

const TOPOLOGIES = [
  {
    name: 'one redis-server',
    cluster: false,
    start: async () => {
      const redis = await startRedis();
      return { stores: [await redisTestStore(redis.url), await redisTestStore(redis.url)], urls: [redis.url], redis };
    },
  },
  {
    name: 'a 3-master cluster',
    cluster: true,
    start: async () => {
      const redis = await startRedisCluster();
      return {
        stores: [await clusterTestStore(redis.rootNodes), await clusterTestStore(redis.rootNodes)],
        urls: redis.rootNodes.map((n) => n.url),
        redis,
      };
    },
  },
];

describe.each(TOPOLOGIES)('RedisSessionSignal on $name', ({ cluster, start }) => {
  let env: Awaited<ReturnType<typeof start>>;
  let signals: RedisSessionSignal[];
  let nodes: RawClient[];

  beforeAll(async () => {
    env = await start();
    // A short heartbeat, so a silent loss shows within a test's patience.
    signals = env.stores.map(
      (s: TestStore) => new RedisSessionSignal(new NodeRedisPubSub(s.client, cluster), 'sig:session-ended', 200),
    );
    nodes = await Promise.all(env.urls.map((u) => inspector(u)));
  });
  afterAll(async () => {
    for (const s of signals ?? []) await s.close();
    for (const s of env?.stores ?? []) await s.close();
    for (const n of nodes ?? []) await n.disconnect();
    await env?.redis.stop();
  });

  it('another replica hears {userId, sessionId | null, reason}; the publisher hears it at once', async () => {
    const here = new Heard();
    const there = new Heard();
    await signals[0].subscribe(here.listener);
    await signals[1].subscribe(there.listener);
    const published = signals[0].publish({ userId: 'u-alice', sessionId: 'sid-1', reason: 'logout' });
    // Local delivery happened before the publish's round trip.
    expect(here.messages).toContainEqual({ kind: 'ended', userId: 'u-alice', sessionId: 'sid-1', reason: 'logout' });
    await published;
    await expect(there.next((m) => m.kind === 'ended' && m.sessionId === 'sid-1')).resolves.toEqual({
      kind: 'ended',
      userId: 'u-alice',
      sessionId: 'sid-1',
      reason: 'logout',
    });
    await signals[1].publish({ userId: 'u-bob', sessionId: null, reason: 'logout_all' });
    await expect(here.next((m) => m.kind === 'ended' && m.userId === 'u-bob')).resolves.toMatchObject({
      sessionId: null,
      reason: 'logout_all',
    });
    // Each message once: the publisher does not hear its own publication back from Redis.
    expect(here.messages.filter((m) => m.kind === 'ended' && m.sessionId === 'sid-1')).toHaveLength(1);
  });

  it('a killed subscriber connection is reported as lost, then restored, and delivery resumes', async () => {
    const heard = new Heard();
    await signals[1].subscribe(heard.listener);
    for (const n of nodes) await n.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
    await heard.next((m) => m.kind === 'lost');
    await heard.next((m) => m.kind === 'restored');
    await signals[0].publish({ userId: 'u-carol', sessionId: 'sid-9', reason: 'theft' });
    await expect(heard.next((m) => m.kind === 'ended' && m.userId === 'u-carol')).resolves.toMatchObject({
      reason: 'theft',
    });
  });
});

/**
 * The user's own node-redis (current major) or ioredis client: the signal goes through the
 * client-neutral RedisCommands, and a lost subscription shows through the self-heartbeat.
 */
const OWN_CLIENTS = (['node-redis', 'ioredis'] as const).flatMap((client) => [
  { name: `${client}, one redis-server`, client, cluster: false },
  { name: `${client}, a 3-master cluster`, client, cluster: true },
]);

describe.each(OWN_CLIENTS)('RedisSessionSignal on the own client: $name', ({ client, cluster }) => {
  let stop: () => Promise<void>;
  let clients: TestClient[];
  let signals: RedisSessionSignal[];
  let nodes: RawClient[];

  beforeAll(async () => {
    if (cluster) {
      const redis = await startRedisCluster();
      clients = [await clusterClient(client, redis.rootNodes), await clusterClient(client, redis.rootNodes)];
      nodes = await Promise.all(redis.rootNodes.map((n) => inspector(n.url)));
      stop = () => redis.stop();
    } else {
      const redis = await startRedis();
      clients = [await singleClient(client, redis.url), await singleClient(client, redis.url)];
      nodes = [await inspector(redis.url)];
      stop = () => redis.stop();
    }
    // What the module builds for this client, with a short heartbeat so a silent loss shows quickly.
    signals = clients.map((c) => {
      const commands = redisCommandsFor(c.store);
      const pubsub =
        commands.kind === 'node-redis' ? new NodeRedisPubSub(c.store, commands.cluster) : new CommandsPubSub(commands);
      return new RedisSessionSignal(pubsub, 'sig:own:session-ended', 200);
    });
  });
  afterAll(async () => {
    for (const s of signals ?? []) await s.close();
    for (const c of clients ?? []) await c.close();
    for (const n of nodes ?? []) await n.disconnect();
    await stop?.();
  });

  it('the module picks the Redis signal for this client', () => {
    const resolved = { redis: { keyPrefix: 'sig:' } } as Parameters<typeof createSessionSignal>[1];
    expect(createSessionSignal({ store: clients[0].store }, resolved)).toBeInstanceOf(RedisSessionSignal);
  });

  it('another replica hears the session end; after a killed subscriber connection delivery resumes (single node: reported lost → restored)', async () => {
    const there = new Heard();
    await signals[0].subscribe(new Heard().listener);
    await signals[1].subscribe(there.listener);
    await signals[0].publish({ userId: 'u-alice', sessionId: 'sid-1', reason: 'logout' });
    await expect(there.next((m) => m.kind === 'ended' && m.sessionId === 'sid-1')).resolves.toMatchObject({
      userId: 'u-alice',
      reason: 'logout',
    });
    for (const n of nodes) await n.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
    if (!cluster) {
      // The client reports the drop and the re-subscription. On these clients' clusters a shard
      // connection's drop is not reported: only a gap longer than two heartbeats shows as lost.
      await there.next((m) => m.kind === 'lost');
      await there.next((m) => m.kind === 'restored');
    }
    await until('the re-subscribed replica to hear a publication', async () => {
      await signals[0].publish({ userId: 'u-dave', sessionId: 'sid-probe', reason: 'logout' });
      return there.messages.some((m) => m.kind === 'ended' && m.userId === 'u-dave');
    });
    await signals[0].publish({ userId: 'u-carol', sessionId: 'sid-9', reason: 'theft' });
    await expect(there.next((m) => m.kind === 'ended' && m.userId === 'u-carol')).resolves.toMatchObject({
      reason: 'theft',
    });
  });
});
