/**
 * A cookie jar that sends a cookie only where a browser would: to request paths its `Path`
 * attribute path-matches (RFC 6265 §5.1.4). With it a refresh cookie scoped to the wrong path
 * is simply not sent, and the refresh fails as it would in a browser.
 */
import request from 'supertest';
import { parseSetCookies, type WithHeaders } from '../utils/set-cookie.js';

/** RFC 6265 §5.1.4 path-match. */
export function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

export class PathJar {
  private readonly cookies = new Map<string, { value: string; path: string }>();
  csrf = '';

  constructor(readonly url: string) {}

  /** Keeps the answer's cookies (a cleared one, Max-Age=0, is dropped) and its CSRF token. */
  absorb(res: WithHeaders & { body?: { csrfToken?: string } }): void {
    for (const c of parseSetCookies(res)) {
      const path = typeof c.attrs.path === 'string' ? c.attrs.path : '/';
      if (c.attrs['max-age'] === '0') this.cookies.delete(`${c.name} ${path}`);
      else this.cookies.set(`${c.name} ${path}`, { value: c.value, path });
    }
    if (res.body?.csrfToken) this.csrf = res.body.csrfToken;
  }

  /** The Path each held cookie was set with, by name. */
  paths(): Record<string, string> {
    return Object.fromEntries([...this.cookies].map(([key, c]) => [key.split(' ')[0], c.path]));
  }

  private cookieHeader(path: string): string {
    return [...this.cookies]
      .filter(([, c]) => pathMatches(path, c.path))
      .map(([key, c]) => `${key.split(' ')[0]}=${c.value}`)
      .join('; ');
  }

  get(path: string) {
    return request(this.url).get(path).set('Cookie', this.cookieHeader(path));
  }

  /** An unsafe request with the CSRF token, as the demo page sends it; answers are absorbed. */
  async post(path: string, body?: object, headers: Record<string, string> = {}) {
    const req = request(this.url)
      .post(path)
      .set('Cookie', this.cookieHeader(path))
      .set('X-CSRF-Token', this.csrf)
      .set(headers);
    const res = await (body ? req.send(body) : req);
    this.absorb(res);
    return res;
  }
}
