import { randomBytes } from 'node:crypto';
import type { createCluster } from 'redis';
import { startRedisCluster, type RedisClusterProcess } from '../../test/utils/redis.js';
import { CLIENT_CASES, clusterClient, type TestClient } from '../../test/utils/redis-clients.js';
import { clusterTestStore, type TestStore } from '../../test/utils/stores.js';
import type { NewSession, SessionRepository } from '../interfaces/session-repository.interface.js';
import type { RedisStoreLike } from '../interfaces/session-module-options.interface.js';
import { type RedisClockMode, RedisSessionRepository } from './redis-session.repository.js';
import { describeRepositoryContract } from '../testing/index.js';
import { ContractKit, TRICKY_USER_IDS } from '../testing/repository-contract.js';
import { describeRedisInternals, type RawRedis } from './redis-internals.contract.js';
import { RedisKeys } from './redis-keys.js';
import { SessionStoreUnavailableError } from '../session.errors.js';

type Cluster = ReturnType<typeof createCluster>;

const COMMAND_TIMEOUT = 300;

let cluster: RedisClusterProcess;
/** node-redis 4 cluster client for grey-box reads and slot checks, whatever client is under test. */
let inspector: TestStore;
const stores: Record<string, TestClient[]> = {};

beforeAll(async () => {
  cluster = await startRedisCluster();
  inspector = await clusterTestStore(cluster.rootNodes);
  // Two cluster clients of each kind: races in the contract cross connections.
  for (const { client } of CLIENT_CASES)
    stores[client] = await Promise.all([0, 1].map(() => clusterClient(client, cluster.rootNodes)));
}, 60_000);
afterAll(async () => {
  await Promise.all(
    Object.values(stores)
      .flat()
      .map((s) => s.close()),
  );
  await inspector?.close();
  await cluster?.stop();
});

/** `local` clock by default: the contract moves time by hand with explicit `now`s. */
const repository = (
  store: TestClient,
  keyPrefix: string,
  commandTimeout = 2000,
  clock: RedisClockMode = 'local',
): SessionRepository =>
  new RedisSessionRepository(store.store as RedisStoreLike, {
    cluster: true,
    keyPrefix,
    commandTimeout,
    clock,
  });

function fixture(client: string = 'redis-yet') {
  const keyPrefix = `t-${randomBytes(6).toString('hex')}:`;
  const [main, ...others] = stores[client];
  return {
    repo: repository(main, keyPrefix),
    peers: others.map((s) => repository(s, keyPrefix)),
    serverClock: (commandTimeout?: number) => repository(main, keyPrefix, commandTimeout, 'server'),
    raw: inspector.client as unknown as RawRedis,
    keys: new RedisKeys(keyPrefix),
    teardown: async () => undefined,
  };
}

describe.each(CLIENT_CASES)('RedisSessionRepository on a cluster, $client', ({ client }) => {
  describeRepositoryContract(`redis cluster (3 masters, ${client})`, async () => fixture(client));
  describeRedisInternals(`redis cluster (3 masters, ${client})`, async () => fixture(client));

  it('cleanup reaches every master', async () => {
    const { repo, keys } = fixture(client);
    const kit = new ContractKit(repo, Date.now());
    const users = Array.from({ length: 30 }, (_, n) => `reach-${n}`);
    const masters = new Set<string>();
    for (const userId of users) {
      masters.add((inspector.client as Cluster).getSlotMaster(await keySlotOf(keys.index(userId))).address);
      await kit.create({ userId, absoluteExpiresAt: kit.base + 60_000 });
    }
    expect(masters.size).toBe(3);
    expect(await repo.cleanup(kit.base + 120_000, 5, 30 * 60_000)).toEqual({
      scanned: users.length,
      removed: users.length,
    });
  });
});

async function keySlotOf(key: string): Promise<number> {
  const c = inspector.client as Cluster;
  return (await c.nodeClient(c.masters[0])).clusterKeySlot(key);
}

describe('RedisSessionRepository on a cluster: slots', () => {
  const client = () => inspector.client as Cluster;
  const keySlot = async (key: string) => (await client().nodeClient(client().masters[0])).clusterKeySlot(key);

  it('puts every key of one user in one slot, for tricky user ids too', async () => {
    const keys = new RedisKeys('slots:');
    for (const userId of [...TRICKY_USER_IDS, 'alice', 'u-1']) {
      const sid = randomBytes(16).toString('base64url');
      const slots = new Set([
        await keySlot(keys.session(userId, sid)),
        await keySlot(keys.session(userId, 'another-session-id-xx')),
        await keySlot(keys.index(userId)),
      ]);
      if (slots.size !== 1) throw new Error(`user ${JSON.stringify(userId)} spans slots ${[...slots].join(', ')}`);
    }
  });

  it('spreads different users over the masters, and cleanup reaches every master', async () => {
    const { repo, keys } = fixture();
    const kit = new ContractKit(repo, Date.now());
    const users = Array.from({ length: 30 }, (_, n) => `spread-${n}`);
    const masters = new Set<string>();
    const sessions: NewSession[] = [];
    for (const userId of users) {
      masters.add(client().getSlotMaster(await keySlot(keys.index(userId))).address);
      sessions.push(await kit.create({ userId, absoluteExpiresAt: kit.base + 60_000 }));
    }
    expect(masters.size).toBe(3);
    const result = await repo.cleanup(kit.base + 120_000, 5, 30 * 60_000);
    expect(result).toEqual({ scanned: users.length, removed: users.length });
    for (const s of sessions) expect(await kit.listIds(s.userId, kit.base + 120_000)).toEqual([]);
  });
});

// Last: it stops the cluster.
describe('RedisSessionRepository on a cluster when the cluster stops', () => {
  it('rejects with SessionStoreUnavailableError within about commandTimeout, on every client', async () => {
    const kits = await Promise.all(
      CLIENT_CASES.map(async ({ client }) => {
        const repo = repository(stores[client][0], 'fail:', COMMAND_TIMEOUT);
        const kit = new ContractKit(repo, Date.now());
        const s = await kit.create({ userId: 'u-fail' });
        expect(await kit.status(s, kit.base + 1)).toBe('ok');
        return { client, repo, kit, s };
      }),
    );
    await cluster.stop();
    for (const { client, repo, kit, s } of kits) {
      const ops: [string, () => Promise<unknown>][] = [
        ['validate', () => kit.validate(s, kit.base + 2)],
        ['rotate', () => kit.rotate(s, kit.base + 2, 0, s.refreshHash)],
        ['create', () => kit.create({ userId: 'u-fail' })],
        ['list', () => repo.list(s.userId, kit.base + 2, 60_000)],
        ['revokeAll', () => repo.revokeAll(s.userId)],
        ['ping', () => repo.ping()],
        ['cleanup', () => repo.cleanup(kit.base + 2, 100, 60_000)],
      ];
      for (const [name, op] of ops) {
        const started = Date.now();
        await expect(op()).rejects.toBeInstanceOf(SessionStoreUnavailableError);
        const elapsed = Date.now() - started;
        if (elapsed > COMMAND_TIMEOUT + 700) throw new Error(`${client}: ${name} took ${elapsed} ms to fail`);
      }
    }
  });
});
