/**
 * Hostile input over HTTP (SECURITY.md S-01..S-13 as seen from outside, S-64..S-67): a fixed
 * corpus of forged tokens and cookie headers sent every way a credential can arrive, hostile
 * bodies, oversized headers, and a fast-check property with random tokens, bodies and cookies.
 * Every answer must be 4xx (never 2xx, never 5xx), and afterwards the process still serves.
 */
import fc from 'fast-check';
import request from 'supertest';
import { ALICE, BOB, CookieClient, loginHeader } from '../utils/http.js';
import { type RedisProcess, startRedis } from '../utils/redis.js';
import { testAdapter } from '../utils/http-adapter.js';
import { type RunningSample, startSample } from '../utils/sample-app.js';
import { redisTestStore, type TestStore } from '../utils/stores.js';
import { cookieCorpus, type LiveTokens, tokenCorpus } from './support/corpus.js';
import { ACCESS_HEADER, accessClaims, b64url, newSid, sign } from './support/forge.js';
import { type RawAnswer, rawRequest } from './support/raw-http.js';

const ACCESS = '__Host-session';
const REFRESH = '__Secure-refresh';
const JSON_TYPE: [string, string] = ['Content-Type', 'application/json'];

interface Live extends LiveTokens {
  csrf: string;
}

/** A live cookie session plus revoked / rotated ones, as the corpus needs. */
async function liveTokens(url: string): Promise<Live> {
  const alice = new CookieClient(url);
  expect((await alice.login(ALICE)).status).toBe(200);
  const revoked = new CookieClient(url);
  expect((await revoked.login(ALICE)).status).toBe(200);
  await revoked.post('/auth/logout').expect(204);
  const rotated = await loginHeader(url);
  await request(url).post('/auth/refresh').send({ refreshToken: rotated.refreshToken }).expect(200);
  const bob = await loginHeader(url, BOB);
  return {
    access: alice.access,
    refresh: alice.refresh,
    csrf: alice.csrf,
    revokedAccess: revoked.access,
    revokedRefresh: revoked.refresh,
    rotatedRefresh: rotated.refreshToken,
    bobAccess: bob.accessToken,
  };
}

/** Runs `tasks` with at most `width` in flight. */
async function pool<T>(tasks: Array<() => Promise<T>>, width = 8): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < tasks.length) {
        const i = next++;
        out[i] = await tasks[i]();
      }
    }),
  );
  return out;
}

type Probe = { label: string; send: () => Promise<RawAnswer> };

/** Every way one access-token candidate reaches the app. */
function accessProbes(url: string, token: string, csrf: string): Probe[] {
  const note = JSON.stringify({ text: 'fuzz' });
  const bearer: [string, string] = ['Authorization', `Bearer ${token}`];
  const cookie: [string, string] = ['Cookie', `${ACCESS}=${token}`];
  return [
    { label: 'bearer GET /me', send: () => rawRequest(url, 'GET', '/me', [bearer]) },
    { label: 'bearer POST /notes', send: () => rawRequest(url, 'POST', '/notes', [bearer, JSON_TYPE], note) },
    { label: 'bearer GET /auth/sessions', send: () => rawRequest(url, 'GET', '/auth/sessions', [bearer]) },
    { label: 'cookie GET /me', send: () => rawRequest(url, 'GET', '/me', [cookie]) },
    {
      label: 'cookie POST /notes',
      send: () => rawRequest(url, 'POST', '/notes', [cookie, ['X-CSRF-Token', csrf], JSON_TYPE], note),
    },
    { label: 'cookie GET /auth/sessions', send: () => rawRequest(url, 'GET', '/auth/sessions', [cookie]) },
  ];
}

/** Every way one refresh-token candidate reaches the app. */
function refreshProbes(url: string, token: string, csrf: string): Probe[] {
  return [
    {
      label: 'body POST /auth/refresh',
      send: () => rawRequest(url, 'POST', '/auth/refresh', [JSON_TYPE], JSON.stringify({ refreshToken: token })),
    },
    {
      label: 'cookie POST /auth/refresh',
      send: () =>
        rawRequest(url, 'POST', '/auth/refresh', [
          ['Cookie', `${REFRESH}=${token}`],
          ['X-CSRF-Token', csrf],
        ]),
    },
  ];
}

const is4xx = (status: number) => status >= 400 && status < 500;

/** The process still serves: health, the live session, a fresh login in both transports. */
async function stillServing(url: string, live?: Live): Promise<void> {
  await request(url).get('/health').expect(200);
  const c = new CookieClient(url);
  expect((await c.login()).status).toBe(200);
  await c.get('/me').expect(200);
  await c.post('/notes', { text: 'after the fuzz' }).expect(201);
  const { accessToken } = await loginHeader(url);
  await request(url).get('/me').set('Authorization', `Bearer ${accessToken}`).expect(200);
  if (live) {
    // Nothing in the corpus touched the live session: it works and its refresh token still rotates.
    await request(url).get('/me').set('Authorization', `Bearer ${live.access}`).expect(200);
    await request(url).post('/auth/refresh').send({ refreshToken: live.refresh }).expect(200);
  }
}

function corpusSuite(name: string, boot: () => Promise<{ url: string; close(): Promise<void> }>) {
  describe(`fixed hostile corpus (${name})`, () => {
    let app: { url: string; close(): Promise<void> };
    let live: Live;
    beforeAll(async () => {
      app = await boot();
      live = await liveTokens(app.url);
    });
    afterAll(() => app?.close());

    it('has at least 30 token cases and 15 cookie cases', () => {
      expect(tokenCorpus(live).length).toBeGreaterThanOrEqual(30);
      expect(cookieCorpus(live).length).toBeGreaterThanOrEqual(15);
    });

    it("control: the same probes with genuine tokens succeed, so a 4xx below is the token's doing", async () => {
      const access = await Promise.all(accessProbes(app.url, live.access, live.csrf).map((p) => p.send()));
      expect(access.map((a) => a.status)).toEqual([200, 201, 200, 200, 201, 200]);
      // Refresh probes rotate, so they get sessions of their own.
      for (const probe of [0, 1]) {
        const c = new CookieClient(app.url);
        expect((await c.login()).status).toBe(200);
        expect((await refreshProbes(app.url, c.refresh, c.csrf)[probe].send()).status).toBe(200);
      }
    });

    it('every token case, as bearer, cookie, refresh body and refresh cookie → 4xx (S-67)', async () => {
      const probes: Array<Probe & { token: string }> = [];
      for (const entry of tokenCorpus(live)) {
        const list = [...accessProbes(app.url, entry.token, live.csrf)];
        if (entry.validAt !== 'refresh') list.push(...refreshProbes(app.url, entry.token, live.csrf));
        for (const p of list) probes.push({ ...p, label: `${entry.name} | ${p.label}`, token: entry.token });
      }
      const answers = await pool(probes.map((p) => () => p.send()));
      const wrong = probes.map((p, i) => [p.label, answers[i].status] as const).filter(([, s]) => !is4xx(s));
      expect(wrong).toEqual([]);
      expect(probes.length).toBeGreaterThan(400);

      // A printable, well-sized bearer token that fails is a 401 with an RFC 6750 challenge.
      const bearerMe = probes
        .map((p, i) => ({ p, a: answers[i] }))
        .filter(({ p }) => p.label.endsWith('| bearer GET /me') && /^[\x21-\x7e]{1,2000}$/.test(p.token));
      expect(bearerMe.length).toBeGreaterThan(40);
      for (const { p, a } of bearerMe) {
        expect([p.label, a.status]).toEqual([p.label, 401]);
        expect(a.headers).toMatch(/^www-authenticate: Bearer/im);
      }
    });

    it('every cookie-header case, for the access and the refresh cookie → 4xx (S-65)', async () => {
      const probes: Probe[] = [];
      for (const entry of cookieCorpus(live)) {
        const accessHeader = entry.header(ACCESS, live.access);
        const refreshHeader = entry.header(REFRESH, live.refresh);
        for (const path of ['/me', '/auth/sessions']) {
          probes.push({
            label: `${entry.name} | GET ${path}`,
            send: () => rawRequest(app.url, 'GET', path, [['Cookie', accessHeader]]),
          });
        }
        probes.push({
          label: `${entry.name} | POST /notes`,
          send: () =>
            rawRequest(
              app.url,
              'POST',
              '/notes',
              [['Cookie', accessHeader], ['X-CSRF-Token', live.csrf], JSON_TYPE],
              '{"text":"x"}',
            ),
        });
        // Not a hostile case for the refresh cookie (it would rotate the live session's token).
        if (entry.refreshAccepts) continue;
        probes.push({
          label: `${entry.name} | POST /auth/refresh`,
          send: () =>
            rawRequest(app.url, 'POST', '/auth/refresh', [
              ['Cookie', refreshHeader],
              ['X-CSRF-Token', live.csrf],
            ]),
        });
      }
      const answers = await pool(probes.map((p) => () => p.send()));
      expect(probes.map((p, i) => [p.label, answers[i].status]).filter(([, s]) => !is4xx(s as number))).toEqual([]);
    });

    it('oversized headers → 431 (S-64)', async () => {
      for (const headers of [
        [['Cookie', `${ACCESS}=${'a'.repeat(20_000)}`]],
        [['Cookie', `${REFRESH}=${live.refresh}; pad=${'b'.repeat(100_000)}`]],
        [['Authorization', `Bearer ${'c'.repeat(20_000)}`]],
        Array.from({ length: 400 }, (_, i) => [`X-Junk-${i}`, 'y'.repeat(60)]),
      ] as Array<Array<[string, string]>>) {
        const res = await rawRequest(app.url, 'GET', '/me', headers);
        expect(res.status).toBe(431);
      }
    });

    it('hostile bodies → 4xx (S-66)', async () => {
      const { accessToken } = await loginHeader(app.url);
      const auth: [string, string] = ['Authorization', `Bearer ${accessToken}`];
      const bodies: Array<[string, string, Array<[string, string]>]> = [
        ['invalid JSON', '{"email":', [JSON_TYPE]],
        ['JSON number', '42', [JSON_TYPE]],
        ['JSON string', '"x"', [JSON_TYPE]],
        ['JSON null', 'null', [JSON_TYPE]],
        [
          '__proto__ pollution',
          '{"__proto__":{"role":"admin","text":"x"},"constructor":{"prototype":{"text":"x"}}}',
          [JSON_TYPE],
        ],
        ['wrong types', '{"email":["a"],"password":{"$gt":""},"refreshToken":{"a":1},"text":7}', [JSON_TYPE]],
        ['deep nesting', `${'['.repeat(5000)}${']'.repeat(5000)}`, [JSON_TYPE]],
        ['200 KB', JSON.stringify({ email: 'a', password: 'x'.repeat(200_000), text: 'x' }), [JSON_TYPE]],
        ['text too long for a note', JSON.stringify({ text: 'x'.repeat(1001) }), [JSON_TYPE]],
        ['lying Content-Length', '{}', [JSON_TYPE, ['Content-Encoding', 'gzip']]],
        ['unknown charset', '{"text":"x"}', [['Content-Type', 'application/json; charset=utf-42']]],
      ];
      const answers = await pool<readonly [string, number]>(
        bodies.flatMap(([name, body, headers]) => [
          async () =>
            [`${name} | login`, (await rawRequest(app.url, 'POST', '/auth/login', headers, body)).status] as const,
          async () =>
            [`${name} | refresh`, (await rawRequest(app.url, 'POST', '/auth/refresh', headers, body)).status] as const,
          async () =>
            [
              `${name} | notes`,
              (await rawRequest(app.url, 'POST', '/notes', [auth, ...headers], body)).status,
            ] as const,
        ]),
      );
      expect(answers.filter(([, s]) => !is4xx(s))).toEqual([]);
    });

    it('the process is still up and serving afterwards', () => stillServing(app.url, live));
  });
}

corpusSuite('memory store', () => startSample({ refreshGrace: 0 }));

describe('redis-backed corpus', () => {
  let redis: RedisProcess;
  let store: TestStore;
  beforeAll(async () => {
    redis = await startRedis();
    store = await redisTestStore(redis.url);
  });
  afterAll(async () => {
    await store?.close();
    await redis?.stop();
  });
  corpusSuite('real Redis', async () => {
    const s = await startSample({ refreshGrace: 0, store: store.store });
    await request(s.url)
      .get('/health')
      .expect(200, { status: 'ok', store: 'redis', adapter: testAdapter(), redisClient: 'redis-yet' });
    return s;
  });
});

describe('property: random tokens, bodies and cookie headers (fast-check)', () => {
  let sample: RunningSample;
  let live: Live;
  beforeAll(async () => {
    sample = await startSample({ refreshGrace: 0 });
    live = await liveTokens(sample.url);
  });
  afterAll(() => sample?.close());

  /** Header values must stay one line: CR/LF would start another header, not fuzz this one. */
  const oneLine = (s: string) => s.replace(/[\r\n]/g, '');
  const anyText = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.string({ unit: 'grapheme-ascii', maxLength: 300 }),
    fc.json({ maxDepth: 3 }),
  );
  const segment = fc.oneof(fc.json({ maxDepth: 2 }).map(b64url), fc.string({ unit: 'grapheme-ascii', maxLength: 40 }));
  const jwtShaped = fc.tuple(segment, segment, segment).map((parts) => parts.join('.'));
  /** Real signatures over odd claims: only the claim checks stand between these and a session. */
  const signedOdd = fc
    .record(
      {
        sub: fc.oneof(fc.constant('u-alice'), fc.string(), fc.integer(), fc.jsonValue()),
        sid: fc.oneof(fc.constant(newSid()), fc.string(), fc.integer(), fc.constant(null)),
        typ: fc.oneof(fc.constantFrom('access', 'refresh', 'ACCESS', ''), fc.jsonValue()),
        iat: fc.oneof(fc.integer(), fc.double(), fc.string()),
        exp: fc.oneof(fc.integer(), fc.double(), fc.constant(1e20), fc.string()),
        nbf: fc.oneof(fc.integer(), fc.jsonValue()),
        jti: fc.jsonValue(),
      },
      { requiredKeys: [] },
    )
    .map((claims) => sign(ACCESS_HEADER, { ...accessClaims('u-alice', newSid()), ...claims }));
  const token = fc.oneof(anyText, jwtShaped, signedOdd).map(oneLine);
  const cookieHeader = fc
    .oneof(
      anyText,
      fc.tuple(fc.constantFrom(ACCESS, REFRESH, 'session', ''), anyText).map(([n, v]) => `${n}=${v}`),
      fc
        .array(fc.tuple(fc.constantFrom(ACCESS, REFRESH, 'x'), anyText), { maxLength: 5 })
        .map((l) => l.map(([n, v]) => `${n}=${v}`).join('; ')),
    )
    .map(oneLine);
  const body = fc.oneof(
    fc.json({ maxDepth: 4 }),
    fc.string({ unit: 'binary', maxLength: 500 }),
    fc.jsonValue().map((v) => JSON.stringify({ refreshToken: v })),
  );

  it('300 runs: every answer is 4xx, and the app keeps serving', async () => {
    let runs = 0;
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(token, cookieHeader, body, async (t, cookie, b) => {
        runs += 1;
        const answers = await Promise.all([
          rawRequest(sample.url, 'GET', '/me', [['Authorization', `Bearer ${t}`]]),
          rawRequest(sample.url, 'POST', '/notes', [['Authorization', `Bearer ${t}`], JSON_TYPE], '{"text":"x"}'),
          rawRequest(sample.url, 'GET', '/auth/sessions', [['Cookie', `${ACCESS}=${t}`]]),
          rawRequest(sample.url, 'GET', '/me', [['Cookie', cookie]]),
          rawRequest(sample.url, 'POST', '/auth/refresh', [
            ['Cookie', cookie],
            ['X-CSRF-Token', live.csrf],
          ]),
          rawRequest(sample.url, 'POST', '/auth/refresh', [JSON_TYPE], JSON.stringify({ refreshToken: t })),
          rawRequest(sample.url, 'POST', '/auth/refresh', [JSON_TYPE], b),
          rawRequest(sample.url, 'POST', '/auth/login', [JSON_TYPE], b),
        ]);
        for (const a of answers)
          if (!is4xx(a.status)) throw new Error(`status ${a.status}: ${a.headers.split('\r\n')[0]}`);
      }),
      { numRuns: 300 },
    );
    expect(runs).toBeGreaterThanOrEqual(300);
    expect(Date.now() - started).toBeLessThan(30_000);
    await stillServing(sample.url, live);
  }, 40_000);
});
