import { randomBytes } from 'node:crypto';
import type { SessionRecord, ValidatedSession } from '../interfaces/session-record.interface.js';
import type {
  CleanupResult,
  CreateResult,
  NewSession,
  RevokeOthersRequest,
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
import { assertPackable, decodeRecord, type DecodedRecord, packedText } from './redis-record.js';
import {
  CREATE,
  CreateReply,
  LIST,
  LIST_STRIDE,
  LOCK,
  LockReply,
  type LuaScript,
  PRUNE,
  REAUTH,
  RENEW,
  REVOKE,
  REVOKE_ALL,
  REVOKE_OTHERS,
  ROTATE,
  RotateReply,
  TIME,
  UNLOCK,
  VALIDATE,
  ValidateReply,
} from './redis-scripts.js';
import { SessionConfigError, SessionStoreUnavailableError } from '../session.errors.js';
import type { RedisClientInput } from '../interfaces/redis-client.interface.js';
import type { RedisStoreLike } from '../interfaces/session-module-options.interface.js';
import type { RedisClientKind, RedisCommands } from '../redis/redis-commands.js';
import { redisCommandsFor } from '../redis/redis-store-input.js';

const ROLE_SEPARATOR = ',';
const DEFAULT_MAX_PENDING = 10_000;

function isRedisCommands(x: object): x is RedisCommands {
  return typeof (x as RedisCommands).evalScript === 'function' && typeof (x as RedisCommands).masters === 'function';
}
/** Previous refresh digests outlive the grace window by this much before a touch drops them. */
const PREVIOUS_DIGEST_MARGIN_MS = 60_000;
/**
 * The hot path's estimate of Redis time is re-anchored (one script run) at least this often, which
 * bounds what clock drift can add to its error.
 */
export const STORE_CLOCK_MAX_AGE_MS = 10_000;
/** Drift allowed between this process's monotonic clock and Redis's clock: both slewing at NTP's 500 ppm, opposite ways. */
export const STORE_CLOCK_DRIFT = 1e-3;

/**
 * Whose clock decides liveness. `server` (default): Redis TIME inside every script, so replicas
 * with skewed clocks agree. `local`: the `now` the caller passes — only for tests that move one
 * fake clock for every replica at once.
 */
export type RedisClockMode = 'server' | 'local';

export interface RedisRepositoryOptions {
  /** Checked against the client when given (the client decides: a mismatch is a config error). */
  cluster?: boolean;
  keyPrefix: string;
  commandTimeout: number;
  /**
   * Calls in flight at most; past it a call fails at once (503) instead of queueing behind a hung
   * Redis. @default 10000
   */
  maxPendingCommands?: number;
  /** @default 'server' */
  clock?: RedisClockMode;
  /**
   * How `validate` reads. `read` (default): a plain `MGET` of the session and the user's "not
   * before", decided here, and the script only when a touch is due, a deadline is near, or the read
   * cannot decide. `script`: the validation script on every request (before issue 16).
   * @default 'read'
   */
  validation?: 'read' | 'script';
  /**
   * Whether a user's session index expires with its last session (`true`), or has no TTL and is
   * left to the cleanup job, which prunes dead entries and so deletes emptied indexes (`false`:
   * ~40 B less per user with several sessions; an index made while it was false keeps no TTL).
   * The module passes `false` while `cleanup.enabled`.
   * @default true
   */
  indexExpiry?: boolean;
}

/** Redis time as this replica knows it: a reply stamped with TIME, at a point of the monotonic clock. */
interface StoreClockAnchor {
  store: number;
  mono: number;
  /** How far the true Redis time at `mono` can be from `store`: half the round trip, plus TIME's ms floor. */
  error: number;
}

/**
 * Sessions in Redis (single node or cluster). One round trip per operation: a Lua script (EVALSHA,
 * EVAL when the node does not have it yet), or for most validations a plain `MGET`.
 */
export class RedisSessionRepository implements SessionRepository {
  readonly kind: 'redis' | 'redis-cluster';
  /** The Redis commands of the client it was given; the differences between clients live there. */
  readonly commands: RedisCommands;
  private readonly keys: RedisKeys;

  /** `client`: anything the `store` option takes as Redis (cache-manager-redis-yet store, node-redis, ioredis). */
  constructor(client: RedisClientInput | RedisStoreLike | RedisCommands, options: RedisRepositoryOptions) {
    this.commands = isRedisCommands(client) ? client : redisCommandsFor(client);
    this.kind = this.commands.cluster ? 'redis-cluster' : 'redis';
    if (options.cluster !== undefined && options.cluster !== this.commands.cluster) {
      throw new SessionConfigError(
        `the Redis client is ${this.commands.cluster ? 'a cluster' : 'a single-node'} client, but cluster: ${options.cluster} was given`,
      );
    }
    this.keys = new RedisKeys(options.keyPrefix);
    this.timeout = options.commandTimeout;
    this.maxPending = options.maxPendingCommands ?? DEFAULT_MAX_PENDING;
    this.serverClock = (options.clock ?? 'server') === 'server';
    this.plainReads = (options.validation ?? 'read') === 'read';
    this.indexExpiry = options.indexExpiry ?? true;
  }

  /** Which client library carries the calls. */
  get clientKind(): RedisClientKind {
    return this.commands.kind;
  }

  private readonly timeout: number;
  private readonly maxPending: number;
  /** Calls sent and not yet answered, including those whose caller already gave up. */
  private pending = 0;
  private readonly serverClock: boolean;
  private readonly plainReads: boolean;
  private readonly indexExpiry: boolean;
  private anchor: StoreClockAnchor | undefined;

  /** Anchors the store-clock estimate on a quick reply stamped with Redis time (sent at monotonic `sentMono`). */
  private learnAnchor(serverNow: unknown, sentMono: number): void {
    const received = performance.now();
    const trip = received - sentMono;
    if (typeof serverNow === 'number' && trip <= this.timeout / 4) {
      this.anchor = { store: serverNow, mono: (sentMono + received) / 2, error: trip / 2 + 1 };
    }
  }

  /**
   * Redis time now and its error bound: the anchor moved by the monotonic clock (no wall-clock
   * steps of this host), with drift added per ms of age. Undefined when there is no anchor younger
   * than `maxAgeMs` (the hot path's: `STORE_CLOCK_MAX_AGE_MS`).
   */
  private storeNow(maxAgeMs = STORE_CLOCK_MAX_AGE_MS): { now: number; error: number } | undefined {
    const a = this.anchor;
    if (a === undefined) return undefined;
    const age = performance.now() - a.mono;
    if (age > maxAgeMs) return undefined;
    return { now: a.store + age, error: a.error + age * STORE_CLOCK_DRIFT };
  }

  /** The script's `now` argument: '' lets Redis use TIME. */
  private now(callerNow: number): string {
    return this.serverClock ? '' : String(callerNow);
  }

  /**
   * The moment in Redis time after which a write sent now must not happen: the caller gives up
   * at `commandTimeout`, so the script refuses a quarter of it earlier (the estimate's error and
   * the reply's trip). Redis time comes from the hot path's anchor, at any age while its error
   * bound fits in that quarter; else one TIME call re-anchors it first. '' when the store clock is
   * not used (tests) or no quick reply has anchored it.
   */
  private async deadline(routeKey: string): Promise<string> {
    if (!this.serverClock) return '';
    const margin = this.timeout / 4;
    let clock = this.storeNow(Infinity);
    if (clock === undefined || clock.error > margin) {
      const sent = performance.now();
      this.learnAnchor(await this.run(TIME, [routeKey], []), sent);
      clock = this.storeNow(Infinity);
    }
    return clock === undefined || clock.error > margin ? '' : String(Math.floor(clock.now + this.timeout * 0.75));
  }

  private isReady(): boolean {
    return this.commands.isReady();
  }

  /**
   * Bounds every call in time (`commandTimeout`) and in number (`maxPendingCommands`): a dead or
   * hung store answers within the timeout, and the calls piling up behind a hung connection
   * (whatever the client's own queue settings) stop at the cap instead of growing memory.
   */
  private bounded<T>(start: () => Promise<T>): Promise<T> {
    if (this.pending >= this.maxPending)
      return Promise.reject(new SessionStoreUnavailableError('too many calls in flight'));
    this.pending++;
    let work: Promise<T>;
    try {
      work = start();
    } catch (err) {
      work = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const settled = () => {
      this.pending--;
    };
    work.then(settled, settled);
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

  private run(script: LuaScript, keys: string[], args: string[]): Promise<unknown> {
    if (!this.isReady()) return Promise.reject(new SessionStoreUnavailableError('not connected'));
    return this.bounded(() => this.commands.evalScript(script, keys, args));
  }

  async create(s: NewSession): Promise<CreateResult> {
    const roles = s.roles.join(ROLE_SEPARATOR);
    assertPackable('roles', roles);
    assertPackable('impersonator', s.impersonator ?? '');
    // The lifetime travels, not the deadline: the store's clock places it.
    const reply = await this.run(CREATE, this.keys.sessionAndIndex(s.userId, s.id), [
      s.id,
      this.now(s.now),
      String(s.idleTimeoutMs),
      String(s.absoluteExpiresAt - s.now),
      roles,
      packedText(s.userAgent),
      packedText(s.ip),
      s.data === undefined ? '' : JSON.stringify(s.data),
      s.refreshHash,
      String(s.refreshIssuedAt),
      packedText(s.device ?? ''),
      s.maxSessions === undefined ? '' : String(s.maxSessions),
      s.capPolicy ?? '',
      s.impersonator ?? '',
      this.indexExpiry ? '1' : '',
    ]);
    if (!Array.isArray(reply)) throw new SessionStoreUnavailableError('unexpected reply');
    if (reply[0] === CreateReply.refused) return { status: 'refused' };
    return { status: 'created', evicted: (reply as unknown[]).slice(2).map(String) };
  }

  async validate(userId: string, sessionId: string, r: ValidateRequest): Promise<ValidateResult> {
    const keys = this.keys.sessionKeys(userId, sessionId);
    // touchInterval 0 writes on every request: the script it is.
    if (this.plainReads && r.touchIntervalMs > 0 && this.commands.mget !== undefined) {
      const read = await this.validateByRead(keys, sessionId, r);
      if (read !== undefined) return read;
    }
    return this.validateByScript(keys, sessionId, r);
  }

  /**
   * The hot path: one `MGET` of the session key, the user key (a single session lives there) and
   * the user's "not before". Answers only a live session with no touch due, judged on Redis time
   * with its error bound on the unsafe side; anything else (missing, an old-format hash, near a
   * deadline, not-before, touch due, no recent clock anchor) is left to the script, which decides
   * on Redis TIME and writes. So it never keeps a session the script would end.
   */
  private async validateByRead(
    keys: [string, string, string],
    sessionId: string,
    r: ValidateRequest,
  ): Promise<ValidateResult | undefined> {
    if (this.serverClock && this.storeNow() === undefined) return undefined;
    if (!this.isReady()) throw new SessionStoreUnavailableError('not connected');
    const reply = await this.bounded(() => this.commands.mget!(keys));
    if (!Array.isArray(reply) || reply.length !== 3) throw new SessionStoreUnavailableError('unexpected reply');
    const [own, user, notBefore] = reply;
    let rec: DecodedRecord | null = null;
    if (typeof own === 'string') rec = decodeRecord(own);
    else if (typeof user === 'string') {
      rec = decodeRecord(user);
      if (rec?.id !== sessionId) rec = null;
    }
    if (rec === null || rec.c === undefined || rec.l === undefined || rec.a === undefined) return undefined;
    const authTime = rec.t ?? rec.c;
    if (typeof notBefore === 'string' && authTime < Number(notBefore)) return undefined;
    // Taken after the reply: the latest the read can have happened.
    const clock = this.serverClock ? this.storeNow() : { now: r.now, error: 0 };
    if (clock === undefined) return undefined;
    const latest = clock.now + clock.error;
    if (latest >= rec.a || latest >= rec.l + r.idleTimeoutMs || latest - rec.l >= r.touchIntervalMs) return undefined;
    const session: ValidatedSession = {
      roles: rec.r ? rec.r.split(ROLE_SEPARATOR) : [],
      data: rec.d ? (JSON.parse(rec.d) as Record<string, unknown>) : undefined,
      authTime,
      absoluteExpiresAt: rec.a,
    };
    if (rec.m) session.impersonator = rec.m;
    if (rec.k) session.deviceBound = true;
    return { status: 'ok', session };
  }

  private async validateByScript(
    keys: [string, string, string],
    sessionId: string,
    r: ValidateRequest,
  ): Promise<ValidateResult> {
    const sent = performance.now();
    const reply = await this.run(VALIDATE, keys, [
      sessionId,
      this.now(r.now),
      String(r.idleTimeoutMs),
      String(r.touchIntervalMs),
      r.graceMs === undefined ? '' : String(r.graceMs + PREVIOUS_DIGEST_MARGIN_MS),
    ]);
    if (reply === ValidateReply.missing) return { status: 'missing' };
    if (reply === ValidateReply.expired) return { status: 'expired' };
    if (Array.isArray(reply) && reply.length === 2 && reply[0] === ValidateReply.expired) {
      return { status: 'expired', impersonator: String(reply[1]) };
    }
    if (!Array.isArray(reply) || reply.length !== 7) throw new SessionStoreUnavailableError('unexpected reply');
    const [roles, data, authTime, actor, bound, now, absolute] = reply as [
      string,
      string,
      string,
      string,
      string,
      number,
      string,
    ];
    if (this.serverClock) this.learnAnchor(now, sent);
    const session: ValidatedSession = {
      roles: roles ? roles.split(ROLE_SEPARATOR) : [],
      data: data ? (JSON.parse(data) as Record<string, unknown>) : undefined,
      authTime: Number(authTime),
      absoluteExpiresAt: Number(absolute),
    };
    if (actor) session.impersonator = actor;
    if (bound === '1') session.deviceBound = true;
    return { status: 'ok', session };
  }

  async rotate(userId: string, sessionId: string, r: RotateRequest): Promise<RotateResult> {
    const keys = this.keys.sessionKeys(userId, sessionId);
    const deadline = await this.deadline(keys[0]);
    const sentMono = performance.now();
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
    if (this.serverClock) {
      this.learnAnchor(reply[reply.length - 1], sentMono);
    }
    switch (reply[0]) {
      case RotateReply.missing:
        return { status: 'missing' };
      case RotateReply.expired:
        return withActor({ status: 'expired' }, reply);
      case RotateReply.rotated:
      case RotateReply.raced: {
        const [, generation, issuedAt, absolute, roles, actor] = reply as [
          number,
          number,
          number,
          string,
          string,
          string,
        ];
        const result: RotateResult = {
          status: reply[0] === RotateReply.rotated ? 'rotated' : 'raced',
          generation,
          issuedAt,
          absoluteExpiresAt: Number(absolute),
          roles: roles ? roles.split(ROLE_SEPARATOR) : [],
        };
        if (actor) result.impersonator = actor;
        return result;
      }
      case RotateReply.reused:
        return withActor({ status: 'reused' }, reply);
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

  async revokeOthers(userId: string, keepSessionId: string, r: RevokeOthersRequest): Promise<number> {
    const [index, notBefore] = this.keys.userKeys(userId);
    const kept = this.keys.session(userId, keepSessionId);
    const reply = await this.run(
      REVOKE_OTHERS,
      [index, notBefore, kept],
      [this.keys.sessionPrefix(userId), keepSessionId, this.now(r.now), r.notBefore ? String(r.notBefore.ttlMs) : ''],
    );
    return Number(reply);
  }

  async reauthenticate(userId: string, sessionId: string, now: number, idleTimeoutMs: number): Promise<number | null> {
    const reply = await this.run(REAUTH, this.keys.sessionKeys(userId, sessionId), [
      sessionId,
      this.now(now),
      String(idleTimeoutMs),
    ]);
    return typeof reply === 'number' ? reply : null;
  }

  async list(userId: string, now: number, idleTimeoutMs: number): Promise<SessionRecord[]> {
    const reply = await this.run(
      LIST,
      [this.keys.index(userId)],
      [this.keys.sessionPrefix(userId), this.now(now), String(idleTimeoutMs)],
    );
    if (!Array.isArray(reply) || reply.length % LIST_STRIDE !== 0)
      throw new SessionStoreUnavailableError('unexpected reply');
    const out: SessionRecord[] = [];
    for (let i = 0; i < reply.length; i += LIST_STRIDE) {
      const [id, c, l, a, ua, ip, dv, actor] = reply.slice(i, i + LIST_STRIDE) as string[];
      const absoluteExpiresAt = Number(a);
      const record: SessionRecord = {
        id,
        userId,
        createdAt: Number(c),
        lastSeenAt: Number(l),
        expiresAt: Math.min(Number(l) + idleTimeoutMs, absoluteExpiresAt),
        absoluteExpiresAt,
        userAgent: ua,
        ip,
        // Sessions created before labels existed have none: the controller derives one from `ua`.
        ...(dv ? { device: dv } : {}),
      };
      if (actor) record.impersonator = { id: actor };
      out.push(record);
    }
    return out.sort((x, y) => x.createdAt - y.createdAt);
  }

  /** Prunes index entries (and, on a caller clock, single sessions) that are gone: SCAN in bounded batches, every master. */
  async cleanup(now: number, batchSize: number, idleTimeoutMs: number): Promise<CleanupResult> {
    if (!this.isReady()) throw new SessionStoreUnavailableError('not connected');
    const result: CleanupResult = { scanned: 0, removed: 0 };
    const pattern = this.keys.indexPattern();
    for (const node of await this.bounded(() => this.commands.masters())) {
      let cursor = '0';
      do {
        // Single sessions (strings) expire by their TTL at their store-clock deadline; a caller clock needs them scanned.
        const page = await this.bounded(() => node.scan(cursor, pattern, batchSize, this.serverClock ? 'zset' : ''));
        cursor = page.cursor;
        result.scanned += page.keys.length;
        const removed = await Promise.all(
          page.keys.map((k) =>
            this.run(PRUNE, [k], [this.keys.sessionPrefixOfIndex(k), this.now(now), String(idleTimeoutMs)]),
          ),
        );
        for (const n of removed) result.removed += Number(n);
      } while (cursor !== '0');
    }
    return result;
  }

  async ping(): Promise<void> {
    if (!this.isReady()) throw new SessionStoreUnavailableError('not connected');
    const nodes = await this.bounded(() => this.commands.masters());
    await this.bounded(() => Promise.all(nodes.map((n) => n.ping())));
  }

  /**
   * A take that reaches Redis after the caller gave up (stalled store) is refused by the script,
   * so no lock is left behind without an owner; the holder renews it while its pass runs.
   */
  async acquireLock(name: string, ttlMs: number): Promise<SessionLockRelease | null> {
    const key = this.keys.lock(name);
    const owner = randomBytes(16).toString('base64url');
    const deadline = await this.deadline(key);
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

/** `{code, actor, now}` replies: the actor of an impersonation session, when there is one. */
function withActor<T extends { status: 'expired' | 'reused' }>(
  result: T,
  reply: unknown[],
): T & { impersonator?: string } {
  const actor = reply.length === 3 ? reply[1] : undefined;
  return typeof actor === 'string' && actor ? { ...result, impersonator: actor } : result;
}
