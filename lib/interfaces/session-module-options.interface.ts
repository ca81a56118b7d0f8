import type { KeyObject } from 'node:crypto';
import type { SessionDbscOptions } from '../dbsc/dbsc-options.js';
import type { SessionMetricsOptions } from '../metrics/session-metrics-options.js';
import type { RedisClientInput, RedisClusterClient, RedisNodeClient } from './redis-client.interface.js';
import type { SessionCapPolicy, SessionRepository } from './session-repository.interface.js';
import type { SessionAuditEvent } from './session-event.interface.js';

/** Access-token signing algorithms the module supports. HS256 is the default; EdDSA means Ed25519. */
export type AccessTokenAlgorithm = 'HS256' | 'RS256' | 'PS256' | 'ES256' | 'EdDSA';

/** Key material: a string, bytes or a `crypto` KeyObject (PEM strings for asymmetric keys). */
export type KeyInput = string | Buffer | KeyObject;

/** A verification key kept only to accept tokens signed before a key rotation. */
export interface PreviousAccessKey {
  /** The `kid` the old tokens carry. */
  kid: string;
  /** Secret (HS256) or public key (asymmetric) the old tokens were signed with. */
  key: KeyInput;
}

/** How access tokens are signed and checked. */
export interface AccessTokenOptions {
  /** @default 'HS256' */
  algorithm?: AccessTokenAlgorithm;
  /** Lifetime in seconds. Must be shorter than the idle timeout. @default 900 */
  ttl?: number;
  /** `iss` claim; when set it is required on verify. Use one per environment. */
  issuer?: string;
  /** `aud` claim; when set it is required on verify. Use one per environment. */
  audience?: string;
  /** Explicit HMAC secret for HS256 (otherwise derived from `secret` with HKDF). At least 32 bytes. */
  secret?: KeyInput;
  /** Private key for RS256 / PS256 / ES256. */
  privateKey?: KeyInput;
  /** Public key for RS256 / PS256 / ES256. */
  publicKey?: KeyInput;
  /** `kid` put in the header of new tokens (needed for rotation). */
  kid?: string;
  /** Old keys still accepted until the tokens they signed expire. */
  previousKeys?: PreviousAccessKey[];
  /**
   * Keys announced before they start signing (asymmetric: public keys). They are published in the
   * JWKS and already accepted, so a rolling deploy that switches `kid` to one of them never has a
   * replica refuse the tokens of another. Needs `kid`.
   */
  nextKeys?: PreviousAccessKey[];
}

/** Cookie transport settings (browser clients). */
export interface SessionCookieOptions {
  /** Send cookies with `Secure`. `false` only for plain-HTTP development (drops the name prefixes). @default true */
  secure?: boolean;
  /** @default 'Lax' */
  accessSameSite?: 'Strict' | 'Lax' | 'None';
  /** @default 'Strict' */
  refreshSameSite?: 'Strict' | 'Lax' | 'None';
  /** Access cookie name. @default '__Host-session' ('session' when `secure` is false) */
  accessName?: string;
  /** Refresh cookie name. @default '__Secure-refresh' ('refresh' when `secure` is false) */
  refreshName?: string;
  /** Cookie `Domain`. Not allowed with a `__Host-` name. */
  domain?: string;
  /**
   * Send `Clear-Site-Data: "cookies"` on a cookie logout (logout, logout-all, revoking the own
   * session). Browsers then drop every cookie of the registrable domain, including other
   * subdomains' cookies: turn it off when apps share that domain. @default true
   */
  clearSiteData?: boolean;
}

/** CSRF protection for cookie-authenticated requests. */
export interface SessionCsrfOptions {
  /** @default true */
  enabled?: boolean;
  /** Request header that carries the token. @default 'x-csrf-token' */
  headerName?: string;
  /**
   * Extra origins allowed to send unsafe requests (the request's own origin is always allowed),
   * written `scheme://host[:port]`: `https://app.example.com`, `capacitor://localhost`. Compared
   * as written after normalisation (lower-case scheme and host, default http/https ports dropped);
   * an entry with a path, query, userinfo, or `null` refuses to start. `Origin: null` is never allowed.
   */
  allowedOrigins?: string[];
}

/** Scheduled pruning of expired entries. */
export interface SessionCleanupOptions {
  /** @default true */
  enabled?: boolean;
  /** Cron expression for the job. @default '0 * * * * *' (every minute) */
  cron?: string;
  /** Keys examined per SCAN step. @default 500 */
  batchSize?: number;
}

/** Redis-specific tuning. */
export interface SessionRedisOptions {
  /** Prefix for every key the module writes. @default 'sess:' */
  keyPrefix?: string;
  /** Upper bound for one store call in ms; past it the request answers 503. @default 1000 */
  commandTimeout?: number;
  /**
   * Store calls in flight at most, per app instance; past it a request answers 503 at once
   * instead of queueing behind a hung Redis, whatever the client's own queue settings. @default 10000
   */
  maxPendingCommands?: number;
}

/**
 * The per-replica validation cache (`localCache`). Each replica keeps recently validated sessions
 * in memory and hears every change over the session-ended signal (Redis pub/sub).
 * @publicApi
 */
export interface SessionLocalCacheOptions {
  /** Sessions held per replica (least recently used dropped first). @default 10000 */
  maxEntries?: number;
  /**
   * Seconds an entry may be served after it was last read from the store, even if a change
   * message was lost (may be fractional, 0.05–60). Hot entries are re-read in the background
   * at half of it. @default 5
   */
  maxStaleness?: number;
}

/**
 * Options for `SessionModule.forRoot()` / `forRootAsync()`.
 * @publicApi
 */
export interface SessionModuleOptions {
  /**
   * Master secret (≥ 32 bytes, random). Access, refresh and CSRF keys are derived from it with
   * HKDF-SHA256. Required unless every per-purpose key is given.
   */
  secret?: string | Buffer;
  /** Access-token settings. */
  accessToken?: AccessTokenOptions;
  /** Explicit refresh-token HMAC key (≥ 32 bytes); otherwise derived from `secret`. */
  refreshSecret?: KeyInput;
  /** Explicit CSRF HMAC key (≥ 32 bytes); otherwise derived from `secret`. */
  csrfSecret?: KeyInput;
  /** Idle timeout in seconds; sliding. @default 1800 */
  idleTimeout?: number;
  /** Absolute session lifetime in seconds; never extended. @default 604800 */
  absoluteTimeout?: number;
  /** Seconds during which the previous refresh token still answers the same successor. @default 10 */
  refreshGrace?: number;
  /** Minimum seconds between two idle-timeout touches of one session. @default idleTimeout / 10 */
  touchInterval?: number;
  /** Clock tolerance in seconds for `exp`, `nbf` and `iat`. @default 5 */
  clockTolerance?: number;
  /**
   * The session store: a `cache-manager-redis-yet` store (`redisStore`, `redisInsStore`,
   * `redisClusterStore`), a node-redis client or cluster (`createClient` / `createCluster`), an
   * ioredis `Redis` or `Cluster`, or any `SessionRepository`. Unset: the in-memory repository.
   * A Keyv store is refused (it turns Redis errors into empty answers). The module never closes a
   * client it was given.
   */
  store?: SessionStoreInput;
  /** Redis tuning. */
  redis?: SessionRedisOptions;
  /** Cookie transport. */
  cookies?: SessionCookieOptions;
  /** CSRF protection. */
  csrf?: SessionCsrfOptions;
  /** Scheduled cleanup. */
  cleanup?: SessionCleanupOptions;
  /**
   * Renew the access cookie on an authenticated cookie request when it has fewer than this many
   * seconds left. `0` turns silent renewal off. @default 0
   */
  silentRenewal?: number;
  /**
   * Refuse plain-HTTP requests (403) to authenticated routes, the module's routes and
   * `SessionHttpService.login()`. Honours the app's `trust proxy` setting. @default false
   */
  requireHttps?: boolean;
  /**
   * The path clients reach the refresh route at, e.g. `/api/session/refresh`: the refresh cookie's
   * `Path` and where the module's no-store headers apply. Unset: read from Nest's router at
   * bootstrap (global prefix, versioning, `RouterModule`). Set it with `routes: false` (your own
   * controller), or when a proxy in front rewrites paths.
   */
  refreshPath?: string;
  /** Device-bound sessions (W3C DBSC): off unless `dbsc.enabled`. */
  dbsc?: SessionDbscOptions;
  /** Called with every audit event (in addition to `SessionEvents` subscribers). */
  onEvent?: (event: SessionAuditEvent) => void;
  /**
   * Live sessions one user may hold (1–1000). A login beyond it ends the least recently used
   * session (`evict-oldest`) or is refused (`refuse`: 409 `session_limit`). @default 50
   */
  maxSessionsPerUser?: number;
  /** @default 'evict-oldest' */
  sessionCapPolicy?: SessionCapPolicy;
  /** Seconds a login or re-authentication counts as fresh for `@Authenticated({ fresh: true })`. @default 300 */
  freshAge?: number;
  /** Absolute lifetime in seconds of an impersonation session, at most 3600. @default 3600 */
  impersonationTimeout?: number;
  /**
   * Prometheus metrics through the optional peer `prom-client` (`true`: its global registry,
   * prefix `session_`). Off: no metric exists and no request pays for one. @default false
   */
  metrics?: boolean | SessionMetricsOptions;
  /**
   * Validate from a per-replica cache: no store round trip on a hit; changes reach other
   * replicas over pub/sub (bounded by `maxStaleness` if a message is lost). `true`: defaults.
   * @default false
   */
  localCache?: boolean | SessionLocalCacheOptions;
}

/**
 * A `cache-manager-redis-yet` store (`redisStore`, `redisInsStore`, `redisClusterStore`,
 * `redisClusterInsStore`), or anything with the same `name` and node-redis `client`.
 * @publicApi
 */
export interface RedisStoreLike {
  /** `'redis-cluster'` for a cluster client; anything else means a single node. */
  readonly name: string;
  readonly client: RedisNodeClient | RedisClusterClient;
}

/** What `store` accepts. */
export type SessionStoreInput = RedisStoreLike | RedisClientInput | SessionRepository;

/** Factory for `forRootAsync({ useClass })` / `useExisting`. */
export interface SessionOptionsFactory {
  createSessionOptions(): SessionModuleOptions | Promise<SessionModuleOptions>;
}
