import { randomBytes } from 'node:crypto';
import type { createCluster } from 'redis';
import { startRedisCluster, type RedisClusterProcess } from '../../test/utils/redis.js';
import { clusterTestStore, type TestStore } from '../../test/utils/stores.js';
import type { NewSession, SessionRepository } from '../interfaces/session-repository.interface.js';
import { type RedisClockMode, RedisSessionRepository } from './redis-session.repository.js';
import { describeRepositoryContract } from '../testing/index.js';
import { ContractKit, TRICKY_USER_IDS } from '../testing/repository-contract.js';
import { describeRedisInternals, type RawRedis } from './redis-internals.contract.js';
import { RedisKeys } from './redis-keys.js';
import { SessionStoreUnavailableError } from '../session.errors.js';

type Cluster = ReturnType<typeof createCluster>;

const COMMAND_TIMEOUT = 300;

let cluster: RedisClusterProcess;
let stores: TestStore[];

beforeAll(async () => {
  cluster = await startRedisCluster();
  // Two cluster clients: races in the contract cross connections.
  stores = await Promise.all([0, 1].map(() => clusterTestStore(cluster.rootNodes)));
}, 60_000);
afterAll(async () => {
  await Promise.all((stores ?? []).map((s) => s.close()));
  await cluster?.stop();
});

/** `local` clock by default: the contract moves time by hand with explicit `now`s. */
const repository = (
  store: TestStore,
  keyPrefix: string,
  commandTimeout = 2000,
  clock: RedisClockMode = 'local',
): SessionRepository =>
  new RedisSessionRepository(store.client, {
    cluster: true,
    keyPrefix,
    commandTimeout,
    clock,
  });

function fixture() {
  const keyPrefix = `t-${randomBytes(6).toString('hex')}:`;
  const [main, ...others] = stores;
  return {
    repo: repository(main, keyPrefix),
    peers: others.map((s) => repository(s, keyPrefix)),
    serverClock: (commandTimeout?: number) => repository(main, keyPrefix, commandTimeout, 'server'),
    raw: main.client as unknown as RawRedis,
    keys: new RedisKeys(keyPrefix),
    teardown: async () => undefined,
  };
}

describeRepositoryContract('redis cluster (3 masters)', async () => fixture());
describeRedisInternals('redis cluster (3 masters)', async () => fixture());

describe('RedisSessionRepository on a cluster: slots', () => {
  const client = () => stores[0].client as Cluster;
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
  it('rejects with SessionStoreUnavailableError within about commandTimeout', async () => {
    const repo = repository(stores[0], 'fail:', COMMAND_TIMEOUT);
    const kit = new ContractKit(repo, Date.now());
    const s = await kit.create({ userId: 'u-fail' });
    expect(await kit.status(s, kit.base + 1)).toBe('ok');
    await cluster.stop();
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
      if (elapsed > COMMAND_TIMEOUT + 700) throw new Error(`${name} took ${elapsed} ms to fail`);
    }
  });
});
