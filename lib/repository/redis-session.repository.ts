import { randomBytes } from 'node:crypto';
import type { SessionRecord } from '../interfaces/session-record.interface.js';
import type {
  CleanupResult,
  NewSession,
  RotateRequest,
  RotateResult,
  SessionLockRelease,
  SessionRepository,
  ValidateRequest,
  ValidateResult,
} from '../interfaces/session-repository.interface.js';
import type {
  BindDeviceRequest,
  BindDeviceResult,
  DeviceKeyResult,
  DeviceRefreshRequest,
  DeviceRefreshResult,
} from '../dbsc/device-binding.interface.js';
import { redisBindDevice, redisDeviceKey, redisRefreshDevice } from '../dbsc/redis-device-binding.js';
import { RedisKeys } from './redis-keys.js';
import {
  CREATE,
  LIST,
  LOCK,
  LockReply,
  type LuaScript,
  PRUNE,
  RENEW,
  REVOKE,
  REVOKE_ALL,
  ROTATE,
  RotateReply,
  TIME,
  UNLOCK,
  VALIDATE,
  ValidateReply,
} from './redis-scripts.js';
import { SessionStoreUnavailableError } from '../session.errors.js';
import type { RedisClusterClient, RedisNodeClient } from '../interfaces/redis-client.interface.js';

const ROLE_SEPARATOR = ',';
/** Previous refresh digests outlive the grace window by this much before a touch drops them. */
const PREVIOUS_DIGEST_MARGIN_MS = 60_000;

/**
 * Whose clock decides liveness. `server` (default): Redis TIME inside every script, so replicas
 * with skewed clocks agree. `local`: the `now` the caller passes — only for tests that move one
 * fake clock for every replica at once.
 */
export type RedisClockMode = 'server' | 'local';

export interface RedisRepositoryOptions {
  cluster: boolean;
  keyPrefix: string;
  commandTimeout: number;
  /** @default 'server' */
  clock?: RedisClockMode;
}

/**
 * Sessions in Redis (single node or cluster). One Lua script per operation, one round trip each;
 * scripts run by EVALSHA and fall back to EVAL when the node does not have them yet.
 */
export class RedisSessionRepository implements SessionRepository {
  readonly kind: 'redis' | 'redis-cluster';
  private readonly keys: RedisKeys;

  constructor(
    private readonly client: RedisNodeClient | RedisClusterClient,
    options: RedisRepositoryOptions,
  ) {
    this.kind = options.cluster ? 'redis-cluster' : 'redis';
    this.keys = new RedisKeys(options.keyPrefix);
    this.timeout = options.commandTimeout;
    this.serverClock = (options.clock ?? 'server') === 'server';
    // node-redis emits 'error' on connection loss; with no listener that would crash the process.
    const emitter = client as unknown as {
      on?: (e: string, f: () => void) => void;
      listenerCount?: (e: string) => number;
    };
    if (typeof emitter.on === 'function' && emitter.listenerCount?.('error') === 0)
      emitter.on('error', () => undefined);
  }

  private readonly timeout: number;
  private readonly serverClock: boolean;
  /** Redis TIME minus Date.now(), from the last quick reply that carried it; undefined until known. */
  private offset: number | undefined;

  /** The script's `now` argument: '' lets Redis use TIME. */
  private now(callerNow: number): string {
    return this.serverClock ? '' : String(callerNow);
  }

  /** Learns the offset from a reply stamped with Redis time; only quick replies are precise enough. */
  private learnOffset(serverNow: unknown, sent: number): void {
    const received = Date.now();
    if (typeof serverNow === 'number' && received - sent <= this.timeout / 4) {
      this.offset = serverNow - (sent + received) / 2;
    }
  }

  /**
   * The moment in Redis time after which a write sent now must not happen: the caller gives up
   * at `commandTimeout`, so the script refuses a quarter of it earlier (offset error and the
   * reply's trip). '' when the store clock is not used (tests) or unknown.
   */
  private async deadline(routeKey: string): Promise<{ sent: number; deadline: string }> {
    if (!this.serverClock) return { sent: Date.now(), deadline: '' };
    if (this.offset === undefined) {
      const sent = Date.now();
      this.learnOffset(await this.run(TIME, [routeKey], []), sent);
    }
    const sent = Date.now();
    return this.offset === undefined
      ? { sent, deadline: '' }
      : { sent, deadline: String(Math.floor(sent + this.offset + this.timeout * 0.75)) };
  }

  private isReady(): boolean {
    const c = this.client as { isReady?: boolean; isOpen?: boolean };
    return this.kind === 'redis' ? c.isReady !== false : c.isOpen !== false;
  }

  /** Bounds every call: a dead or hung store answers within `commandTimeout`. */
  private bounded<T>(work: Promise<T>): Promise<T> {
    // One promise and one timer per call (no Promise.race): this runs on every request.
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new SessionStoreUnavailableError('timeout')), this.timeout);
      work.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (err: unknown) => {
          // A rejection after the timeout lands here too, so it is never unhandled.
          clearTimeout(timer);
          reject(
            err instanceof SessionStoreUnavailableError
              ? err
              : new SessionStoreUnavailableError((err as Error)?.message?.slice(0, 120) ?? 'error'),
          );
        },
      );
    });
  }

  private evalScript(script: LuaScript, keys: string[], args: string[]): Promise<unknown> {
    const noScript = (err: Error) => String(err?.message).startsWith('NOSCRIPT');
    if (this.kind === 'redis-cluster') {
      // node-redis 4 routes a cluster EVAL/EVALSHA by its sha, not its first key: the call lands on
      // an arbitrary node and lives on MOVED redirects (often failing). Route by the first key here.
      const cluster = this.client as RedisClusterClient;
      const tail = [String(keys.length), ...keys, ...args];
      return cluster.sendCommand(keys[0], false, ['EVALSHA', script.sha, ...tail]).catch((err: Error) => {
        if (noScript(err)) return cluster.sendCommand(keys[0], false, ['EVAL', script.source, ...tail]);
        throw err;
      });
    }
    const options = { keys, arguments: args };
    return this.client.evalSha(script.sha, options).catch((err: Error) => {
      if (noScript(err)) return this.client.eval(script.source, options);
      throw err;
    });
  }

  private run(script: LuaScript, keys: string[], args: string[]): Promise<unknown> {
    if (!this.isReady()) return Promise.reject(new SessionStoreUnavailableError('not connected'));
    return this.bounded(this.evalScript(script, keys, args));
  }

  async create(s: NewSession): Promise<void> {
    // The lifetime travels, not the deadline: the store's clock places it.
    await this.run(CREATE, this.keys.sessionAndIndex(s.userId, s.id), [
      s.id,
      this.now(s.now),
      String(s.idleTimeoutMs),
      String(s.absoluteExpiresAt - s.now),
      s.roles.join(ROLE_SEPARATOR),
      s.userAgent,
      s.ip,
      s.data === undefined ? '' : JSON.stringify(s.data),
      s.refreshHash,
      String(s.refreshIssuedAt),
    ]);
  }

  async validate(userId: string, sessionId: string, r: ValidateRequest): Promise<ValidateResult> {
    const reply = await this.run(VALIDATE, this.keys.sessionAndIndex(userId, sessionId), [
      sessionId,
      this.now(r.now),
      String(r.idleTimeoutMs),
      String(r.touchIntervalMs),
      r.graceMs === undefined ? '' : String(r.graceMs + PREVIOUS_DIGEST_MARGIN_MS),
    ]);
    if (reply === ValidateReply.missing) return { status: 'missing' };
    if (reply === ValidateReply.expired) return { status: 'expired' };
    if (!Array.isArray(reply) || reply.length < 2) throw new SessionStoreUnavailableError('unexpected reply');
    const [roles, data, bound] = reply as [string, string, string | undefined];
    return {
      status: 'ok',
      session: {
        roles: roles ? roles.split(ROLE_SEPARATOR) : [],
        data: data ? (JSON.parse(data) as Record<string, unknown>) : undefined,
        ...(bound === '1' && { deviceBound: true }),
      },
    };
  }

  async rotate(userId: string, sessionId: string, r: RotateRequest): Promise<RotateResult> {
    const keys = this.keys.sessionAndIndex(userId, sessionId);
    const { sent, deadline } = await this.deadline(keys[0]);
    const reply = await this.run(ROTATE, keys, [
      sessionId,
      this.now(r.now),
      String(r.idleTimeoutMs),
      String(r.graceMs),
      String(r.presentedGeneration),
      r.presentedHash,
      r.nextHash,
      String(r.nextIssuedAt),
      deadline,
    ]);
    if (!Array.isArray(reply)) throw new SessionStoreUnavailableError('unexpected reply');
    if (this.serverClock) this.learnOffset(reply[reply.length - 1], sent);
    switch (reply[0]) {
      case RotateReply.missing:
        return { status: 'missing' };
      case RotateReply.expired:
        return { status: 'expired' };
      case RotateReply.rotated:
      case RotateReply.raced: {
        const [, generation, issuedAt, absolute, roles] = reply as [number, number, number, string, string];
        return {
          status: reply[0] === RotateReply.rotated ? 'rotated' : 'raced',
          generation,
          issuedAt,
          absoluteExpiresAt: Number(absolute),
          roles: roles ? roles.split(ROLE_SEPARATOR) : [],
        };
      }
      case RotateReply.reused:
        return { status: 'reused' };
      case RotateReply.bound:
        return { status: 'bound' };
      case RotateReply.late:
        // The caller had given up (timeout) before the script ran: nothing was consumed.
        throw new SessionStoreUnavailableError('late');
      default:
        return { status: 'invalid' };
    }
  }

  bindDevice(userId: string, sessionId: string, r: BindDeviceRequest): Promise<BindDeviceResult> {
    return redisBindDevice((s, k, a) => this.run(s, k, a), this.keys, this.now(r.now), userId, sessionId, r);
  }

  deviceKey(userId: string, sessionId: string, r: { now: number; idleTimeoutMs: number }): Promise<DeviceKeyResult> {
    return redisDeviceKey((s, k, a) => this.run(s, k, a), this.keys, this.now(r.now), userId, sessionId, r);
  }

  refreshDevice(userId: string, sessionId: string, r: DeviceRefreshRequest): Promise<DeviceRefreshResult> {
    return redisRefreshDevice((s, k, a) => this.run(s, k, a), this.keys, this.now(r.now), userId, sessionId, r);
  }

  async revoke(userId: string, sessionId: string): Promise<boolean> {
    const reply = await this.run(REVOKE, this.keys.sessionAndIndex(userId, sessionId), [sessionId]);
    return reply === 1;
  }

  async revokeAll(userId: string): Promise<number> {
    return Number(await this.run(REVOKE_ALL, [this.keys.index(userId)], [this.keys.sessionPrefix(userId)]));
  }

  async list(userId: string, now: number, idleTimeoutMs: number): Promise<SessionRecord[]> {
    const reply = await this.run(
      LIST,
      [this.keys.index(userId)],
      [this.keys.sessionPrefix(userId), this.now(now), String(idleTimeoutMs)],
    );
    if (!Array.isArray(reply) || reply.length % 6 !== 0) throw new SessionStoreUnavailableError('unexpected reply');
    const out: SessionRecord[] = [];
    for (let i = 0; i < reply.length; i += 6) {
      const [id, c, l, a, ua, ip] = reply.slice(i, i + 6) as string[];
      const absoluteExpiresAt = Number(a);
      out.push({
        id,
        userId,
        createdAt: Number(c),
        lastSeenAt: Number(l),
        expiresAt: Math.min(Number(l) + idleTimeoutMs, absoluteExpiresAt),
        absoluteExpiresAt,
        userAgent: ua,
        ip,
      });
    }
    return out.sort((x, y) => x.createdAt - y.createdAt);
  }

  private async nodes(): Promise<RedisNodeClient[]> {
    if (this.kind === 'redis') return [this.client as RedisNodeClient];
    const cluster = this.client as RedisClusterClient;
    return Promise.all(cluster.masters.map(async (m) => cluster.nodeClient(m)));
  }

  /** Prunes index entries of sessions that are gone, with SCAN in bounded batches, on every master. */
  async cleanup(now: number, batchSize: number, idleTimeoutMs: number): Promise<CleanupResult> {
    if (!this.isReady()) throw new SessionStoreUnavailableError('not connected');
    const result: CleanupResult = { scanned: 0, removed: 0 };
    const pattern = this.keys.indexPattern();
    for (const node of await this.nodes()) {
      let cursor = 0;
      do {
        const page = await this.bounded(node.scan(cursor, { MATCH: pattern, COUNT: batchSize, TYPE: 'zset' }));
        cursor = Number(page.cursor);
        result.scanned += page.keys.length;
        const removed = await Promise.all(
          page.keys.map((k) =>
            this.run(PRUNE, [k], [this.keys.sessionPrefixOfIndex(k), this.now(now), String(idleTimeoutMs)]),
          ),
        );
        for (const n of removed) result.removed += Number(n);
      } while (cursor !== 0);
    }
    return result;
  }

  async ping(): Promise<void> {
    if (!this.isReady()) throw new SessionStoreUnavailableError('not connected');
    const nodes = await this.bounded(this.nodes());
    await this.bounded(Promise.all(nodes.map((n) => n.ping())));
  }

  /**
   * A take that reaches Redis after the caller gave up (stalled store) is refused by the script,
   * so no lock is left behind without an owner; the holder renews it while its pass runs.
   */
  async acquireLock(name: string, ttlMs: number): Promise<SessionLockRelease | null> {
    const key = this.keys.lock(name);
    const owner = randomBytes(16).toString('base64url');
    const { deadline } = await this.deadline(key);
    const taken = await this.run(LOCK, [key], [owner, String(ttlMs), deadline]);
    if (taken === LockReply.late) throw new SessionStoreUnavailableError('late');
    if (taken !== LockReply.taken) return null;
    const release: SessionLockRelease = async () => {
      await this.run(UNLOCK, [key], [owner]);
    };
    release.renew = async () => (await this.run(RENEW, [key], [owner, String(ttlMs)])) === 1;
    return release;
  }
}
