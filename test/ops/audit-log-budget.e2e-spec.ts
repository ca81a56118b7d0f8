/**
 * Issue 10 items 1 and 11: the audit log cannot be blinded. Log lines are budgeted per event type
 * AND per source (client address; user id for authenticated events), so a flood of one kind or
 * from one source never hides another; what is dropped is summarised in a line naming the event
 * type, the source and the count, without waiting for further traffic. Token reuse and theft are
 * logged at WARN or higher, and format characters (bidi, zero-width) in user input are escaped.
 * Everything over HTTP against the sample app, on the memory store and a real Redis.
 */
import type { LoggerService } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import type { AuditLogLimits } from '../../lib/events/audit-log-budget.js';
import { SessionEvents, type SessionModuleOptions } from '../../lib/index.js';
import type { ResolvedSessionOptions } from '../../lib/session-options.js';
import { SESSION_RESOLVED_OPTIONS } from '../../lib/session.internal-constants.js';
import { AppModule } from '../../sample/app.module.js';
import { ALICE, BOB, loginHeader } from '../utils/http.js';
import { type RunningSample, startSample, TEST_SECRET, TestClock } from '../utils/sample-app.js';
import { MEMORY_AND_REDIS } from '../utils/stores.js';

const PER_SECOND = 20;
const GRACE = 10;
const ATTACKER = '203.0.113.66';
const VICTIM = '198.51.100.7';
const WARN_OR_HIGHER = ['warn', 'error', 'fatal'];

interface Line {
  level: string;
  context: string;
  message: unknown;
}
type Audit = Record<string, unknown> & { type: string; level: string };

class CaptureLogger implements LoggerService {
  readonly lines: Line[] = [];
  private add(level: string, message: unknown, rest: unknown[]) {
    const context = typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : '';
    this.lines.push({ level, context, message });
  }
  log(message: unknown, ...rest: unknown[]) {
    this.add('log', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]) {
    this.add('warn', message, rest);
  }
  error(message: unknown, ...rest: unknown[]) {
    this.add('error', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]) {
    this.add('fatal', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]) {
    this.add('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]) {
    this.add('verbose', message, rest);
  }
  /** The audit lines with their log level; each is logged as an object, not a JSON string. */
  audit(): Audit[] {
    return this.lines
      .filter((l) => l.context === 'SessionAudit')
      .map((l) => {
        if (typeof l.message !== 'object' || l.message === null)
          throw new Error(`audit message is not an object: ${String(l.message)}`);
        return { ...(JSON.parse(JSON.stringify(l.message)) as Record<string, unknown>), level: l.level } as Audit;
      });
  }
}

/** Resolves once `check` holds; fails with `what` after `ms`. Polls a condition, never a fixed wait. */
async function until(what: string, check: () => boolean, ms = 6000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Runs `n` tasks, `width` at a time. */
async function pool(n: number, width: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

/** Lines of `event` from one source, and what the summaries say was dropped for it. */
function accounting(logger: CaptureLogger, event: string, source: { ip?: string; userId?: string }) {
  const matches = (a: Audit) =>
    (source.ip === undefined || a.ip === source.ip) && (source.userId === undefined || a.userId === source.userId);
  const audit = logger.audit();
  const logged = audit.filter((a) => a.type === event && matches(a));
  const summaries = audit.filter((a) => a.type === 'audit_suppressed' && a.event === event && matches(a));
  const dropped = summaries.reduce((sum, s) => sum + (s.count as number), 0);
  return { logged, summaries, dropped };
}

/** Lines allowed for one type and source while `ms` passed: the budget of each window it touched. */
const allowed = (ms: number) => PER_SECOND * (Math.ceil(ms / 1000) + 1);

/**
 * The sample with audit log limits of our choosing (a small source cap, so that a test can exceed
 * it with a few hundred requests); everything else is the real app over real HTTP.
 */
async function startSampleWithLimits(
  options: Partial<SessionModuleOptions>,
  limits: AuditLogLimits,
  logger: LoggerService,
): Promise<RunningSample> {
  const moduleRef = await Test.createTestingModule({
    imports: [AppModule.register({ secret: TEST_SECRET, ...options })],
  })
    .overrideProvider(SessionEvents)
    .useFactory({
      factory: (o: ResolvedSessionOptions) => new SessionEvents(o, limits),
      inject: [SESSION_RESOLVED_OPTIONS],
    })
    .compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({ logger });
  app.set('trust proxy', true);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}`, close: () => app.close() };
}

describe.each(MEMORY_AND_REDIS)('audit log budget ($name store)', ({ setup }) => {
  let release: (() => Promise<void>) | undefined;
  let sample: RunningSample;
  let storeOptions: Partial<SessionModuleOptions>;
  const logger = new CaptureLogger();
  const clock = new TestClock();

  beforeAll(async () => {
    const o = await setup();
    release = o.close;
    storeOptions = o.options;
    sample = await startSample(
      { ...o.options, refreshGrace: GRACE },
      // The client address comes from X-Forwarded-For, so one test can speak from several sources.
      { logger, clock, trustProxy: true },
    );
  });

  afterAll(async () => {
    await sample?.close();
    await release?.();
  });

  const failLogin = (email: string, ip: string) =>
    request(sample.url)
      .post('/auth/login')
      .set('X-Auth-Transport', 'header')
      .set('X-Forwarded-For', ip)
      .send({ email, password: 'wrong-password' })
      .expect(401);

  it('a flood of garbage bearer tokens does not hide the failed logins sent right after', async () => {
    const flood = 5 * PER_SECOND;
    for (let i = 0; i < flood; i += 1) {
      await request(sample.url)
        .get('/me')
        .set('X-Forwarded-For', ATTACKER)
        .set('Authorization', `Bearer garbage.${i}`)
        .expect(401);
    }
    await failLogin('carol@example.com', ATTACKER);
    await failLogin('dave@example.com', ATTACKER);
    await failLogin(BOB.email, VICTIM);
    await failLogin(ALICE.email, VICTIM);

    const fails = logger.audit().filter((a) => a.type === 'authn_login_fail');
    expect(fails.map((f) => [f.userId, f.ip])).toEqual([
      ['carol@example.com', ATTACKER],
      ['dave@example.com', ATTACKER],
      [BOB.email, VICTIM],
      [ALICE.email, VICTIM],
    ]);
    expect(fails.every((f) => f.level === 'warn')).toBe(true);

    // The flood itself is bounded, and every dropped line is counted in a summary naming the
    // type and the address, which comes without any further request.
    await until('the flood to be accounted for', () => {
      const { logged, dropped } = accounting(logger, 'authn_token_invalid', { ip: ATTACKER });
      return logged.length + dropped === flood;
    });
    const { logged, summaries } = accounting(logger, 'authn_token_invalid', { ip: ATTACKER });
    expect(logged.length).toBeLessThan(flood);
    expect(summaries.length).toBeGreaterThanOrEqual(1);
    for (const s of summaries) {
      expect(s).toMatchObject({ type: 'audit_suppressed', event: 'authn_token_invalid', ip: ATTACKER, level: 'warn' });
      expect(s.count).toBeGreaterThan(0);
      expect(s.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
  });

  it('500 role failures by one user give bounded lines and a summary with type, user and count; another user still shows', async () => {
    const alice = await loginHeader(sample.url, ALICE);
    const started = Date.now();
    const n = 500;
    await pool(n, 10, () =>
      request(sample.url).get('/admin/stats').set('Authorization', `Bearer ${alice.accessToken}`).expect(403),
    );
    const elapsed = Date.now() - started;
    const bob = await loginHeader(sample.url, BOB);
    await request(sample.url).get('/admin/stats').set('Authorization', `Bearer ${bob.accessToken}`).expect(403);

    expect(accounting(logger, 'authz_fail', { userId: 'u-bob' }).logged).toHaveLength(1);
    await until('the role failures to be accounted for', () => {
      const { logged, dropped } = accounting(logger, 'authz_fail', { userId: 'u-alice' });
      return logged.length + dropped === n;
    });
    const { logged, summaries, dropped } = accounting(logger, 'authz_fail', { userId: 'u-alice' });
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.length).toBeLessThanOrEqual(allowed(elapsed));
    expect(dropped).toBeGreaterThanOrEqual(n - allowed(elapsed));
    for (const s of summaries)
      expect(s).toMatchObject({ type: 'audit_suppressed', event: 'authz_fail', userId: 'u-alice', level: 'warn' });
  });

  it('logs refresh token reuse and the theft revocation at WARN or higher', async () => {
    const first = await loginHeader(sample.url, ALICE);
    const renewed = await request(sample.url)
      .post('/auth/refresh')
      .send({ refreshToken: first.refreshToken })
      .expect(200);
    expect(renewed.body.refreshToken).toEqual(expect.any(String));
    clock.advance(GRACE + 1);
    await request(sample.url).post('/auth/refresh').send({ refreshToken: first.refreshToken }).expect(401);

    const audit = logger.audit();
    const reuse = audit.filter((a) => a.type === 'authn_token_reuse');
    const theft = audit.filter((a) => a.type === 'session_revoked' && a.reason === 'theft');
    expect(reuse).toHaveLength(1);
    expect(theft).toHaveLength(1);
    expect(WARN_OR_HIGHER).toContain(reuse[0].level);
    expect(WARN_OR_HIGHER).toContain(theft[0].level);
  });

  it('escapes bidi, zero-width and other format characters of a submitted email', async () => {
    const hidden = '\u202e\u200b\u200e\u200f\u2066\u2067\u2068\u2069\ufeff\u061c\u00ad\u2060\u180e\u0085';
    const email = `mallory${hidden}@example.com`;
    await failLogin(email, VICTIM);

    const parsed = logger.audit().find((a) => String(a.userId).startsWith('mallory'));
    expect(parsed).toBeDefined();
    expect(JSON.stringify(parsed)).not.toMatch(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u);
    expect(parsed).toMatchObject({ type: 'authn_login_fail', ip: VICTIM });
    expect(parsed!.userId).toBe(
      'mallory\\u202e\\u200b\\u200e\\u200f\\u2066\\u2067\\u2068\\u2069\\ufeff\\u061c\\u00ad\\u2060\\u180e\\u0085@example.com',
    );
  });

  it('many addresses cannot grow the budget without bound: past the cap they share one budget per type, summarised', async () => {
    const small = new CaptureLogger();
    const cap = 20;
    const limited = await startSampleWithLimits(
      storeOptions,
      { perWindow: PER_SECOND, windowMs: 1000, maxSources: cap },
      small,
    );
    try {
      const n = 300;
      const started = Date.now();
      await pool(n, 10, (i) =>
        request(limited.url)
          .get('/me')
          .set('X-Forwarded-For', `10.7.${i >> 8}.${i & 255}`)
          .set('Authorization', `Bearer garbage.${i}`)
          .expect(401),
      );
      const windows = Math.ceil((Date.now() - started) / 1000) + 1;
      await until('every request to be accounted for', () => {
        const audit = small.audit();
        const logged = audit.filter((a) => a.type === 'authn_token_invalid').length;
        const dropped = audit
          .filter((a) => a.type === 'audit_suppressed')
          .reduce((sum, a) => sum + (a.count as number), 0);
        return logged + dropped === n;
      });
      const audit = small.audit();
      // Each window: one line for each of the `cap` tracked addresses, then PER_SECOND for the rest.
      expect(audit.filter((a) => a.type === 'authn_token_invalid').length).toBeLessThanOrEqual(
        (cap + PER_SECOND) * windows,
      );
      const overflow = audit.filter((a) => a.type === 'audit_suppressed');
      expect(overflow.length).toBeGreaterThanOrEqual(1);
      for (const s of overflow) {
        expect(s).toMatchObject({ event: 'authn_token_invalid', overflow: true, level: 'warn' });
        expect(s.count).toBeGreaterThan(0);
      }
    } finally {
      await limited.close();
    }
  });
});
