/**
 * What metrics add to a store call (issue 16 §3): one `validate` on a stub repository that answers
 * at once, bare and through the instrumented view (two clock reads, a histogram observe, a
 * promise step). Prints ns per call (best and median of 5); the difference is the cost per request.
 * Run after `npm run build:lib`:  node bench/metrics-overhead.mjs
 */
import * as promClient from 'prom-client';
import { instrumentRepository } from '../dist/metrics/instrumented-repository.js';
import { resolveMetricsOptions } from '../dist/metrics/session-metrics-options.js';
import { SessionMetrics } from '../dist/metrics/session-metrics.js';

const live = { status: 'ok', session: { roles: ['user'], data: undefined } };
const stub = { kind: 'stub', validate: async () => live };
const metrics = new SessionMetrics(promClient, resolveMetricsOptions({ registry: new promClient.Registry() }));
const instrumented = instrumentRepository(stub, metrics);
const request = { now: 0, idleTimeoutMs: 1, touchIntervalMs: 0 };

async function measure(name, repo, n = 200_000) {
  for (let i = 0; i < n / 4; i++) await repo.validate('u', 's', request);
  const runs = [];
  for (let r = 0; r < 5; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await repo.validate('u', 's', request);
    runs.push(Number(process.hrtime.bigint() - start) / n);
  }
  runs.sort((a, b) => a - b);
  console.log(`${name.padEnd(36)} ${runs[0].toFixed(0).padStart(6)} ns  (median ${runs[2].toFixed(0)})`);
  return runs[2];
}

const bare = await measure('validate, metrics off (bare)', stub);
const timed = await measure('validate, metrics on (instrumented)', instrumented);
console.log(`${'added per store call'.padEnd(36)} ${(timed - bare).toFixed(0).padStart(6)} ns  (medians)`);
