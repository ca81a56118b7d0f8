/**
 * Issue 5 §2: audit events across a full run (failed login, login, refresh, token reuse, role and
 * CSRF failures, revoke, logout, logout-all, relogin, idle expiry), captured from the stdout of
 * Nest's JSON logger and from a subscriber. Every audit line is one JSON object whose `message` is
 * the event (UTC time, user id, ip, keyed session hash), and no line holds a token, a raw session
 * id or a raw newline from user input.
 */
import request from 'supertest';
import { type SessionAuditEvent, SessionEvents } from '../../lib/index.js';
import { sanitizeForLog } from '../../lib/events/sanitize-for-log.js';
import { ADMIN, ALICE, CookieClient, loginHeader } from '../utils/http.js';
import { parseSetCookies } from '../utils/set-cookie.js';
import { type RunningSample, startSample, TestClock } from '../utils/sample-app.js';
import { MEMORY_AND_REDIS } from '../utils/stores.js';
import { JsonLogCapture } from './json-log-capture.js';

const IDLE = 1800;
const GRACE = 10;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const LOOPBACK = /^(::ffff:)?127\.0\.0\.1$/;
/** An attacker's "email" trying to forge a second log line. */
const EVIL_EMAIL = 'mallory@example.com\n{"type":"authn_login_success","userId":"u-admin"}\u2028\u2029\r';

function jwtPayload(token: string): { sid: string } {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

describe.each(MEMORY_AND_REDIS)('audit events and logs ($name store)', ({ setup }) => {
  let release: (() => Promise<void>) | undefined;
  let sample: RunningSample;
  const logs = new JsonLogCapture();
  const clock = new TestClock(Date.UTC(2031, 4, 6, 7, 8, 9));
  const startedAt = clock.nowMs;
  const subscribed: SessionAuditEvent[] = [];
  /** Every secret the run produced: tokens, CSRF tokens, cookie values, raw session ids. */
  const secrets = new Set<string>();
  const sids: Record<string, string> = {};

  beforeAll(async () => {
    const o = await setup();
    release = o.close;
    logs.start();
    sample = await startSample({ ...o.options, refreshGrace: GRACE }, { logger: logs.logger, clock });
    sample.app.get(SessionEvents).subscribe((e) => subscribed.push(e));
    await runScenario();
  });

  afterAll(async () => {
    await sample?.close();
    logs.stop();
    await release?.();
  });

  const auth = (token: string) => ({ Authorization: `Bearer ${token}` });
  function keep(...values: (string | undefined)[]) {
    for (const v of values) if (v) secrets.add(v);
  }
  async function header(name: string) {
    const t = await loginHeader(sample.url, name === 'admin' ? ADMIN : ALICE);
    keep(t.accessToken, t.refreshToken);
    sids[name] = jwtPayload(t.accessToken).sid;
    keep(sids[name]);
    return t;
  }

  async function runScenario() {
    // failed login with log-injection attempt
    await request(sample.url)
      .post('/auth/login')
      .set('X-Auth-Transport', 'header')
      .send({ email: EVIL_EMAIL, password: 'nope' })
      .expect(401);

    // login → list → refresh → reuse of the rotated token after the grace window (theft)
    const first = await header('first');
    const list = await request(sample.url).get('/auth/sessions').set(auth(first.accessToken)).expect(200);
    for (const s of list.body as { id: string }[]) keep(s.id);
    const renewed = await request(sample.url)
      .post('/auth/refresh')
      .send({ refreshToken: first.refreshToken })
      .expect(200);
    keep(renewed.body.accessToken, renewed.body.refreshToken);
    clock.advance(GRACE + 1);
    await request(sample.url).post('/auth/refresh').send({ refreshToken: first.refreshToken }).expect(401);
    await request(sample.url).get('/me').set(auth(renewed.body.accessToken)).expect(401);

    // role failure
    const plain = await header('plain');
    await request(sample.url).get('/admin/stats').set(auth(plain.accessToken)).expect(403);

    // CSRF failures on the cookie transport: missing token, then a foreign origin
    const browser = new CookieClient(sample.url);
    const login = await browser.login();
    expect(login.status).toBe(200);
    keep(browser.access, browser.refresh, browser.csrf);
    sids.browser = jwtPayload(browser.access).sid;
    keep(sids.browser);
    await browser.post('/notes', { text: 'x' }, false).expect(403);
    await browser.post('/notes', { text: 'x' }).set('Origin', 'https://evil.example').expect(403);
    const sessions = await browser.get('/auth/sessions').expect(200);
    for (const s of sessions.body as { id: string }[]) keep(s.id);

    // revoke another device, logout, logout-all
    await browser.delete(`/auth/sessions/${sids.plain}`).expect(204);
    const leaving = await header('leaving');
    await request(sample.url).post('/auth/logout').set(auth(leaving.accessToken)).expect(204);
    const everywhere = await header('everywhere');
    await request(sample.url).post('/auth/logout-all').set(auth(everywhere.accessToken)).expect(204);
    await browser.get('/me').expect(401);

    // relogin carrying a live session's cookie ends that session (no fixation)
    const again = new CookieClient(sample.url);
    await again.login();
    keep(again.access, again.refresh, again.csrf);
    sids.again = jwtPayload(again.access).sid;
    keep(sids.again);
    const relogin = await request(sample.url)
      .post('/auth/login')
      .set('Cookie', again.cookieHeader())
      .send(ALICE)
      .expect(200);
    const values = parseSetCookies(relogin).map((c) => c.value);
    keep(...values, relogin.body.csrfToken);
    for (const v of values) if (v) keep(jwtPayload(v).sid);

    // idle expiry of the admin's session (seen at refresh: the access token's TTL is shorter than the idle timeout)
    const admin = await header('admin');
    clock.advance(IDLE + 1);
    await request(sample.url).post('/auth/refresh').send({ refreshToken: admin.refreshToken }).expect(401);
  }

  const audit = () => logs.audit();
  const parsed = () => audit().map((r) => r.message as SessionAuditEvent);
  const ofType = (type: string) => parsed().filter((e) => e.type === type);

  it("logs each audit event as one JSON object (Nest's JSON logger), the event under `message`, with an ISO UTC time", () => {
    expect(audit().length).toBeGreaterThanOrEqual(15);
    for (const line of logs.lines) expect(line).not.toMatch(/[\r\n\u2028\u2029]/);
    for (const record of audit()) {
      expect(['log', 'warn']).toContain(record.level);
      // An object, not a JSON string inside the logger's JSON.
      expect(typeof record.message).toBe('object');
      const e = record.message as Record<string, unknown>;
      expect(Object.keys(e).every((k) => ['type', 'time', 'userId', 'sessionHash', 'ip', 'reason'].includes(k))).toBe(
        true,
      );
      expect(e.time).toMatch(ISO_UTC);
      const t = Date.parse(e.time as string);
      expect(t).toBeGreaterThanOrEqual(startedAt);
      expect(t).toBeLessThanOrEqual(clock.nowMs);
    }
  });

  it('emits every expected event type, with user id, client ip and keyed session hash', () => {
    const events = sample.app.get(SessionEvents);
    const types = new Set(parsed().map((e) => e.type));
    for (const type of [
      'authn_login_fail',
      'authn_login_success',
      'session_created',
      'session_renewed',
      'authn_token_reuse',
      'session_revoked',
      'authz_fail',
      'csrf_fail',
      'session_expired',
    ]) {
      expect(types).toContain(type);
    }
    const at = (type: string, sid: string) => ofType(type).find((e) => e.sessionHash === events.sessionHash(sid));
    expect(at('authn_login_success', sids.first)).toMatchObject({
      userId: 'u-alice',
      ip: expect.stringMatching(LOOPBACK),
    });
    expect(at('session_created', sids.first)).toMatchObject({ userId: 'u-alice', ip: expect.stringMatching(LOOPBACK) });
    expect(at('session_renewed', sids.first)).toMatchObject({ userId: 'u-alice', reason: 'rotated' });
    expect(at('authn_token_reuse', sids.first)).toMatchObject({
      userId: 'u-alice',
      ip: expect.stringMatching(LOOPBACK),
    });
    expect(at('authz_fail', sids.plain)).toMatchObject({ userId: 'u-alice', ip: expect.stringMatching(LOOPBACK) });
    expect(at('csrf_fail', sids.browser)).toMatchObject({ userId: 'u-alice', reason: 'token' });
    expect(ofType('csrf_fail').some((e) => e.reason === 'origin')).toBe(true);
    expect(at('session_expired', sids.admin)).toMatchObject({ userId: 'u-admin', ip: expect.stringMatching(LOOPBACK) });
    for (const e of parsed()) if (e.sessionHash !== undefined) expect(e.sessionHash).toMatch(/^[A-Za-z0-9_-]{12}$/);
  });

  it('records each revocation with its reason', () => {
    const events = sample.app.get(SessionEvents);
    const revoked = ofType('session_revoked');
    const reasonOf = (sid: string) => revoked.find((e) => e.sessionHash === events.sessionHash(sid))?.reason;
    expect(reasonOf(sids.first)).toBe('theft');
    expect(reasonOf(sids.plain)).toBe('revoked_by_user');
    expect(reasonOf(sids.leaving)).toBe('logout');
    expect(reasonOf(sids.again)).toBe('relogin');
    expect(revoked.find((e) => e.reason === 'logout_all')).toMatchObject({
      userId: 'u-alice',
      ip: expect.stringMatching(LOOPBACK),
    });
  });

  it('neutralises newlines and line separators from user input', () => {
    const fails = ofType('authn_login_fail');
    expect(fails).toHaveLength(1);
    expect(fails[0].userId).toBe(sanitizeForLog(EVIL_EMAIL));
    expect(fails[0].userId).not.toMatch(/[\r\n\u2028\u2029]/);
    // the forged event inside the email never became an event of its own
    expect(ofType('authn_login_success').every((e) => e.userId === 'u-alice' || e.userId === 'u-admin')).toBe(true);
    for (const line of logs.lines) expect(line).not.toMatch(/[\r\n\u2028\u2029]/);
  });

  it('never logs a token, a CSRF token or a raw session id', () => {
    expect(secrets.size).toBeGreaterThan(20);
    const everything = logs.lines.join('\n') + JSON.stringify(subscribed);
    for (const secret of secrets) expect(everything.includes(secret)).toBe(false);
  });

  it('delivers the same events to subscribers as to the log', () => {
    expect(subscribed.length).toBe(audit().length);
    expect(subscribed).toEqual(parsed());
  });
});
