import { HttpAdapterHost } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { resolveSessionOptions } from '../session-options.js';
import { SessionConfigError } from '../session.errors.js';
import type { SessionModuleOptions } from '../interfaces/session-module-options.interface.js';
import type { HttpResponseLike } from './http-request.js';
import type { SessionRoutes } from './session-routes.js';
import { SessionTransport } from './session-transport.js';

const SECRET = 'Zq3v9pT1xK8mW2rB7nL4cY6hJ0dF5gS1aE3uI9oP2tR';
const NOW = 1_700_000_000_000;

/** A response that records what the adapter writes; Nest's own setCookie builds the lines. */
class Recorded implements HttpResponseLike {
  readonly lines: Array<[string, string]> = [];
  getHeader(): undefined {
    return undefined;
  }
  cookies(): string[] {
    return this.lines.filter(([n]) => n === 'Set-Cookie').map(([, v]) => v);
  }
}

class RecordingAdapter extends ExpressAdapter {
  override setHeader(res: Recorded, name: string, value: string): void {
    res.lines.push([name, value]);
  }
  override appendHeader(res: Recorded, name: string, value: string): void {
    res.lines.push([name, value]);
  }
}

function transport(options: Partial<SessionModuleOptions> = {}): SessionTransport {
  const host = new HttpAdapterHost();
  host.httpAdapter = new RecordingAdapter();
  return new SessionTransport(
    resolveSessionOptions({ secret: SECRET, ...options }, 'auth', { now: () => NOW, store: 'server' }),
    host,
    // Where the app serves the refresh route is found at bootstrap; here it is given.
    { paths: { refreshPath: '/auth/refresh', baseSegments: ['auth'] } } as unknown as SessionRoutes,
  );
}

describe('SessionTransport writes cookies through the HTTP adapter (S-32, S-34, S-36)', () => {
  it('writes the access cookie with exactly the expected attributes', () => {
    const res = new Recorded();
    transport().setAccessCookie(res, 'tok.en.sig', NOW + 900_000);
    expect(res.cookies()).toEqual(['__Host-session=tok.en.sig; Path=/; Max-Age=900; HttpOnly; Secure; SameSite=Lax']);
  });

  it('writes the refresh cookie scoped to its path, with Domain only when asked', () => {
    const res = new Recorded();
    transport({ cookies: { accessName: 'app-s', domain: 'example.com' } }).setRefreshCookie(
      res,
      'r',
      NOW + 604_800_000,
    );
    expect(res.cookies()).toEqual([
      '__Secure-refresh=r; Path=/auth/refresh; Domain=example.com; Max-Age=604800; HttpOnly; Secure; SameSite=Strict',
    ]);
  });

  it('omits Secure only when secure is false (plain-HTTP development)', () => {
    const res = new Recorded();
    transport({ cookies: { secure: false, accessSameSite: 'Strict' } }).setAccessCookie(res, 'v', NOW + 60_000);
    expect(res.cookies()).toEqual(['session=v; Path=/; Max-Age=60; HttpOnly; SameSite=Strict']);
  });

  it('never writes a fractional or negative Max-Age', () => {
    const t = transport();
    const res = new Recorded();
    t.setAccessCookie(res, 'v', NOW + 899_900);
    t.setAccessCookie(res, 'v', NOW - 5_000);
    expect(res.cookies()).toEqual([
      '__Host-session=v; Path=/; Max-Age=899; HttpOnly; Secure; SameSite=Lax',
      '__Host-session=v; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax',
    ]);
  });

  it('clears both cookies with the attributes they were set with, Max-Age=0 and nothing else', () => {
    const res = new Recorded();
    transport({ cookies: { refreshName: '__Secure-r', domain: 'example.com', accessName: 'app-s' } }).endCookieSession(
      res,
    );
    expect(res.lines).toEqual([
      ['Set-Cookie', 'app-s=; Path=/; Domain=example.com; Max-Age=0; HttpOnly; Secure; SameSite=Lax'],
      [
        'Set-Cookie',
        '__Secure-r=; Path=/auth/refresh; Domain=example.com; Max-Age=0; HttpOnly; Secure; SameSite=Strict',
      ],
      ['Clear-Site-Data', '"cookies"'],
    ]);
  });

  it('an empty cookies.domain writes no Domain attribute, as before', () => {
    const res = new Recorded();
    transport({ cookies: { domain: '' } }).setAccessCookie(res, 'v', NOW + 60_000);
    expect(res.cookies()).toEqual(['__Host-session=v; Path=/; Max-Age=60; HttpOnly; Secure; SameSite=Lax']);
  });

  it.each(['example.com:8080', 'exa mple.com', 'https://example.com', 'bad_host.example'])(
    'refuses cookies.domain %p at startup, where a login would otherwise fail with 500',
    (domain) => {
      expect(() => transport({ cookies: { accessName: 'app-s', domain: 'example.com' } })).not.toThrow();
      // A name without __Host- so that only the domain itself can be refused.
      expect(() => transport({ cookies: { accessName: 'app-s', domain } })).toThrow(SessionConfigError);
      expect(() => transport({ cookies: { accessName: 'app-s', domain } })).toThrow(/is not a host name/);
    },
  );
});
