import { createClient, createCluster } from 'redis';
import { Socket } from 'node:net';
import { existsSync } from 'node:fs';
import { startRedis, startRedisCluster, type RedisClusterProcess, type RedisProcess } from './redis.js';

/** Raw PING so the first test does not depend on the redis client. */
function ping(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    socket.once('error', reject);
    socket.once('data', (d) => {
      socket.destroy();
      resolve(d.toString().trim());
    });
    socket.connect(port, '127.0.0.1', () => socket.write('*1\r\n$4\r\nPING\r\n'));
  });
}

describe('test/utils/redis', () => {
  describe('single server', () => {
    let redis: RedisProcess;
    beforeAll(async () => {
      redis = await startRedis();
    });
    afterAll(() => redis?.stop());

    it('answers PING on the reported port, which is not 6379', async () => {
      expect(redis.port).not.toBe(6379);
      expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
      await expect(ping(redis.port)).resolves.toBe('+PONG');
    });

    it("refuses the machine's own Redis port", async () => {
      await expect(startRedis({ port: 6379 })).rejects.toThrow('refusing to use port 6379');
    });

    it('stop() removes its temp dir', async () => {
      const other = await startRedis();
      expect(existsSync(other.dir)).toBe(true);
      await other.stop();
      expect(existsSync(other.dir)).toBe(false);
    });
  });

  describe('appendonly restart', () => {
    let redis: RedisProcess;
    let client: ReturnType<typeof createClient> | undefined;
    afterAll(async () => {
      await client?.disconnect();
      await redis?.stop();
    });

    it('keeps a key across kill() + restart() on the same port and dir', async () => {
      redis = await startRedis({ appendonly: true });
      client = createClient({ url: redis.url });
      client.on('error', () => {}); // the client sees the kill; reconnect errors are expected
      await client.connect();
      await client.set('survives', 'yes');
      await client.disconnect();

      const oldPid = redis.pid;
      await redis.kill();
      await expect(ping(redis.port)).rejects.toThrow(/ECONNREFUSED/);
      await redis.restart();
      expect(redis.pid).not.toBe(oldPid);

      client = createClient({ url: redis.url });
      await client.connect();
      await expect(client.get('survives')).resolves.toBe('yes');
    });
  });

  describe('cluster', () => {
    let cluster: RedisClusterProcess;
    let client: ReturnType<typeof createCluster> | undefined;
    beforeAll(async () => {
      cluster = await startRedisCluster();
    });
    afterAll(async () => {
      await client?.disconnect();
      await cluster?.stop();
    });

    it('reaches state ok and serves keys on different slots', async () => {
      expect(cluster.nodes).toHaveLength(3);
      expect(cluster.nodes.map((n) => n.port)).not.toContain(6379);
      client = createCluster({ rootNodes: cluster.rootNodes });
      await client.connect();
      for (const key of ['{a}x', '{b}x', '{c}x']) await client.set(key, `v${key}`);
      for (const key of ['{a}x', '{b}x', '{c}x']) await expect(client.get(key)).resolves.toBe(`v${key}`);
      // {a}, {b}, {c} hash to slots owned by three different masters: one key on each node
      for (const node of cluster.rootNodes) {
        const direct = createClient({ url: node.url });
        await direct.connect();
        try {
          await expect(direct.dbSize()).resolves.toBe(1);
        } finally {
          await direct.disconnect();
        }
      }
    });
  });
});
