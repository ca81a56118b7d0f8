import { type INestApplication, RequestMethod } from '@nestjs/common';

/**
 * `API_PREFIX` (e.g. `api`): every route of the contract moves under `/<prefix>` except the demo
 * page, its two files and `GET /health`. Unset or empty: no prefix.
 */
export function apiPrefixFromEnv(): string {
  const raw = (process.env.API_PREFIX ?? '').replace(/^\/+|\/+$/g, '');
  if (raw !== '' && !/^[A-Za-z0-9._~-]+(?:\/[A-Za-z0-9._~-]+)*$/.test(raw)) {
    throw new Error(`API_PREFIX must be URL path segments like "api" or "api/v2", got "${process.env.API_PREFIX}"`);
  }
  return raw;
}

/** The routes that stay at the root whatever the prefix. */
const UNPREFIXED = ['', 'health', 'demo.js', 'demo.css'].map((path) => ({ path, method: RequestMethod.GET }));

export function applyApiPrefix(app: INestApplication, prefix: string): void {
  if (prefix) app.setGlobalPrefix(prefix, { exclude: UNPREFIXED });
}
