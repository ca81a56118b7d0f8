import { SessionConfigError } from '../session.errors.js';

/**
 * A prom-client `Registry` (`new Registry()` or its global `register`), described by what the
 * module uses, so apps without prom-client compile without its types.
 * @publicApi
 */
export interface SessionMetricsRegistry {
  getSingleMetric(name: string): unknown;
  removeSingleMetric(name: string): void;
  registerMetric(metric: never): void;
  metrics(): Promise<string>;
  readonly contentType: string;
}

/**
 * Prometheus metrics (`metrics` option). Needs the optional peer `prom-client`.
 * @publicApi
 */
export interface SessionMetricsOptions {
  /** Where the metrics are registered. @default prom-client's global `register` */
  registry?: SessionMetricsRegistry;
  /** Prepended to every metric name. @default 'session_' */
  prefix?: string;
  /**
   * Upper bounds in seconds of the store latency histogram's buckets.
   * @default [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
   */
  storeLatencyBuckets?: number[];
}

/** `metrics` after defaults; null when metrics are off. */
export interface ResolvedMetricsOptions {
  registry: SessionMetricsRegistry | undefined;
  prefix: string;
  storeLatencyBuckets: number[];
}

/** Store calls take ~0.1–1 ms on a healthy Redis; the upper buckets catch stalls up to the command timeout. */
export const DEFAULT_STORE_LATENCY_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

/** Prometheus' metric name grammar, for the prefix (a name must not start with a digit). */
const METRIC_PREFIX = /^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/;

export function resolveMetricsOptions(
  input: boolean | SessionMetricsOptions | undefined,
): ResolvedMetricsOptions | null {
  if (input === undefined || input === false) return null;
  const options = input === true ? {} : input;
  if (typeof options !== 'object' || options === null) {
    throw new SessionConfigError('metrics must be true, false or { registry?, prefix?, storeLatencyBuckets? }');
  }
  const prefix = options.prefix ?? 'session_';
  if (typeof prefix !== 'string' || !METRIC_PREFIX.test(prefix)) {
    throw new SessionConfigError(`metrics.prefix "${String(prefix)}" must match [a-zA-Z_:][a-zA-Z0-9_:]*`);
  }
  const buckets = options.storeLatencyBuckets ?? DEFAULT_STORE_LATENCY_BUCKETS;
  if (
    !Array.isArray(buckets) ||
    buckets.length === 0 ||
    buckets.some((b, i) => !Number.isFinite(b) || b <= 0 || (i > 0 && b <= buckets[i - 1]))
  ) {
    throw new SessionConfigError('metrics.storeLatencyBuckets must be increasing positive numbers of seconds');
  }
  const registry = options.registry;
  if (registry !== undefined && typeof (registry as Partial<SessionMetricsRegistry>)?.registerMetric !== 'function') {
    throw new SessionConfigError('metrics.registry must be a prom-client Registry');
  }
  return { registry, prefix, storeLatencyBuckets: [...buckets] };
}
