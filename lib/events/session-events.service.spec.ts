import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import { jest } from '@jest/globals';
import { ConsoleLogger, Logger, type LoggerService } from '@nestjs/common';
import type { SessionAuditEvent } from '../interfaces/session-event.interface.js';
import type { SessionModuleOptions } from '../interfaces/session-module-options.interface.js';
import { resolveSessionOptions } from '../session-options.js';
import { sanitizeForLog, SessionEvents } from './session-events.service.js';

const SECRET = createHash('sha256').update('session-events.service.spec').digest('base64url');
const NOW = Date.UTC(2030, 0, 2, 3, 4, 5, 678);
const SID = 'AbCdEfGhIjKlMnOpQrStUv';
const TOKEN = 'eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl';

interface Line {
  level: 'log' | 'warn' | 'error' | 'debug' | 'verbose';
  message: unknown;
}

/** Routes Nest's Logger into an array for one test; restored afterwards. */
const lines: Line[] = [];
const original = (Logger as unknown as { staticInstanceRef?: LoggerService }).staticInstanceRef;
const capture = (level: Line['level']) => (message: unknown) => {
  lines.push({ level, message });
};
beforeEach(() => {
  lines.length = 0;
  Logger.overrideLogger({
    log: capture('log'),
    warn: capture('warn'),
    error: capture('error'),
    debug: capture('debug'),
    verbose: capture('verbose'),
  });
});
afterEach(() => {
  Logger.overrideLogger(original as LoggerService);
});

function events(options: SessionModuleOptions = {}): SessionEvents {
  return new SessionEvents(
    resolveSessionOptions({ secret: SECRET, ...options }, 'auth', { now: () => NOW, store: 'server' }),
  );
}
/** Each message is an object (not a JSON string), which Nest's text logger prints with `inspect`. */
const messages = (): string[] =>
  lines.map((l) => {
    expect(typeof l.message).toBe('object');
    return inspect(l.message);
  });

/** Writes to stdout while `run` goes, split into lines (what a console logger printed). */
function stdoutOf(run: () => void): string[] {
  const written: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
    written.push(String(chunk));
    return true;
  });
  try {
    run();
  } finally {
    spy.mockRestore();
  }
  return written
    .join('')
    .split('\n')
    .filter((l) => l !== '');
}

describe('SessionEvents', () => {
  describe('log lines (S-50, S-51)', () => {
    it('writes one line of JSON per event with an ISO 8601 UTC time', () => {
      events().emit('authn_login_success', { userId: 'u-alice', sessionId: SID, ip: '203.0.113.7' });
      expect(lines).toHaveLength(1);
      const [line] = messages() as [string];
      expect(line).not.toMatch(/[\r\n\u2028\u2029]/);
      const parsed = JSON.parse(line) as Record<string, unknown>;
      expect(parsed.type).toBe('authn_login_success');
      expect(parsed.time).toBe(new Date(NOW).toISOString());
      expect(parsed.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(parsed).toMatchObject({ userId: 'u-alice', ip: '203.0.113.7' });
    });

    it('never logs the raw session id, only its short keyed hash', () => {
      const ev = events();
      const received: SessionAuditEvent[] = [];
      ev.subscribe((e) => received.push(e));
      ev.emit('session_revoked', { userId: 'u-alice', sessionId: SID, reason: 'logout' });
      const [line] = messages() as [string];
      expect(line).not.toContain(SID);
      expect(JSON.stringify(received)).not.toContain(SID);
      const parsed = JSON.parse(line) as Record<string, unknown>;
      expect(Object.keys(parsed).sort()).toEqual(['reason', 'sessionHash', 'time', 'type', 'userId']);
      expect(parsed.sessionHash).toBe(ev.sessionHash(SID));
      expect(parsed.sessionHash).toMatch(/^[A-Za-z0-9_-]{12}$/);
      expect(received[0]?.sessionHash).toBe(parsed.sessionHash);
    });

    it('the session hash is stable, distinct per session, and keyed per deployment', () => {
      const ev = events();
      expect(ev.sessionHash(SID)).toBe(events().sessionHash(SID));
      expect(ev.sessionHash(SID)).not.toBe(ev.sessionHash('ZyXwVuTsRqPoNmLkJiHgFe'));
      const otherDeployment = events({ secret: createHash('sha256').update('another deployment').digest('base64url') });
      expect(otherDeployment.sessionHash(SID)).not.toBe(ev.sessionHash(SID));
      // Not a plain (unkeyed) hash that anyone holding the id could recompute.
      const plain = [
        createHash('sha256').update(SID).digest('base64url'),
        createHash('sha256').update(SID).digest('hex'),
      ];
      for (const p of plain) expect(p.startsWith(ev.sessionHash(SID))).toBe(false);
    });

    it('never puts a token in the log, even when a caller passes one as a field', () => {
      events().emit('authn_token_invalid', { reason: 'signature_or_claims', userId: 'u-alice', sessionId: TOKEN });
      expect(messages().join('\n')).not.toContain(TOKEN);
    });
  });

  describe("through Nest's ConsoleLogger (issue 11 item 7)", () => {
    const emitSome = (ev: SessionEvents) => {
      ev.emit('authn_login_success', { userId: 'u-alice', sessionId: SID, ip: '203.0.113.7' });
      ev.emit('authn_login_fail', { userId: 'bob\n{"type":"forged"}', ip: '203.0.113.7' });
      // 21 from one address: the 21st is dropped and summarised at shutdown.
      for (let i = 0; i < 21; i += 1) ev.emit('csrf_fail', { ip: '198.51.100.1', reason: 'origin' });
      ev.onApplicationShutdown();
    };

    it('JSON mode: each audit line is one JSON object with the event as an object under `message`', () => {
      Logger.overrideLogger(new ConsoleLogger({ json: true }));
      const ev = events();
      const out = stdoutOf(() => emitSome(ev));
      expect(out).toHaveLength(1 + 1 + 20 + 1);
      const records = out.map((line) => JSON.parse(line) as Record<string, unknown>);
      for (const r of records) {
        expect(r).toMatchObject({ context: 'SessionAudit', level: expect.stringMatching(/^(log|warn)$/) });
        expect(typeof r.message).toBe('object');
      }
      const logged = records.map((r) => r.message as Record<string, unknown>);
      expect(logged[0]).toEqual({
        type: 'authn_login_success',
        time: new Date(NOW).toISOString(),
        userId: 'u-alice',
        sessionHash: ev.sessionHash(SID),
        ip: '203.0.113.7',
      });
      expect(records[0].level).toBe('log');
      expect(logged[1]).toMatchObject({ type: 'authn_login_fail', userId: 'bob\\u000a{"type":"forged"}' });
      expect(records[1].level).toBe('warn');
      expect(logged.at(-1)).toEqual({
        type: 'audit_suppressed',
        event: 'csrf_fail',
        count: 1,
        ip: '198.51.100.1',
        time: new Date(NOW).toISOString(),
      });
    });

    it('text mode: each audit line stays one readable line ending in the event as JSON', () => {
      Logger.overrideLogger(new ConsoleLogger({ colors: false }));
      const ev = events();
      const out = stdoutOf(() => emitSome(ev));
      expect(out).toHaveLength(23);
      for (const line of out) expect(line).toMatch(/^\[Nest\] \d+ +- .+ (LOG|WARN) \[SessionAudit\] \{"type":".*\}$/);
      const first = JSON.parse(out[0].slice(out[0].indexOf('{'))) as Record<string, unknown>;
      expect(first).toEqual({
        type: 'authn_login_success',
        time: new Date(NOW).toISOString(),
        userId: 'u-alice',
        sessionHash: ev.sessionHash(SID),
        ip: '203.0.113.7',
      });
    });

    it('loggers that build a string from the message still get the JSON line', () => {
      const ev = events();
      ev.emit('session_created', { userId: 'u-alice', sessionId: SID });
      expect(String(lines[0].message)).toBe(
        JSON.stringify({
          type: 'session_created',
          time: new Date(NOW).toISOString(),
          userId: 'u-alice',
          sessionHash: ev.sessionHash(SID),
        }),
      );
    });
  });

  describe('log injection (S-52)', () => {
    const hostile = [
      'bob\n{"type":"authn_login_success","userId":"admin"}',
      'bob\r\nFAKE LOG LINE',
      'bob\u2028second line',
      'bob\u2029third line',
      'bob\u0000nul',
      'bob\u001b[31mred\u001b[0m',
      'bob\u0085next-line',
      'bob\u007fdel',
    ];

    it.each(hostile)('neutralises control characters in user fields: %j', (value) => {
      const received: SessionAuditEvent[] = [];
      const ev = events();
      ev.subscribe((e) => received.push(e));
      ev.emit('authn_login_fail', { userId: value, ip: value, reason: value });
      expect(lines).toHaveLength(1);
      const [line] = messages() as [string];
      expect(line).not.toMatch(/[\p{Cc}\u2028\u2029]/u);
      // No JSON escape of a raw character (an odd run of backslashes before n, r, t, u…): the
      // control characters were escaped as text before the line was built.
      expect(line).not.toMatch(/(^|[^\\])(\\\\)*\\[bfnrtu]/);
      const parsed = JSON.parse(line) as Record<string, string>;
      expect(parsed.type).toBe('authn_login_fail');
      for (const field of ['userId', 'ip', 'reason']) {
        expect(parsed[field]).not.toMatch(/[\p{Cc}\u2028\u2029]/u);
        // The first hostile character follows "bob" and reads as its escape.
        expect(parsed[field]).toMatch(/^bob\\u[0-9a-f]{4}/);
      }
      // Subscribers get the same neutralised values as the log.
      expect(received[0]).toEqual(parsed);
    });

    it('bounds the length of user fields', () => {
      events().emit('authn_login_fail', {
        userId: 'u'.repeat(10_000),
        ip: '1'.repeat(10_000),
        reason: 'r'.repeat(10_000),
      });
      const parsed = JSON.parse(messages()[0]) as Record<string, string>;
      expect(parsed.userId.length).toBeLessThanOrEqual(200);
      expect(parsed.ip.length).toBeLessThanOrEqual(64);
      expect(parsed.reason.length).toBeLessThanOrEqual(64);
    });

    it('sanitizeForLog escapes every C0/C1 control and line separator, and keeps ordinary text', () => {
      let all = '';
      const controls: number[] = [];
      for (let c = 0; c <= 0x9f; c += 1) {
        all += String.fromCharCode(c);
        if (c < 0x20 || c >= 0x7f) controls.push(c);
      }
      all += '\u2028\u2029';
      controls.push(0x2028, 0x2029);
      const out = sanitizeForLog(all, 10_000);
      expect(out).not.toMatch(/[\p{Cc}\u2028\u2029]/u);
      for (const c of controls) expect(out).toContain(`\\u${c.toString(16).padStart(4, '0')}`);
      // Printable ASCII is kept, except the backslash, which is doubled so escapes stay unambiguous.
      expect(out).toContain(
        ' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\\\]^_`abcdefghijklmnopqrstuvwxyz{|}~',
      );
      expect(out).toHaveLength(all.length - controls.length + 6 * controls.length + 1);
      expect(sanitizeForLog('alice@example.com é 💥')).toBe('alice@example.com é 💥');
    });

    it('sanitizeForLog escapes bidi, zero-width and other format characters (issue 10 item 11)', () => {
      const cases: Array<[string, string]> = [
        ['\u202e', '\\u202e'], // right-to-left override
        ['\u202a\u202b\u202c\u202d', '\\u202a\\u202b\\u202c\\u202d'],
        ['\u2066\u2067\u2068\u2069', '\\u2066\\u2067\\u2068\\u2069'], // isolates
        ['\u200b\u200c\u200d', '\\u200b\\u200c\\u200d'], // zero-width space / joiners
        ['\u200e\u200f\u061c', '\\u200e\\u200f\\u061c'], // direction marks
        ['\ufeff\u2060\u00ad\u180e', '\\ufeff\\u2060\\u00ad\\u180e'],
        ['\u{e0041}', '\\u{e0041}'], // tag character, outside the BMP
        ['\ud800x', '\\ud800x'], // lone surrogate
        ['a\\u202e', 'a\\\\u202e'], // typed text that merely looks like an escape
      ];
      for (const [input, escaped] of cases) expect(sanitizeForLog(`x${input}y`)).toBe(`x${escaped}y`);
    });

    it('sanitizeForLog never cuts an escape or a surrogate pair when it shortens', () => {
      expect(sanitizeForLog('abcd\u202eef', 6)).toBe('abcd');
      expect(sanitizeForLog('abcd\u202eef', 10)).toBe('abcd\\u202e');
      expect(sanitizeForLog('abc💥', 4)).toBe('abc');
      expect(sanitizeForLog('\u202e'.repeat(1000)).length).toBeLessThanOrEqual(200);
    });
  });

  describe('subscribers (S-53)', () => {
    it('delivers every event to onEvent and subscribers; unsubscribe stops delivery', () => {
      const fromOption: SessionAuditEvent[] = [];
      const fromSubscriber: SessionAuditEvent[] = [];
      const ev = events({ onEvent: (e) => fromOption.push(e) });
      const unsubscribe = ev.subscribe((e) => fromSubscriber.push(e));
      ev.emit('session_created', { userId: 'u-alice', sessionId: SID });
      ev.emit('authn_token_reuse', { userId: 'u-alice', sessionId: SID });
      unsubscribe();
      ev.emit('session_revoked', { userId: 'u-alice', sessionId: SID, reason: 'theft' });
      expect(fromOption.map((e) => e.type)).toEqual(['session_created', 'authn_token_reuse', 'session_revoked']);
      expect(fromSubscriber.map((e) => e.type)).toEqual(['session_created', 'authn_token_reuse']);
      expect(fromOption[0]).toEqual({
        type: 'session_created',
        time: new Date(NOW).toISOString(),
        userId: 'u-alice',
        sessionHash: ev.sessionHash(SID),
      });
    });

    it('a throwing onEvent or listener does not break emit or the other listeners', () => {
      const received: string[] = [];
      const ev = events({
        onEvent: () => {
          throw new Error('onEvent broke');
        },
      });
      ev.subscribe(() => {
        throw new Error('listener broke');
      });
      ev.subscribe((e) => received.push(e.type));
      expect(() => ev.emit('session_created', { userId: 'u' })).not.toThrow();
      expect(() => ev.emit('session_expired', { userId: 'u' })).not.toThrow();
      expect(received).toEqual(['session_created', 'session_expired']);
      expect(lines).toHaveLength(2);
    });
  });

  describe('rate limiting (S-54)', () => {
    it('1000 quick authn_token_invalid events give far fewer log lines, but reach subscribers', () => {
      const ev = events();
      let delivered = 0;
      ev.subscribe(() => {
        delivered += 1;
      });
      const started = Date.now();
      for (let i = 0; i < 1000; i += 1)
        ev.emit('authn_token_invalid', { reason: 'signature_or_claims', ip: '198.51.100.1' });
      const seconds = Math.ceil((Date.now() - started) / 1000) + 1;
      expect(delivered).toBe(1000);
      expect(lines.length).toBeGreaterThanOrEqual(1);
      // At most 20 events plus one summary line per started second.
      expect(lines.length).toBeLessThanOrEqual(21 * seconds);
      expect(lines.length).toBeLessThan(100);
      expect(lines.every((l) => l.level === 'warn')).toBe(true);
      ev.onApplicationShutdown();
    });

    it('reports how many lines it suppressed once the window moves on', () => {
      jest.useFakeTimers({ now: NOW });
      try {
        const ev = events();
        for (let i = 0; i < 50; i += 1) ev.emit('csrf_fail', { ip: '198.51.100.1' });
        expect(lines).toHaveLength(20);
        jest.setSystemTime(NOW + 1000);
        ev.emit('csrf_fail', { ip: '198.51.100.1' });
        const summary = messages()
          .map((m) => JSON.parse(m) as Record<string, unknown>)
          .find((m) => m.type === 'audit_suppressed');
        expect(summary).toMatchObject({ event: 'csrf_fail', count: 30, ip: '198.51.100.1' });
        expect(lines).toHaveLength(22);
      } finally {
        jest.useRealTimers();
      }
    });

    it('logs the lifecycle events of many users in full (each user has its own budget)', () => {
      const ev = events();
      for (let i = 0; i < 300; i += 1) ev.emit('session_created', { userId: `u-${i}`, sessionId: SID });
      expect(lines.filter((l) => l.level === 'log')).toHaveLength(300);
    });
  });

  describe('budget per event type and source (issue 10 item 1)', () => {
    const parsedLines = () => messages().map((m) => JSON.parse(m) as Record<string, unknown>);
    const summaries = () => parsedLines().filter((m) => m.type === 'audit_suppressed');
    let ev: SessionEvents;
    beforeEach(() => {
      jest.useFakeTimers({ now: NOW });
    });
    afterEach(() => {
      ev?.onApplicationShutdown();
      jest.useRealTimers();
    });

    it('one type flooding from one address leaves other types and other addresses their own budget', () => {
      ev = events();
      for (let i = 0; i < 50; i += 1) ev.emit('authn_token_invalid', { ip: '203.0.113.9', reason: 'malformed' });
      ev.emit('authn_login_fail', { userId: 'bob@example.com', ip: '203.0.113.9' });
      ev.emit('csrf_fail', { ip: '203.0.113.9', reason: 'origin' });
      ev.emit('authn_token_invalid', { ip: '198.51.100.2', reason: 'malformed' });
      const logged = parsedLines();
      expect(logged.filter((m) => m.type === 'authn_token_invalid' && m.ip === '203.0.113.9')).toHaveLength(20);
      expect(logged.filter((m) => m.type === 'authn_login_fail')).toEqual([
        expect.objectContaining({ userId: 'bob@example.com', ip: '203.0.113.9' }),
      ]);
      expect(logged.filter((m) => m.type === 'csrf_fail')).toHaveLength(1);
      expect(logged.filter((m) => m.type === 'authn_token_invalid' && m.ip === '198.51.100.2')).toHaveLength(1);
    });

    it('charges a failed login to the address, not to the name typed (new names bring no new budget)', () => {
      ev = events();
      for (let i = 0; i < 60; i += 1)
        ev.emit('authn_login_fail', { userId: `user${i}@example.com`, ip: '203.0.113.9' });
      expect(lines).toHaveLength(20);
      jest.advanceTimersByTime(1000);
      expect(summaries()).toEqual([
        {
          type: 'audit_suppressed',
          event: 'authn_login_fail',
          count: 40,
          ip: '203.0.113.9',
          time: new Date(NOW).toISOString(),
        },
      ]);
    });

    it('charges authenticated events to the user, whatever address they come from', () => {
      ev = events();
      for (let i = 0; i < 500; i += 1)
        ev.emit('authz_fail', { userId: 'u-alice', sessionId: SID, ip: `10.0.${i >> 8}.${i & 255}` });
      ev.emit('authz_fail', { userId: 'u-bob', sessionId: SID, ip: '10.0.0.1' });
      expect(lines).toHaveLength(21);
      expect(lines.every((l) => l.level === 'warn')).toBe(true);
      jest.advanceTimersByTime(1000);
      expect(summaries()).toEqual([expect.objectContaining({ event: 'authz_fail', count: 480, userId: 'u-alice' })]);
      expect(summaries()[0]).not.toHaveProperty('ip');
    });

    it('writes the summary when the window ends, without waiting for another event', () => {
      ev = events();
      for (let i = 0; i < 25; i += 1) ev.emit('csrf_fail', { userId: 'u-alice', ip: '203.0.113.9', reason: 'token' });
      jest.advanceTimersByTime(999);
      expect(summaries()).toEqual([]);
      jest.advanceTimersByTime(1);
      expect(summaries()).toEqual([expect.objectContaining({ event: 'csrf_fail', count: 5, userId: 'u-alice' })]);
      expect(lines.at(-1)?.level).toBe('warn');
      // Nothing more to say: no further lines while nothing happens.
      jest.advanceTimersByTime(10_000);
      expect(lines).toHaveLength(21);
    });

    it('the budget renews each window and lifecycle events of one user are bounded too', () => {
      ev = events();
      for (let i = 0; i < 30; i += 1) ev.emit('session_created', { userId: 'u-alice', sessionId: SID });
      jest.advanceTimersByTime(1000);
      for (let i = 0; i < 30; i += 1) ev.emit('session_created', { userId: 'u-alice', sessionId: SID });
      jest.advanceTimersByTime(1000);
      expect(parsedLines().filter((m) => m.type === 'session_created')).toHaveLength(40);
      expect(summaries().map((m) => m.count)).toEqual([10, 10]);
    });

    it('bounds the tracked sources; the rest share one budget per type, summarised as overflow', () => {
      ev = new SessionEvents(resolveSessionOptions({ secret: SECRET }, 'auth', { now: () => NOW, store: 'server' }), {
        perWindow: 20,
        windowMs: 1000,
        maxSources: 50,
      });
      for (let i = 0; i < 1000; i += 1)
        ev.emit('authn_token_invalid', { ip: `10.1.${i >> 8}.${i & 255}`, reason: 'malformed' });
      for (let i = 0; i < 30; i += 1) ev.emit('csrf_fail', { ip: `10.2.0.${i}`, reason: 'origin' });
      // 50 tracked addresses with a line each, then 20 lines for all the others together.
      expect(parsedLines().filter((m) => m.type === 'authn_token_invalid')).toHaveLength(70);
      expect(parsedLines().filter((m) => m.type === 'csrf_fail')).toHaveLength(20);
      jest.advanceTimersByTime(1000);
      expect(summaries()).toEqual([
        expect.objectContaining({ event: 'authn_token_invalid', count: 930, overflow: true }),
        expect.objectContaining({ event: 'csrf_fail', count: 10, overflow: true }),
      ]);
    });

    it('keeps at most the default cap of sources in memory however many addresses send', () => {
      ev = events();
      const internals = ev as unknown as { budget: { trackedSources: number } };
      for (let i = 0; i < 5000; i += 1)
        ev.emit('authn_token_invalid', { ip: `10.3.${i >> 8}.${i & 255}`, reason: 'malformed' });
      expect(internals.budget.trackedSources).toBe(1000);
      jest.advanceTimersByTime(1000);
      expect(internals.budget.trackedSources).toBe(0);
      expect(summaries()).toEqual([
        expect.objectContaining({ event: 'authn_token_invalid', count: 5000 - 1000 - 20, overflow: true }),
      ]);
    });

    it('writes pending summaries at shutdown', () => {
      ev = events();
      for (let i = 0; i < 21; i += 1) ev.emit('authn_token_invalid', { ip: '203.0.113.9', reason: 'malformed' });
      ev.onApplicationShutdown();
      expect(summaries()).toEqual([
        expect.objectContaining({ event: 'authn_token_invalid', count: 1, ip: '203.0.113.9' }),
      ]);
    });

    it('delivers every event to subscribers, however many lines are dropped', () => {
      ev = events();
      const received: string[] = [];
      ev.subscribe((e) => received.push(e.type));
      for (let i = 0; i < 100; i += 1) ev.emit('authz_fail', { userId: 'u-alice', sessionId: SID });
      expect(received).toHaveLength(100);
      expect(lines).toHaveLength(20);
    });

    it('logs token reuse and theft revocations at WARN, other revocations at LOG', () => {
      ev = events();
      ev.emit('authn_token_reuse', { userId: 'u-alice', sessionId: SID });
      ev.emit('session_revoked', { userId: 'u-alice', sessionId: SID, reason: 'theft' });
      ev.emit('session_revoked', { userId: 'u-bob', sessionId: SID, reason: 'logout' });
      expect(lines.map((l) => l.level)).toEqual(['warn', 'warn', 'log']);
    });
  });
});
