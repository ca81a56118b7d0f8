import { createHash } from 'node:crypto';
import { jest } from '@jest/globals';
import { Logger, type LoggerService } from '@nestjs/common';
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
  return new SessionEvents(resolveSessionOptions({ secret: SECRET, clock: () => NOW, ...options }));
}
const messages = (): string[] => lines.map((l) => String(l.message));

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
      const plain = [createHash('sha256').update(SID).digest('base64url'), createHash('sha256').update(SID).digest('hex')];
      for (const p of plain) expect(p.startsWith(ev.sessionHash(SID))).toBe(false);
    });

    it('never puts a token in the log, even when a caller passes one as a field', () => {
      events().emit('authn_token_invalid', { reason: 'signature_or_claims', userId: 'u-alice', sessionId: TOKEN });
      expect(messages().join('\n')).not.toContain(TOKEN);
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
      expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
      // No JSON escape of a raw character (an odd run of backslashes before n, r, t, u…): the
      // control characters were escaped as text before the line was built.
      expect(line).not.toMatch(/(^|[^\\])(\\\\)*\\[bfnrtu]/);
      const parsed = JSON.parse(line) as Record<string, string>;
      expect(parsed.type).toBe('authn_login_fail');
      for (const field of ['userId', 'ip', 'reason']) {
        expect(parsed[field]).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
        // The first hostile character follows "bob" and reads as its escape.
        expect(parsed[field]).toMatch(/^bob\\u[0-9a-f]{4}/);
      }
      // Subscribers get the same neutralised values as the log.
      expect(received[0]).toEqual(parsed);
    });

    it('bounds the length of user fields', () => {
      events().emit('authn_login_fail', { userId: 'u'.repeat(10_000), ip: '1'.repeat(10_000), reason: 'r'.repeat(10_000) });
      const parsed = JSON.parse(messages()[0]!) as Record<string, string>;
      expect(parsed.userId!.length).toBeLessThanOrEqual(200);
      expect(parsed.ip!.length).toBeLessThanOrEqual(64);
      expect(parsed.reason!.length).toBeLessThanOrEqual(64);
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
      expect(out).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
      for (const c of controls) expect(out).toContain(`\\u${c.toString(16).padStart(4, '0')}`);
      // Printable ASCII is kept, except the backslash, which is doubled so escapes stay unambiguous.
      expect(out).toContain(' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\\\]^_`abcdefghijklmnopqrstuvwxyz{|}~');
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
      for (let i = 0; i < 1000; i += 1) ev.emit('authn_token_invalid', { reason: 'signature_or_claims', ip: '198.51.100.1' });
      const seconds = Math.ceil((Date.now() - started) / 1000) + 1;
      expect(delivered).toBe(1000);
      expect(lines.length).toBeGreaterThanOrEqual(1);
      // At most 20 events plus one summary line per started second.
      expect(lines.length).toBeLessThanOrEqual(21 * seconds);
      expect(lines.length).toBeLessThan(100);
      expect(lines.every((l) => l.level === 'warn')).toBe(true);
    });

    it('reports how many lines it suppressed once the window moves on', () => {
      jest.useFakeTimers({ now: NOW });
      try {
        const ev = events();
        for (let i = 0; i < 50; i += 1) ev.emit('csrf_fail', { ip: '198.51.100.1' });
        expect(lines).toHaveLength(20);
        jest.setSystemTime(NOW + 1000);
        ev.emit('csrf_fail', { ip: '198.51.100.1' });
        const summary = messages().map((m) => JSON.parse(m) as Record<string, unknown>).find((m) => m.type === 'audit_suppressed');
        expect(summary).toMatchObject({ count: 30 });
        expect(lines).toHaveLength(22);
      } finally {
        jest.useRealTimers();
      }
    });

    it('does not rate limit ordinary lifecycle events', () => {
      const ev = events();
      for (let i = 0; i < 300; i += 1) ev.emit('session_created', { userId: `u-${i}`, sessionId: SID });
      expect(lines.filter((l) => l.level === 'log')).toHaveLength(300);
    });
  });
});
