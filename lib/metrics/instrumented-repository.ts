import { performance } from 'node:perf_hooks';
import type {
  CleanupResult,
  CreateResult,
  RotateResult,
  SessionRepository,
  ValidateResult,
} from '../interfaces/session-repository.interface.js';
import { type SessionMetrics, STORE_OPERATIONS, type StoreOperation } from './session-metrics.js';

type AnyFunction = (...args: unknown[]) => unknown;

/** How a result changes the replica's count of live sessions (the `active_sessions` gauge). */
const SESSION_DELTA: Partial<Record<StoreOperation, (result: never) => number>> = {
  create: (r: CreateResult) => (r.status === 'created' ? 1 - r.evicted.length : 0),
  revoke: (existed: boolean) => (existed ? -1 : 0),
  revokeAll: (n: number) => -n,
  revokeOthers: (n: number) => -n,
  // An expired session is removed by the call that finds it; a reused token ends its session.
  validate: (r: ValidateResult) => (r.status === 'expired' ? -1 : 0),
  rotate: (r: RotateResult) => (r.status === 'expired' || r.status === 'reused' ? -1 : 0),
  cleanup: (r: CleanupResult) => -r.removed,
};

function methodNames(target: object): Set<string> {
  const names = new Set<string>();
  for (let o: object | null = target; o && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const name of Object.getOwnPropertyNames(o)) {
      if (name === 'constructor') continue;
      const d = Object.getOwnPropertyDescriptor(o, name);
      if (d && typeof d.value === 'function') names.add(name);
    }
  }
  return names;
}

/**
 * The repository with every store operation timed and its failures counted. Inherits from the
 * repository (so `kind`, `instanceof` and anything else read through), with each method bound to it:
 * lifecycle hooks and other methods pass straight through, untimed. Metrics off: the repository itself.
 */
export function instrumentRepository(repository: SessionRepository, metrics: SessionMetrics | null): SessionRepository {
  if (!metrics) return repository;
  const wrapper = Object.create(repository) as Record<string, unknown>;
  const ops: ReadonlySet<string> = new Set(STORE_OPERATIONS);
  for (const name of methodNames(repository)) {
    const fn = (repository as unknown as Record<string, AnyFunction>)[name].bind(repository);
    wrapper[name] = ops.has(name) ? timed(name as StoreOperation, fn, metrics) : fn;
  }
  return wrapper as unknown as SessionRepository;
}

function timed(operation: StoreOperation, fn: AnyFunction, metrics: SessionMetrics): AnyFunction {
  const delta = SESSION_DELTA[operation] as ((result: unknown) => number) | undefined;
  const isRotate = operation === 'rotate';
  const done = (start: number, failed: boolean): void =>
    metrics.storeCall(operation, (performance.now() - start) / 1000, failed);
  return (...args: unknown[]) => {
    const start = performance.now();
    let out: unknown;
    try {
      out = fn(...args);
    } catch (err) {
      done(start, true);
      if (isRotate) metrics.refreshed('error');
      throw err;
    }
    return Promise.resolve(out).then(
      (result) => {
        try {
          done(start, false);
          if (isRotate) metrics.refreshed((result as RotateResult).status);
          if (delta) metrics.sessionsChanged(delta(result));
        } catch {
          // A result of a shape the metrics do not expect (a custom repository) never changes the answer.
        }
        return result;
      },
      (err: unknown) => {
        done(start, true);
        if (isRotate) metrics.refreshed('error');
        throw err;
      },
    );
  };
}
