import { Authenticated } from './decorators/authenticated.decorator.js';
import { resolveSessionOptions } from './session-options.js';

const secret = 'Zq3v9pT1xK8mW2rB7nL4cY6hJ0dF5gS1aE3uI9oP2tR';

describe('session-control options', () => {
  it('defaults: a finite cap of 50 with evict-oldest, fresh age 300 s, impersonation at most 1 h', () => {
    const o = resolveSessionOptions({ secret });
    expect(o.maxSessionsPerUser).toBe(50);
    expect(o.sessionCapPolicy).toBe('evict-oldest');
    expect(o.freshAge).toBe(300);
    expect(o.impersonationTimeoutMs).toBe(3_600_000);
  });

  it.each([0, -1, 1.5, 1001, Infinity, Number.NaN])('refuses maxSessionsPerUser %p', (max) => {
    expect(() => resolveSessionOptions({ secret, maxSessionsPerUser: max })).toThrow(
      'maxSessionsPerUser must be an integer between 1 and 1000',
    );
  });

  it('refuses an unknown cap policy, a non-positive fresh age and an impersonation longer than 1 h', () => {
    expect(() => resolveSessionOptions({ secret, sessionCapPolicy: 'lru' as never })).toThrow('sessionCapPolicy');
    expect(() => resolveSessionOptions({ secret, freshAge: 0 })).toThrow('freshAge');
    expect(() => resolveSessionOptions({ secret, impersonationTimeout: 3601 })).toThrow(
      'impersonationTimeout must be at most 3600 seconds',
    );
    expect(resolveSessionOptions({ secret, impersonationTimeout: 600 }).impersonationTimeoutMs).toBe(600_000);
  });

  it('@Authenticated({ fresh }) takes true or positive seconds only', () => {
    expect(() => Authenticated({ fresh: 0 })).toThrow(TypeError);
    expect(() => Authenticated({ fresh: -5 })).toThrow(TypeError);
    expect(() => Authenticated({ fresh: true })).not.toThrow();
    expect(() => Authenticated({ fresh: 60 })).not.toThrow();
  });
});
