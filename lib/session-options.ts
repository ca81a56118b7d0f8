import type { SessionModuleOptions } from './interfaces/session-module-options.interface.js';
import type { SessionCapPolicy } from './interfaces/session-repository.interface.js';
import type { SessionAuditEvent } from './interfaces/session-event.interface.js';
import { normaliseOrigin } from './csrf/origin.js';
import { assertStrongSecret } from './secret-strength.js';
import { type SessionKeyMaterial, resolveSessionKeys } from './session-keys.js';
import { type SessionClock, SYSTEM_CLOCK } from './session-clock.js';
import { SessionConfigError } from './session.errors.js';
import { type ResolvedMetricsOptions, resolveMetricsOptions } from './metrics/session-metrics-options.js';

/** Options after defaults, validation and key derivation. Built once at startup. */
export interface ResolvedSessionOptions extends SessionKeyMaterial {
  accessTtl: number;
  idleTimeoutMs: number;
  absoluteTimeoutMs: number;
  graceMs: number;
  touchIntervalMs: number;
  clockTolerance: number;
  cookies: {
    secure: boolean;
    accessName: string;
    refreshName: string;
    accessSameSite: 'Strict' | 'Lax' | 'None';
    refreshSameSite: 'Strict' | 'Lax' | 'None';
    domain: string | undefined;
    clearSiteData: boolean;
    refreshPath: string;
  };
  csrf: { enabled: boolean; headerName: string; allowedOrigins: Set<string> };
  cleanup: { enabled: boolean; cron: string; batchSize: number };
  /** `clock`: `SessionClock.store`. */
  redis: { keyPrefix: string; commandTimeout: number; clock: 'server' | 'local'; maxPendingCommands: number };
  silentRenewal: number;
  requireHttps: boolean;
  /** `SessionClock.now`. */
  clock: () => number;
  onEvent: ((event: SessionAuditEvent) => void) | undefined;
  routePrefix: string;
  /** `refreshPath` as given; the path really used comes from `SessionRoutes` (http/session-routes.ts). */
  refreshPathOption: string | undefined;
  maxSessionsPerUser: number;
  sessionCapPolicy: SessionCapPolicy;
  /** Seconds. */
  freshAge: number;
  impersonationTimeoutMs: number;
  /** null: metrics off. */
  metrics: ResolvedMetricsOptions | null;
  /** Off: `false`. */
  localCache: { maxEntries: number; maxStalenessMs: number } | false;
}

/** The cap keeps every per-user script short: its cost grows with the sessions a user holds. */
const MAX_SESSION_CAP = 1000;

function sessionControls(options: SessionModuleOptions) {
  const max = options.maxSessionsPerUser ?? 50;
  if (!Number.isInteger(max) || max < 1 || max > MAX_SESSION_CAP) {
    throw new SessionConfigError(`maxSessionsPerUser must be an integer between 1 and ${MAX_SESSION_CAP}`);
  }
  const policy = options.sessionCapPolicy ?? 'evict-oldest';
  if (policy !== 'evict-oldest' && policy !== 'refuse') {
    throw new SessionConfigError("sessionCapPolicy must be 'evict-oldest' or 'refuse'");
  }
  const freshAge = positive(options.freshAge, 300, 'freshAge');
  const impersonation = positive(options.impersonationTimeout, 3600, 'impersonationTimeout');
  if (impersonation > 3600) throw new SessionConfigError('impersonationTimeout must be at most 3600 seconds');
  return {
    maxSessionsPerUser: max,
    sessionCapPolicy: policy,
    freshAge,
    impersonationTimeoutMs: impersonation * 1000,
  } as const;
}

/** `localCache`: `true` takes the defaults; bounds keep a typo from turning the cache into a leak or a no-op. */
function localCache(option: SessionModuleOptions['localCache']): ResolvedSessionOptions['localCache'] {
  if (option === undefined || option === false) return false;
  const o = option === true ? {} : option;
  if (typeof o !== 'object' || o === null) throw new SessionConfigError('localCache must be a boolean or an object');
  const maxEntries = o.maxEntries ?? 10_000;
  if (!Number.isInteger(maxEntries) || maxEntries < 1 || maxEntries > 10_000_000) {
    throw new SessionConfigError('localCache.maxEntries must be an integer between 1 and 10000000');
  }
  const staleness = o.maxStaleness ?? 5;
  if (!Number.isFinite(staleness) || staleness < 0.05 || staleness > 60) {
    throw new SessionConfigError('localCache.maxStaleness must be between 0.05 and 60 seconds');
  }
  return { maxEntries, maxStalenessMs: Math.round(staleness * 1000) };
}

function positive(value: number | undefined, fallback: number, what: string): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v <= 0) throw new SessionConfigError(`${what} must be a positive number of seconds`);
  return v;
}

function cookieName(name: string | undefined, fallback: string, what: string): string {
  const n = name ?? fallback;
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(n))
    throw new SessionConfigError(`${what} "${n}" is not a valid cookie name`);
  return n;
}

/**
 * Applies defaults, validates and derives keys. Throws `SessionConfigError` with what to fix.
 * `clock` is internal (tests move time through the `SESSION_CLOCK` provider).
 */
export function resolveSessionOptions(
  options: SessionModuleOptions,
  routePrefix = 'auth',
  clock: SessionClock = SYSTEM_CLOCK,
): ResolvedSessionOptions {
  const master = options.secret === undefined ? undefined : assertStrongSecret(options.secret, '`secret`');

  const accessTtl = positive(options.accessToken?.ttl, 900, 'accessToken.ttl');
  // exp = iat + ttl must be a whole second, or every issued token fails its own exp check.
  if (!Number.isInteger(accessTtl)) throw new SessionConfigError('accessToken.ttl must be a whole number of seconds');
  const idle = positive(options.idleTimeout, 1800, 'idleTimeout');
  const absolute = positive(options.absoluteTimeout, 604800, 'absoluteTimeout');
  const grace = options.refreshGrace ?? 10;
  if (!Number.isFinite(grace) || grace < 0 || grace > 300) {
    throw new SessionConfigError('refreshGrace must be between 0 and 300 seconds');
  }
  if (accessTtl >= idle) {
    throw new SessionConfigError(`accessToken.ttl (${accessTtl}s) must be shorter than idleTimeout (${idle}s)`);
  }
  if (idle > absolute) {
    throw new SessionConfigError(`idleTimeout (${idle}s) must not exceed absoluteTimeout (${absolute}s)`);
  }
  const touch = options.touchInterval ?? idle / 10;
  if (!Number.isFinite(touch) || touch < 0 || touch >= idle) {
    throw new SessionConfigError('touchInterval must be between 0 and idleTimeout');
  }
  const clockTolerance = options.clockTolerance ?? 5;
  if (!Number.isFinite(clockTolerance) || clockTolerance < 0 || clockTolerance > 60) {
    throw new SessionConfigError('clockTolerance must be between 0 and 60 seconds');
  }

  const { access, refreshKey, csrfKey, logKey } = resolveSessionKeys(options, master);

  const c = options.cookies ?? {};
  const secure = c.secure ?? true;
  const cleanPrefix = routePrefix.replace(/^\/+|\/+$/g, '');
  const cookies = {
    secure,
    accessName: cookieName(c.accessName, secure ? '__Host-session' : 'session', 'cookies.accessName'),
    refreshName: cookieName(c.refreshName, secure ? '__Secure-refresh' : 'refresh', 'cookies.refreshName'),
    accessSameSite: c.accessSameSite ?? 'Lax',
    refreshSameSite: c.refreshSameSite ?? 'Strict',
    domain: c.domain,
    clearSiteData: c.clearSiteData ?? true,
    refreshPath: `/${cleanPrefix}${cleanPrefix ? '/' : ''}refresh`,
  } as const;
  for (const [name, what] of [
    [cookies.accessName, 'cookies.accessName'],
    [cookies.refreshName, 'cookies.refreshName'],
  ] as const) {
    if ((name.startsWith('__Host-') || name.startsWith('__Secure-')) && !secure) {
      throw new SessionConfigError(
        `${what} "${name}" needs cookies.secure (browsers drop prefixed cookies without Secure)`,
      );
    }
    if (name.startsWith('__Host-') && cookies.domain) {
      throw new SessionConfigError(`${what} "${name}" cannot be used with cookies.domain (__Host- forbids Domain)`);
    }
  }
  if (cookies.refreshName.startsWith('__Host-')) {
    throw new SessionConfigError('cookies.refreshName cannot use __Host- (the refresh cookie is scoped to its path)');
  }
  if ((cookies.accessSameSite === 'None' || cookies.refreshSameSite === 'None') && !secure) {
    throw new SessionConfigError('SameSite=None needs cookies.secure (browsers reject it otherwise)');
  }
  if (cookies.accessName === cookies.refreshName)
    throw new SessionConfigError('access and refresh cookie names must differ');

  const allowedOrigins = new Set<string>();
  for (const o of options.csrf?.allowedOrigins ?? []) {
    const parsed = normaliseOrigin(o);
    if ('problem' in parsed)
      throw new SessionConfigError(`csrf.allowedOrigins entry ${JSON.stringify(o)} ${parsed.problem}`);
    allowedOrigins.add(parsed.origin);
  }
  const headerName = (options.csrf?.headerName ?? 'x-csrf-token').toLowerCase();

  const batchSize = options.cleanup?.batchSize ?? 500;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10000) {
    throw new SessionConfigError('cleanup.batchSize must be an integer between 1 and 10000');
  }
  const commandTimeout = options.redis?.commandTimeout ?? 1000;
  if (!Number.isFinite(commandTimeout) || commandTimeout <= 0) {
    throw new SessionConfigError('redis.commandTimeout must be a positive number of milliseconds');
  }
  const maxPendingCommands = options.redis?.maxPendingCommands ?? 10_000;
  if (!Number.isInteger(maxPendingCommands) || maxPendingCommands < 1) {
    throw new SessionConfigError('redis.maxPendingCommands must be a positive integer');
  }
  if (typeof clock?.now !== 'function' || (clock.store !== 'server' && clock.store !== 'local')) {
    throw new SessionConfigError("the session clock needs now() and a store of 'server' or 'local'");
  }
  const silentRenewal = options.silentRenewal ?? 0;
  if (!Number.isFinite(silentRenewal) || silentRenewal < 0 || silentRenewal >= accessTtl) {
    throw new SessionConfigError('silentRenewal must be between 0 and accessToken.ttl');
  }

  return {
    accessTtl,
    idleTimeoutMs: idle * 1000,
    absoluteTimeoutMs: absolute * 1000,
    graceMs: grace * 1000,
    touchIntervalMs: touch * 1000,
    clockTolerance,
    access,
    refreshKey,
    csrfKey,
    logKey,
    cookies,
    csrf: { enabled: options.csrf?.enabled ?? true, headerName, allowedOrigins },
    cleanup: {
      enabled: options.cleanup?.enabled ?? true,
      cron: options.cleanup?.cron ?? '0 * * * * *',
      batchSize,
    },
    redis: { keyPrefix: options.redis?.keyPrefix ?? 'sess:', commandTimeout, clock: clock.store, maxPendingCommands },
    silentRenewal,
    requireHttps: options.requireHttps ?? false,
    clock: clock.now,
    onEvent: options.onEvent,
    routePrefix: cleanPrefix,
    refreshPathOption: options.refreshPath,
    ...sessionControls(options),
    metrics: resolveMetricsOptions(options.metrics),
    localCache: localCache(options.localCache),
  };
}
