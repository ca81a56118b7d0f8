import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SessionCacheStats } from '../cache/cache-stats.js';
import type { SessionAuditEvent, SessionRevokeReason } from '../interfaces/session-event.interface.js';
import type { RotateResult } from '../interfaces/session-repository.interface.js';
import { SessionConfigError } from '../session.errors.js';
import type { ResolvedMetricsOptions } from './session-metrics-options.js';

/** prom-client's exports, as `import('prom-client')` gives them. */
export type PromClient = typeof import('prom-client');

/** Label values come only from these fixed sets: never an id, an address or a token. */
const LOGIN_RESULTS = ['success', 'failure', 'refused', 'impersonation'] as const;
const REFRESH_RESULTS = ['rotated', 'raced', 'reused', 'invalid', 'missing', 'expired', 'bound', 'error'] as const;
const REVOKE_REASONS = [
  'logout',
  'logout_all',
  'logout_others',
  'revoked_by_user',
  'admin',
  'relogin',
  'evicted',
  'theft',
  'password_changed',
  'other',
] as const satisfies readonly (SessionRevokeReason | 'other')[];
const CACHE_RESULTS = ['hit', 'miss', 'bypass'] as const;

/** The `SessionRepository` methods that are store operations (timed, errors counted). */
export const STORE_OPERATIONS = [
  'create',
  'validate',
  'rotate',
  'revoke',
  'revokeAll',
  'revokeOthers',
  'reauthenticate',
  'list',
  'cleanup',
  'ping',
  'acquireLock',
  'bindDevice',
  'deviceKey',
  'refreshDevice',
] as const;
export type StoreOperation = (typeof STORE_OPERATIONS)[number];

const REVOKE_REASON_SET: ReadonlySet<string> = new Set(REVOKE_REASONS);

/**
 * The module's Prometheus metrics on one registry. Counters move from the audit events and from
 * the instrumented repository (see instrumented-repository.ts); the cache figures are read at
 * scrape time. Built only when the `metrics` option is on.
 */
export class SessionMetrics {
  readonly registry: Registry;
  private readonly logins: Counter<'result'>;
  private readonly refreshes: Counter<'result'>;
  private readonly reuse: Counter;
  private readonly revocations: Counter<'reason'>;
  private readonly storeErrors: Counter<'operation'>;
  private readonly storeDuration: Histogram<'operation'>;
  private readonly active: Gauge;
  private readonly names: string[] = [];

  constructor(
    private readonly client: PromClient,
    private readonly options: ResolvedMetricsOptions,
  ) {
    // Structurally typed in the options (see SessionMetricsRegistry); a prom-client Registry in fact.
    this.registry = (options.registry as Registry | undefined) ?? client.register;
    const p = options.prefix;
    const registers = [this.registry];
    const names = [
      'logins_total',
      'refreshes_total',
      'refresh_token_reuse_total',
      'revocations_total',
      'store_errors_total',
      'store_operation_duration_seconds',
      'active_sessions',
    ].map((n) => this.claim(p + n));
    const [logins, refreshes, reuse, revocations, storeErrors, storeDuration, active] = names as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];

    this.logins = new client.Counter({
      name: logins,
      help: 'Sessions started, by result: success, failure (reported by the app), refused (session cap), impersonation.',
      labelNames: ['result'],
      registers,
    });
    this.refreshes = new client.Counter({
      name: refreshes,
      help: 'Refresh-token rotations that reached the store, by result.',
      labelNames: ['result'],
      registers,
    });
    this.reuse = new client.Counter({
      name: reuse,
      help: 'Rotated-out refresh tokens presented after the grace window (theft): the session was revoked.',
      registers,
    });
    this.revocations = new client.Counter({
      name: revocations,
      help: 'Revocation actions, by reason (a logout-all or logout-others counts once).',
      labelNames: ['reason'],
      registers,
    });
    this.storeErrors = new client.Counter({
      name: storeErrors,
      help: 'Session store operations that failed, by operation.',
      labelNames: ['operation'],
      registers,
    });
    this.storeDuration = new client.Histogram({
      name: storeDuration,
      help: 'Duration of session store operations (one round trip each on Redis), by operation.',
      labelNames: ['operation'],
      buckets: options.storeLatencyBuckets,
      registers,
    });
    this.active = new client.Gauge({
      name: active,
      help:
        'Sessions started minus sessions ended as seen by this replica since it started; ' +
        'sum over replicas for the fleet (approximate, see README).',
      registers,
    });
    // Zeros from the start, so rate() and alerts see every series before its first event.
    for (const result of LOGIN_RESULTS) this.logins.inc({ result }, 0);
    for (const result of REFRESH_RESULTS) this.refreshes.inc({ result }, 0);
    for (const reason of REVOKE_REASONS) this.revocations.inc({ reason }, 0);
    for (const operation of STORE_OPERATIONS) this.storeErrors.inc({ operation }, 0);
    this.reuse.inc(0);
  }

  /** Audit-event listener (subscribed to `SessionEvents`). */
  readonly onEvent = (event: SessionAuditEvent): void => {
    switch (event.type) {
      case 'session_created':
        this.logins.inc({ result: event.impersonator === undefined ? 'success' : 'impersonation' });
        break;
      case 'authn_login_fail':
        this.logins.inc({ result: event.reason === 'session_limit' ? 'refused' : 'failure' });
        break;
      case 'authn_token_reuse':
        this.reuse.inc();
        break;
      case 'session_revoked':
        this.revocations.inc({ reason: event.reason && REVOKE_REASON_SET.has(event.reason) ? event.reason : 'other' });
        break;
      default:
    }
  };

  /** One store operation took `seconds`; `failed` when it threw or rejected. */
  storeCall(operation: StoreOperation, seconds: number, failed: boolean): void {
    this.storeDuration.observe({ operation }, seconds);
    if (failed) this.storeErrors.inc({ operation });
  }

  refreshed(result: RotateResult['status'] | 'error'): void {
    this.refreshes.inc({ result: (REFRESH_RESULTS as readonly string[]).includes(result) ? result : 'error' });
  }

  /** Sessions started (+) or ended (−) as this replica saw it. */
  sessionsChanged(delta: number): void {
    if (delta !== 0) this.active.inc(delta);
  }

  /** Reserves a name on the registry; a clash is a startup error that says what to do. */
  private claim(name: string): string {
    if (this.registry.getSingleMetric(name)) {
      throw new SessionConfigError(
        `metrics: "${name}" is already registered (another SessionModule on this registry?); ` +
          'give each app its own metrics.registry or metrics.prefix',
      );
    }
    this.names.push(name);
    return name;
  }

  /** Takes the metrics off the registry, so a new app in this process can register them again. */
  close(): void {
    for (const name of this.names) this.registry.removeSingleMetric(name);
    this.names.length = 0;
  }

  /**
   * The local cache's figures (`SESSION_CACHE_STATS`), read at scrape time. A separate step: the
   * cache may sit on the (instrumented) repository, so the metrics cannot wait for it.
   */
  addCacheStats(stats: SessionCacheStats): void {
    const client = this.client;
    const lookups = this.claim(this.options.prefix + 'cache_lookups_total');
    const entries = this.claim(this.options.prefix + 'cache_entries');
    const seen: Record<(typeof CACHE_RESULTS)[number], number> = { hit: 0, miss: 0, bypass: 0 };
    new client.Counter({
      name: lookups,
      help: 'Local validation cache lookups, by result: hit, miss, bypass (subscription down: the store answered).',
      labelNames: ['result'],
      registers: [this.registry],
      collect() {
        const now = { hit: stats.hits, miss: stats.misses, bypass: stats.bypassed };
        for (const result of CACHE_RESULTS) {
          // A counter never goes down; a smaller figure means the cache started over.
          const delta = now[result] >= seen[result] ? now[result] - seen[result] : now[result];
          this.inc({ result }, delta);
          seen[result] = now[result];
        }
      },
    });
    new client.Gauge({
      name: entries,
      help: 'Entries held by the local validation cache.',
      registers: [this.registry],
      collect() {
        this.set(stats.entries);
      },
    });
  }
}
