import type {
  BindDeviceRequest,
  BindDeviceResult,
  DeviceKeyResult,
  DeviceRefreshRequest,
  DeviceRefreshResult,
} from '../dbsc/device-binding.interface.js';
import type { SessionRecord } from '../interfaces/session-record.interface.js';
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

interface MemorySession {
  createdAt: number;
  lastSeenAt: number;
  absoluteExpiresAt: number;
  roles: string[];
  userAgent: string;
  ip: string;
  device: string;
  data: Record<string, unknown> | undefined;
  generation: number;
  hash: string;
  issuedAt: number;
  /** Digests of the last generations, newest first, with when each was rotated out. */
  previous: { hash: string; rotatedAt: number }[];
  /** Last login or re-authentication, epoch ms. */
  authTime: number;
  impersonator: string | undefined;
  /** DBSC: the device key (stored form) and when the last accepted challenge was issued. */
  deviceKey?: { key: string; challengeIssuedAt: number };
}

/** As the Redis scripts: a tab this many rotations behind, inside the grace window, gets the successor. */
const PREVIOUS_GENERATIONS = 3;

/**
 * The embedded default: same behaviour as the Redis repository, for one process.
 * Each method runs synchronously to its end, which gives the same atomicity as a Lua script.
 */
export class MemorySessionRepository implements SessionRepository {
  readonly kind = 'memory';
  private readonly users = new Map<string, Map<string, MemorySession>>();
  private readonly locks = new Map<string, { owner: symbol; until: number }>();
  /** Per user: sessions authenticated before this time (ms) are dead, until `until`. */
  private readonly notBefore = new Map<string, { at: number; until: number }>();

  async create(s: NewSession): Promise<CreateResult> {
    let evicted: string[] = [];
    if (s.maxSessions !== undefined) {
      const room = this.makeRoom(s);
      if (room === null) return { status: 'refused' };
      evicted = room;
    }
    let sessions = this.users.get(s.userId);
    if (!sessions) this.users.set(s.userId, (sessions = new Map<string, MemorySession>()));
    sessions.set(s.id, {
      createdAt: s.now,
      lastSeenAt: s.now,
      absoluteExpiresAt: s.absoluteExpiresAt,
      roles: [...s.roles],
      userAgent: s.userAgent,
      ip: s.ip,
      device: s.device,
      data: s.data === undefined ? undefined : structuredClone(s.data),
      generation: 0,
      hash: s.refreshHash,
      issuedAt: s.refreshIssuedAt,
      previous: [],
      authTime: s.now,
      impersonator: s.impersonator || undefined,
    });
    return { status: 'created', evicted };
  }

  /** As the CREATE script: drops dead sessions, then those nearest their deadline (or refuses: null). */
  private makeRoom(s: NewSession): string[] | null {
    const live: Array<[string, MemorySession]> = [];
    for (const id of [...(this.users.get(s.userId)?.keys() ?? [])]) {
      const found = this.live(s.userId, id, s.now, s.idleTimeoutMs);
      if (typeof found !== 'string') live.push([id, found]);
    }
    const over = live.length - (s.maxSessions ?? Infinity) + 1;
    if (over <= 0) return [];
    if (s.capPolicy === 'refuse') return null;
    // As the Redis index score: the nearest deadline first (least recently used, or at its absolute end).
    const deadline = (m: MemorySession) => Math.min(m.lastSeenAt + s.idleTimeoutMs, m.absoluteExpiresAt);
    live.sort(([x, a], [y, b]) => deadline(a) - deadline(b) || (x < y ? -1 : x > y ? 1 : 0));
    const evicted = live.slice(0, over).map(([id]) => id);
    for (const id of evicted) this.drop(s.userId, id);
    return evicted;
  }

  /** The session if it is still alive at `now`; an expired one is removed. */
  private live(
    userId: string,
    sessionId: string,
    now: number,
    idleTimeoutMs: number,
  ): MemorySession | 'missing' | 'expired' {
    const sessions = this.users.get(userId);
    const s = sessions?.get(sessionId);
    if (!sessions || !s) return 'missing';
    if (now >= s.absoluteExpiresAt || now >= s.lastSeenAt + idleTimeoutMs) {
      this.drop(userId, sessionId);
      return 'expired';
    }
    const nb = this.notBefore.get(userId);
    if (nb && nb.until > now && s.authTime < nb.at) {
      this.drop(userId, sessionId);
      return 'missing';
    }
    return s;
  }

  private drop(userId: string, sessionId: string): boolean {
    const sessions = this.users.get(userId);
    const existed = sessions?.delete(sessionId) ?? false;
    if (sessions && sessions.size === 0) this.users.delete(userId);
    return existed;
  }

  async validate(
    userId: string,
    sessionId: string,
    { now, idleTimeoutMs, touchIntervalMs }: ValidateRequest,
  ): Promise<ValidateResult> {
    const actor = this.users.get(userId)?.get(sessionId)?.impersonator;
    const s = this.live(userId, sessionId, now, idleTimeoutMs);
    if (s === 'expired' && actor) return { status: s, impersonator: actor };
    if (typeof s === 'string') return { status: s };
    if (now - s.lastSeenAt >= touchIntervalMs) s.lastSeenAt = now;
    return {
      status: 'ok',
      session: {
        roles: [...s.roles],
        data: s.data === undefined ? undefined : structuredClone(s.data),
        authTime: s.authTime,
        absoluteExpiresAt: s.absoluteExpiresAt,
        ...(s.impersonator ? { impersonator: s.impersonator } : {}),
        ...(s.deviceKey && { deviceBound: true }),
      },
    };
  }

  async rotate(userId: string, sessionId: string, r: RotateRequest): Promise<RotateResult> {
    const actor = this.users.get(userId)?.get(sessionId)?.impersonator;
    const s = this.live(userId, sessionId, r.now, r.idleTimeoutMs);
    if (s === 'expired' && actor) return { status: s, impersonator: actor };
    if (typeof s === 'string') return { status: s };
    if (s.deviceKey) return { status: 'bound' };
    const answer = (status: 'rotated' | 'raced'): RotateResult => ({
      status,
      generation: s.generation,
      issuedAt: s.issuedAt,
      absoluteExpiresAt: s.absoluteExpiresAt,
      roles: [...s.roles],
      ...(s.impersonator ? { impersonator: s.impersonator } : {}),
    });
    if (r.presentedGeneration === s.generation && r.presentedHash === s.hash) {
      s.previous = [{ hash: s.hash, rotatedAt: r.now }, ...s.previous].slice(0, PREVIOUS_GENERATIONS);
      s.generation += 1;
      s.hash = r.nextHash;
      s.issuedAt = r.nextIssuedAt;
      s.lastSeenAt = r.now;
      return answer('rotated');
    }
    const back = s.generation - r.presentedGeneration;
    const previous = back >= 1 ? s.previous[back - 1] : undefined;
    if (previous && r.presentedHash === previous.hash && r.now - previous.rotatedAt <= r.graceMs) {
      s.lastSeenAt = r.now;
      return answer('raced');
    }
    if (r.presentedGeneration < s.generation) {
      this.drop(userId, sessionId);
      return s.impersonator ? { status: 'reused', impersonator: s.impersonator } : { status: 'reused' };
    }
    return { status: 'invalid' };
  }

  async bindDevice(userId: string, sessionId: string, r: BindDeviceRequest): Promise<BindDeviceResult> {
    const s = this.live(userId, sessionId, r.now, r.idleTimeoutMs);
    if (typeof s === 'string') return s;
    if (s.deviceKey) return 'already_bound';
    s.deviceKey = { key: r.key, challengeIssuedAt: 0 };
    s.lastSeenAt = r.now;
    return 'bound';
  }

  async deviceKey(
    userId: string,
    sessionId: string,
    r: { now: number; idleTimeoutMs: number },
  ): Promise<DeviceKeyResult> {
    const s = this.live(userId, sessionId, r.now, r.idleTimeoutMs);
    if (typeof s === 'string') return { status: s };
    if (!s.deviceKey) return { status: 'unbound' };
    // As the Redis script: always after the last accepted challenge, so two in one millisecond still order.
    return { status: 'ok', key: s.deviceKey.key, now: Math.max(r.now, s.deviceKey.challengeIssuedAt + 1) };
  }

  async refreshDevice(userId: string, sessionId: string, r: DeviceRefreshRequest): Promise<DeviceRefreshResult> {
    const s = this.live(userId, sessionId, r.now, r.idleTimeoutMs);
    if (typeof s === 'string') return s;
    if (s.deviceKey?.key !== r.key) return 'unbound';
    if (r.challengeIssuedAt <= s.deviceKey.challengeIssuedAt) return 'replayed';
    const age = r.now - r.challengeIssuedAt;
    if (age > r.challengeMaxAgeMs || -age > r.challengeMaxAgeMs) return 'stale';
    s.deviceKey.challengeIssuedAt = r.challengeIssuedAt;
    s.lastSeenAt = r.now;
    return 'ok';
  }

  async revoke(userId: string, sessionId: string): Promise<boolean> {
    return this.drop(userId, sessionId);
  }

  async revokeAll(userId: string): Promise<number> {
    const n = this.users.get(userId)?.size ?? 0;
    this.users.delete(userId);
    return n;
  }

  async revokeOthers(userId: string, keepSessionId: string, r: RevokeOthersRequest): Promise<number> {
    let n = 0;
    for (const id of [...(this.users.get(userId)?.keys() ?? [])]) {
      if (id !== keepSessionId && this.drop(userId, id)) n += 1;
    }
    if (r.notBefore) {
      this.notBefore.set(userId, { at: r.now, until: r.now + r.notBefore.ttlMs });
      const kept = this.users.get(userId)?.get(keepSessionId);
      if (kept) kept.authTime = r.now;
    }
    return n;
  }

  async reauthenticate(userId: string, sessionId: string, now: number, idleTimeoutMs: number): Promise<number | null> {
    const s = this.live(userId, sessionId, now, idleTimeoutMs);
    if (typeof s === 'string') return null;
    s.authTime = now;
    return now;
  }

  async list(userId: string, now: number, idleTimeoutMs: number): Promise<SessionRecord[]> {
    const out: SessionRecord[] = [];
    for (const id of [...(this.users.get(userId)?.keys() ?? [])]) {
      const s = this.live(userId, id, now, idleTimeoutMs);
      if (typeof s === 'string') continue;
      out.push({
        id,
        userId,
        createdAt: s.createdAt,
        lastSeenAt: s.lastSeenAt,
        expiresAt: Math.min(s.lastSeenAt + idleTimeoutMs, s.absoluteExpiresAt),
        absoluteExpiresAt: s.absoluteExpiresAt,
        userAgent: s.userAgent,
        ip: s.ip,
        device: s.device,
        ...(s.impersonator ? { impersonator: { id: s.impersonator } } : {}),
      });
    }
    return out.sort((x, y) => x.createdAt - y.createdAt);
  }

  /** Removes sessions past their deadline: the memory store has no TTLs to do it. */
  async cleanup(now: number, batchSize: number, idleTimeoutMs: number): Promise<CleanupResult> {
    const result: CleanupResult = { scanned: 0, removed: 0 };
    for (const [userId, nb] of [...this.notBefore]) if (nb.until <= now) this.notBefore.delete(userId);
    let sinceYield = 0;
    for (const [userId, sessions] of [...this.users]) {
      result.scanned += 1;
      for (const [id, s] of [...sessions]) {
        if (now >= s.absoluteExpiresAt || now >= s.lastSeenAt + idleTimeoutMs) {
          this.drop(userId, id);
          result.removed += 1;
        }
      }
      // Yield between batches so a big pass never blocks request handling for long.
      if (++sinceYield >= batchSize) {
        sinceYield = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    return result;
  }

  async ping(): Promise<void> {}

  async acquireLock(name: string, ttlMs: number): Promise<SessionLockRelease | null> {
    const now = Date.now();
    if ((this.locks.get(name)?.until ?? 0) > now) return null;
    const owner = Symbol(name);
    this.locks.set(name, { owner, until: now + ttlMs });
    const release: SessionLockRelease = async () => {
      // Only the owner releases: after the ttl lapsed someone else may hold the lock.
      if (this.locks.get(name)?.owner === owner) this.locks.delete(name);
    };
    release.renew = async () => {
      const lock = this.locks.get(name);
      if (lock?.owner !== owner || lock.until <= Date.now()) return false;
      lock.until = Date.now() + ttlMs;
      return true;
    };
    return release;
  }

  /** Number of stored sessions (tests and diagnostics). */
  size(): number {
    let n = 0;
    for (const sessions of this.users.values()) n += sessions.size;
    return n;
  }
}
