import { randomBytes } from 'node:crypto';
import { startRedis, type RedisProcess } from '../../test/utils/redis.js';
import { CLIENT_CASES, singleClient, type TestClient } from '../../test/utils/redis-clients.js';
import { redisTestStore, type TestStore } from '../../test/utils/stores.js';
import type { RedisStoreLike } from '../interfaces/session-module-options.interface.js';
import { type RedisClockMode, RedisSessionRepository } from './redis-session.repository.js';
import { describeRepositoryContract } from '../testing/index.js';
import { eventually, randomHash, randomSid } from '../testing/repository-contract.js';
import { describeRedisInternals, type RawRedis } from './redis-internals.contract.js';
import type { SessionRepository } from '../interfaces/session-repository.interface.js';
import { RedisKeys } from './redis-keys.js';
import { SessionStoreUnavailableError } from '../session.errors.js';

const COMMAND_TIMEOUT = 300;

let redis: RedisProcess;
/** node-redis 4 connections for grey-box reads, whatever client the repository under test uses. */
let inspector: TestStore;

beforeAll(async () => {
  redis = await startRedis();
  inspector = await redisTestStore(redis.url);
});
afterAll(async () => {
  await inspector?.close();
  await redis?.stop();
});

/** `local` clock by default: the contract moves time by hand with explicit `now`s. */
const repository = (
  client: TestClient,
  keyPrefix: string,
  commandTimeout = 2000,
  clock: RedisClockMode = 'local',
): SessionRepository =>
  new RedisSessionRepository(client.store as RedisStoreLike, {
    cluster: false,
    keyPrefix,
    commandTimeout,
    clock,
  });

describe.each(CLIENT_CASES)('RedisSessionRepository on $client', ({ client }) => {
  let clients: TestClient[];

  beforeAll(async () => {
    // Three connections: races in the contract cross connections, not just one pipeline.
    clients = await Promise.all([0, 1, 2].map(() => singleClient(client, redis.url)));
  });
  afterAll(async () => {
    await Promise.all((clients ?? []).map((c) => c.close()));
  });

  /** A fresh key prefix per test keeps tests apart on the shared server. */
  function fixture() {
    const keyPrefix = `t-${randomBytes(6).toString('hex')}:`;
    const [main, ...others] = clients;
    return {
      repo: repository(main, keyPrefix),
      peers: others.map((c) => repository(c, keyPrefix)),
      serverClock: (commandTimeout?: number) => repository(main, keyPrefix, commandTimeout, 'server'),
      raw: inspector.client as unknown as RawRedis,
      keys: new RedisKeys(keyPrefix),
      teardown: async () => undefined,
    };
  }

  describeRepositoryContract(`redis (single node, ${client})`, async () => fixture());
  describeRedisInternals(`redis (single node, ${client})`, async () => fixture());

  describe('when Redis fails', () => {
    let own: RedisProcess;
    let store: TestClient;
    let repo: SessionRepository;

    beforeAll(async () => {
      own = await startRedis();
      store = await singleClient(client, own.url);
      repo = repository(store, 'fail:', COMMAND_TIMEOUT);
    });
    afterAll(async () => {
      await store?.close();
      await own?.stop();
    });

    const session = (now: number) => ({
      id: randomSid(),
      userId: 'u-fail',
      roles: ['user'],
      userAgent: '',
      ip: '',
      data: undefined,
      now,
      idleTimeoutMs: 60_000,
      absoluteExpiresAt: now + 3_600_000,
      refreshHash: randomHash(),
      refreshIssuedAt: Math.floor(now / 1000),
      device: '',
    });

    /** Runs `op` and returns how long it took to reject with SessionStoreUnavailableError. */
    async function rejectsFast(op: () => Promise<unknown>): Promise<number> {
      const started = Date.now();
      await expect(op()).rejects.toBeInstanceOf(SessionStoreUnavailableError);
      return Date.now() - started;
    }

    it('a hung server (SIGSTOP) is cut off after about commandTimeout, and the repository recovers on SIGCONT', async () => {
      const s = session(Date.now());
      await repo.create(s);
      process.kill(own.pid, 'SIGSTOP');
      try {
        const elapsed = await rejectsFast(() =>
          repo.validate(s.userId, s.id, { now: s.now + 1, idleTimeoutMs: 60_000, touchIntervalMs: 1000 }),
        );
        expect(elapsed).toBeGreaterThanOrEqual(COMMAND_TIMEOUT - 20);
        expect(elapsed).toBeLessThan(COMMAND_TIMEOUT + 700);
        expect(await rejectsFast(() => repo.ping())).toBeLessThan(COMMAND_TIMEOUT + 700);
        expect(await rejectsFast(() => repo.cleanup(s.now, 100, 60_000))).toBeLessThan(COMMAND_TIMEOUT + 700);
      } finally {
        process.kill(own.pid, 'SIGCONT');
      }
      const ok = await eventually(
        async () =>
          (await repo.validate(s.userId, s.id, { now: s.now + 2, idleTimeoutMs: 60_000, touchIntervalMs: 1000 }))
            .status === 'ok',
      );
      expect(ok).toBe(true);
    });

    it('a stopped server makes every operation reject with SessionStoreUnavailableError within commandTimeout', async () => {
      const now = Date.now();
      const s = session(now);
      await repo.create(s);
      await own.stop();
      const ops: [string, () => Promise<unknown>][] = [
        ['create', () => repo.create(session(now))],
        [
          'validate',
          () => repo.validate(s.userId, s.id, { now: now + 1, idleTimeoutMs: 60_000, touchIntervalMs: 1000 }),
        ],
        [
          'rotate',
          () =>
            repo.rotate(s.userId, s.id, {
              now: now + 1,
              idleTimeoutMs: 60_000,
              graceMs: 1000,
              presentedGeneration: 0,
              presentedHash: s.refreshHash,
              nextHash: randomHash(),
              nextIssuedAt: s.refreshIssuedAt + 1,
            }),
        ],
        ['revoke', () => repo.revoke(s.userId, s.id)],
        ['revokeAll', () => repo.revokeAll(s.userId)],
        ['list', () => repo.list(s.userId, now + 1, 60_000)],
        ['cleanup', () => repo.cleanup(now + 1, 100, 60_000)],
        ['ping', () => repo.ping()],
        ['acquireLock', () => repo.acquireLock('cleanup', 1000)],
      ];
      for (const [name, op] of ops) {
        const elapsed = await rejectsFast(op);
        if (elapsed > COMMAND_TIMEOUT + 700) throw new Error(`${name} took ${elapsed} ms to fail`);
      }
      // Back on the same port (empty: no persistence), the same client reconnects on its own.
      await own.restart();
      await eventually(async () => (await repo.ping(), true), 10_000);
      const fresh = session(Date.now());
      await repo.create(fresh);
      expect(
        (
          await repo.validate(fresh.userId, fresh.id, {
            now: fresh.now + 1,
            idleTimeoutMs: 60_000,
            touchIntervalMs: 1000,
          })
        ).status,
      ).toBe('ok');
    });
  });
});
