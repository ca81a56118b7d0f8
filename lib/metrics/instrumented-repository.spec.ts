import { Registry } from 'prom-client';
import * as promClient from 'prom-client';
import { MemorySessionRepository } from '../repository/memory-session.repository.js';
import type { SessionRepository } from '../interfaces/session-repository.interface.js';
import { SessionStoreUnavailableError } from '../session.errors.js';
import { instrumentRepository } from './instrumented-repository.js';
import { resolveMetricsOptions } from './session-metrics-options.js';
import { SessionMetrics } from './session-metrics.js';

function setup(repository: SessionRepository) {
  const registry = new Registry();
  const metrics = new SessionMetrics(promClient, resolveMetricsOptions({ registry })!);
  /** One sample by its exposition name (histograms: `_count`, `_sum`, `_bucket`); 0 when absent. */
  const value = async (name: string, labels: Record<string, string> = {}) => {
    const samples = (await registry.getMetricsAsJSON()).flatMap((m) =>
      m.values.map((v) => ({ ...v, name: (v as { metricName?: string }).metricName ?? m.name })),
    );
    const found = samples.find(
      (v) =>
        v.name === name && Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x),
    );
    return found?.value ?? 0;
  };
  return { view: instrumentRepository(repository, metrics), value };
}

const outage = new SessionStoreUnavailableError('not connected');

describe('instrumentRepository', () => {
  it('metrics off: the repository itself, nothing wrapped', () => {
    const repo = new MemorySessionRepository();
    expect(instrumentRepository(repo, null)).toBe(repo);
  });

  it('counts a rejected and a synchronously thrown store call as errors of their operation, passing the same error on', async () => {
    const repo = Object.assign(new MemorySessionRepository(), {
      validate: () => Promise.reject(outage),
      revoke: () => {
        throw outage;
      },
    });
    const { view, value } = setup(repo);
    await expect(view.validate('u', 's', { now: 0, idleTimeoutMs: 1, touchIntervalMs: 0 })).rejects.toBe(outage);
    expect(() => view.revoke('u', 's')).toThrow(outage);
    expect(await value('session_store_errors_total', { operation: 'validate' })).toBe(1);
    expect(await value('session_store_errors_total', { operation: 'revoke' })).toBe(1);
    expect(await value('session_store_errors_total', { operation: 'create' })).toBe(0);
    expect(await value('session_store_operation_duration_seconds_count', { operation: 'validate' })).toBe(1);
  });

  it('moves the active-sessions gauge by what each answer says: created, evicted, revoked, pruned', async () => {
    const repo = new MemorySessionRepository();
    const { view, value } = setup(repo);
    const base = 1_700_000_000_000;
    const session = (id: string, now = base) => ({
      id,
      userId: 'u',
      roles: [],
      userAgent: '',
      ip: '',
      device: '',
      data: undefined,
      now,
      idleTimeoutMs: 60_000,
      absoluteExpiresAt: now + 3_600_000,
      refreshHash: 'h'.repeat(43),
      refreshIssuedAt: Math.floor(now / 1000),
      maxSessions: 3,
    });
    for (const id of ['s1', 's2', 's3', 's4']) await view.create(session(id.padEnd(22, 'x')));
    // The fourth login evicted the oldest: three live.
    expect(await value('session_active_sessions')).toBe(3);
    await view.revoke('u', 's4'.padEnd(22, 'x'));
    expect(await value('session_active_sessions')).toBe(2);
    // Both remaining sessions idle out; the cleanup pass removes them.
    await view.cleanup(base + 120_000, 100, 60_000);
    expect(await value('session_active_sessions')).toBe(0);
  });

  it('untimed pass-through for what is not a store operation (lifecycle hooks, helpers)', async () => {
    let closed = 0;
    const repo = Object.assign(new MemorySessionRepository(), {
      onApplicationShutdown: () => void (closed += 1),
    });
    const { view, value } = setup(repo);
    (view as unknown as { onApplicationShutdown(): void }).onApplicationShutdown();
    expect(closed).toBe(1);
    await view.list('u', 0, 1);
    expect(await value('session_store_operation_duration_seconds_count', { operation: 'list' })).toBe(1);
    const counts = await Promise.all(
      ['create', 'validate', 'cleanup'].map((operation) =>
        value('session_store_operation_duration_seconds_count', { operation }),
      ),
    );
    expect(counts).toEqual([0, 0, 0]);
  });
});
