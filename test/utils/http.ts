import request from 'supertest';
import { parseSetCookies, type WithHeaders } from './set-cookie.js';

export const ALICE = { email: 'alice@example.com', password: 'alice-password-123' };
export const BOB = { email: 'bob@example.com', password: 'bob-password-123' };
export const ADMIN = { email: 'admin@example.com', password: 'admin-password-123' };

/** Header-transport login: returns the tokens. */
export async function loginHeader(
  url: string,
  user = ALICE,
): Promise<{ accessToken: string; refreshToken: string; accessTokenExpiresAt: string }> {
  const res = await request(url).post('/auth/login').set('X-Auth-Transport', 'header').send(user).expect(200);
  return res.body;
}

/** A cookie-transport browser-like client: keeps the access/refresh cookies and the CSRF token. */
export class CookieClient {
  access = '';
  refresh = '';
  csrf = '';
  constructor(
    readonly url: string,
    readonly accessName = '__Host-session',
    readonly refreshName = '__Secure-refresh',
  ) {}

  cookieHeader(forRefresh = false): string {
    const parts: string[] = [];
    if (this.access) parts.push(`${this.accessName}=${this.access}`);
    // The refresh cookie is path-scoped to /auth/refresh; a browser sends it only there.
    if (forRefresh && this.refresh) parts.push(`${this.refreshName}=${this.refresh}`);
    return parts.join('; ');
  }

  absorb(res: WithHeaders & { body: { csrfToken?: string } }): void {
    for (const c of parseSetCookies(res)) {
      if (c.name === this.accessName) this.access = c.value;
      if (c.name === this.refreshName) this.refresh = c.value;
    }
    if (res.body?.csrfToken) this.csrf = res.body.csrfToken;
  }

  async login(user = ALICE) {
    const res = await request(this.url).post('/auth/login').send(user);
    this.absorb(res);
    return res;
  }

  get(path: string) {
    return request(this.url).get(path).set('Cookie', this.cookieHeader());
  }

  post(path: string, body?: object, csrf = true) {
    const req = request(this.url)
      .post(path)
      .set('Cookie', this.cookieHeader(path === '/auth/refresh'));
    if (csrf && this.csrf) req.set('X-CSRF-Token', this.csrf);
    return body ? req.send(body) : req;
  }

  delete(path: string, csrf = true) {
    const req = request(this.url).delete(path).set('Cookie', this.cookieHeader());
    if (csrf && this.csrf) req.set('X-CSRF-Token', this.csrf);
    return req;
  }

  async refreshTokens() {
    const res = await this.post('/auth/refresh');
    if (res.status === 200) this.absorb(res);
    return res;
  }
}
