import type { Provider } from '@nestjs/common';
import { SESSION_CACHE_STATS, type SessionCacheStats } from '../cache/cache-stats.js';
import { SessionEvents } from '../events/session-events.service.js';
import type { ResolvedSessionOptions } from '../session-options.js';
import { SessionConfigError } from '../session.errors.js';
import { SESSION_RESOLVED_OPTIONS } from '../session.internal-constants.js';
import type { ResolvedMetricsOptions } from './session-metrics-options.js';
import { type PromClient, SessionMetrics } from './session-metrics.js';

/** Internal token: the `SessionMetrics`, or null when the `metrics` option is off. */
export const SESSION_METRICS = Symbol('SESSION:METRICS');
/** Internal token: true when the local cache's figures are registered too. */
const SESSION_CACHE_METRICS = Symbol('SESSION:CACHE_METRICS');

/** Loads the optional peer; a clear startup error when it is missing. */
export async function loadPromClient(load: () => Promise<unknown> = () => import('prom-client')): Promise<PromClient> {
  let mod: { default?: PromClient } & Partial<PromClient>;
  try {
    mod = (await load()) as typeof mod;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new SessionConfigError(
        'the metrics option needs the optional peer dependency prom-client: npm install prom-client',
      );
    }
    throw err;
  }
  // An ES module import of CommonJS prom-client: named exports, and the whole module as `default`.
  return (mod.Counter ? mod : mod.default) as PromClient;
}

/** The metrics of one app: subscribed to its audit events until the app shuts down. */
class SessionMetricsLifecycle extends SessionMetrics {
  unsubscribe: () => void = () => undefined;

  onApplicationShutdown(): void {
    this.unsubscribe();
    this.close();
  }
}

export async function createSessionMetrics(
  options: ResolvedMetricsOptions,
  events: SessionEvents,
): Promise<SessionMetrics> {
  const metrics = new SessionMetricsLifecycle(await loadPromClient(), options);
  metrics.unsubscribe = events.subscribe(metrics.onEvent);
  return metrics;
}

export const metricsProviders: Provider[] = [
  {
    provide: SESSION_METRICS,
    useFactory: (options: ResolvedSessionOptions, events: SessionEvents) =>
      options.metrics ? createSessionMetrics(options.metrics, events) : null,
    inject: [SESSION_RESOLVED_OPTIONS, SessionEvents],
  },
  {
    // Its own provider: the cache's stats may depend on the repository, which depends on the metrics.
    provide: SESSION_CACHE_METRICS,
    useFactory: (metrics: SessionMetrics | null, stats?: SessionCacheStats | null) => {
      if (metrics && stats) metrics.addCacheStats(stats);
      return metrics !== null && stats != null;
    },
    inject: [SESSION_METRICS, { token: SESSION_CACHE_STATS, optional: true }],
  },
];
