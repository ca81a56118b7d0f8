/**
 * Issue 16 §3: the `metrics` option at the module level. Off: nothing registered and the
 * repository untouched. On: prom-client's global registry by default, a given registry and
 * prefix otherwise, removed again when the app closes; a clash on one registry and a bad option
 * fail at startup with a message; the local cache's figures (SESSION_CACHE_STATS) are read at
 * scrape time; a missing prom-client is a clear startup error.
 */
import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { register, Registry } from 'prom-client';
import request from 'supertest';
import { SessionValidationCache } from '../../lib/cache/session-validation-cache.js';
import {
  getSessionRepositoryToken,
  MemorySessionRepository,
  SessionConfigError,
  SessionModule,
  type SessionModuleOptions,
  SessionService,
} from '../../lib/index.js';
import { loadPromClient } from '../../lib/metrics/metrics.providers.js';
import { until } from '../ops/ops-helpers.js';
import { ALICE } from '../utils/http.js';
import { startSample, TEST_SECRET } from '../utils/sample-app.js';
import { parseExposition, valueOf } from './exposition.js';

const open: INestApplicationContext[] = [];
afterEach(async () => {
  for (const app of open.splice(0).reverse()) await app.close();
});

async function context(options: SessionModuleOptions, imports: unknown[] = []): Promise<INestApplicationContext> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      ...(imports as []),
      SessionModule.forRoot({ secret: TEST_SECRET, cleanup: { enabled: false }, ...options }),
    ],
  }).compile();
  const app = await moduleRef.init();
  open.push(app);
  return app;
}

const sessionMetricNames = (registry: Registry, prefix = 'session_') =>
  registry
    .getMetricsAsArray()
    .map((m) => m.name)
    .filter((n) => n.startsWith(prefix))
    .sort();

const ALL = [
  'active_sessions',
  'logins_total',
  'refresh_token_reuse_total',
  'refreshes_total',
  'revocations_total',
  'store_errors_total',
  'store_operation_duration_seconds',
];

describe('metrics off (the default)', () => {
  it('registers nothing and leaves the repository as given', async () => {
    const store = new MemorySessionRepository();
    const app = await context({ store });
    await app.get(SessionService).create({ id: 'u-off', roles: ['user'] });
    expect(sessionMetricNames(register)).toEqual([]);
    expect(app.get(getSessionRepositoryToken())).toBe(store);
  });

  it('the sample with SESSION_METRICS=false has no GET /metrics', async () => {
    process.env.SESSION_METRICS = 'false';
    try {
      const sample = await startSample({ store: new MemorySessionRepository() });
      open.push(sample.app);
      await request(sample.url).get('/metrics').expect(404);
    } finally {
      delete process.env.SESSION_METRICS;
    }
  });
});

describe('the sample on either platform', () => {
  it.each(['express', 'fastify'] as const)(
    '%s: GET /metrics answers the exposition with its content type',
    async (adapter) => {
      const sample = await startSample({ store: new MemorySessionRepository() }, { adapter });
      open.push(sample.app);
      await request(sample.url).post('/auth/login').set('X-Auth-Transport', 'header').send(ALICE).expect(200);
      const res = await request(sample.url).get('/metrics').expect(200);
      expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(valueOf(parseExposition(res.text), 'session_logins_total', { result: 'success' })).toBe(1);
    },
  );
});

describe('metrics on', () => {
  it('true: prom-client global registry, prefix session_, taken off again when the app closes', async () => {
    const app = await context({ metrics: true });
    expect(sessionMetricNames(register)).toEqual(ALL.map((n) => 'session_' + n));
    await app.get(SessionService).create({ id: 'u-global', roles: ['user'] });
    const samples = parseExposition(await register.metrics());
    expect(valueOf(samples, 'session_logins_total', { result: 'success' })).toBe(1);
    await open.pop()!.close();
    expect(sessionMetricNames(register)).toEqual([]);
    // A new app in the same process registers them again (tests, hot reload).
    await context({ metrics: true });
    expect(sessionMetricNames(register)).toHaveLength(ALL.length);
  });

  it('a given registry and prefix; a second app on the same registry and prefix fails at startup', async () => {
    const registry = new Registry();
    await context({ metrics: { registry, prefix: 'auth_' } });
    expect(sessionMetricNames(registry, 'auth_')).toEqual(ALL.map((n) => 'auth_' + n));
    expect(sessionMetricNames(register)).toEqual([]);
    await expect(context({ metrics: { registry, prefix: 'auth_' } })).rejects.toThrow(
      /"auth_logins_total" is already registered .*own metrics\.registry or metrics\.prefix/,
    );
    // Another prefix on the same registry is fine.
    await context({ metrics: { registry, prefix: 'other_' } });
  });

  it('the instrumented repository reads through to the store and keeps its optional methods optional', async () => {
    const store = new MemorySessionRepository();
    const app = await context({ store, metrics: { registry: new Registry() } });
    const seen = app.get<symbol, MemorySessionRepository>(getSessionRepositoryToken());
    expect(seen).not.toBe(store);
    expect(seen).toBeInstanceOf(MemorySessionRepository);
    expect(seen.kind).toBe('memory');
    const bare = { ...stubRepository() };
    const app2 = await context({ store: bare, metrics: { registry: new Registry() } });
    const view = app2.get<symbol, Record<string, unknown>>(getSessionRepositoryToken());
    expect(view.kind).toBe('stub');
    expect('bindDevice' in view).toBe(false);
  });

  it.each([
    [{ prefix: '9lives_' }, /metrics\.prefix "9lives_"/],
    [{ prefix: 'has-dash_' }, /metrics\.prefix/],
    [{ storeLatencyBuckets: [0.1, 0.05] }, /storeLatencyBuckets must be increasing/],
    [{ storeLatencyBuckets: [] }, /storeLatencyBuckets/],
    [{ registry: {} as never }, /metrics\.registry must be a prom-client Registry/],
  ])('a bad option %j is refused at startup', async (metrics, message) => {
    const err = await context({ metrics }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SessionConfigError);
    expect((err as Error).message).toMatch(message);
  });

  it('given buckets are the histogram buckets', async () => {
    const registry = new Registry();
    const app = await context({ metrics: { registry, storeLatencyBuckets: [0.5, 2] } });
    await app.get(SessionService).create({ id: 'u-buckets', roles: ['user'] });
    const buckets = parseExposition(await registry.metrics())
      .filter((s) => s.name === 'session_store_operation_duration_seconds_bucket' && s.labels.operation === 'create')
      .map((s) => s.labels.le);
    expect(buckets).toEqual(['0.5', '2', '+Inf']);
  });
});

describe('local cache figures', () => {
  it("are the cache's own lookups by result and its entries, read at scrape time", async () => {
    const registry = new Registry();
    const app = await context({ metrics: { registry }, localCache: true, store: new MemorySessionRepository() });
    const sessions = app.get(SessionService);
    const cache = app.get(SessionValidationCache);
    const { accessToken } = await sessions.create({ id: 'u-cache', roles: ['user'] });
    // A session enters the cache once its first validation has been read back; then lookups hit.
    await until('a cache hit', async () => {
      await sessions.authenticate(accessToken, 'bearer');
      return cache.hits > 0;
    });
    const samples = parseExposition(await registry.metrics());
    expect(valueOf(samples, 'session_cache_lookups_total', { result: 'hit' })).toBe(cache.hits);
    expect(valueOf(samples, 'session_cache_lookups_total', { result: 'miss' })).toBe(cache.misses);
    expect(valueOf(samples, 'session_cache_lookups_total', { result: 'bypass' })).toBe(cache.bypassed);
    expect(valueOf(samples, 'session_cache_entries')).toBe(1);
    // Read when scraped, not when registered: more hits show at the next scrape.
    const hits = cache.hits;
    await sessions.authenticate(accessToken, 'bearer');
    expect(valueOf(parseExposition(await registry.metrics()), 'session_cache_lookups_total', { result: 'hit' })).toBe(
      hits + 1,
    );
  });

  it('without localCache there are no cache series', async () => {
    const registry = new Registry();
    await context({ metrics: { registry } });
    expect(sessionMetricNames(registry).filter((n) => n.includes('cache'))).toEqual([]);
  });
});

describe('prom-client missing', () => {
  it('is a startup error that says what to install', async () => {
    const missing = () =>
      Promise.reject(Object.assign(new Error("Cannot find package 'prom-client'"), { code: 'ERR_MODULE_NOT_FOUND' }));
    const err = await loadPromClient(missing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SessionConfigError);
    expect((err as Error).message).toMatch(
      /metrics option needs the optional peer dependency prom-client: npm install prom-client/,
    );
    // Any other failure is passed on as it is.
    const broken = new Error('boom');
    await expect(loadPromClient(() => Promise.reject(broken))).rejects.toBe(broken);
  });

  it('the real import gives the module whichever way ESM exposes CommonJS', async () => {
    const client = await loadPromClient();
    expect(typeof client.Counter).toBe('function');
    expect(client.register).toBe(register);
  });
});

function stubRepository() {
  return {
    kind: 'stub',
    create: async () => ({ status: 'created' as const, evicted: [] }),
    validate: async () => ({ status: 'missing' as const }),
    rotate: async () => ({ status: 'missing' as const }),
    revoke: async () => false,
    revokeAll: async () => 0,
    revokeOthers: async () => 0,
    reauthenticate: async () => null,
    list: async () => [],
    cleanup: async () => ({ scanned: 0, removed: 0 }),
    ping: async () => undefined,
    acquireLock: async () => null,
  };
}
