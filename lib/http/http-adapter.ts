/**
 * The only place that knows Express from Fastify. Both expose `headers`, `method`, `ip` and
 * `protocol` (honouring the app's trust-proxy setting) on the request; responses differ.
 */

/** The request fields the module reads. */
export interface HttpRequestLike {
  headers: Record<string, string | string[] | undefined>;
  method: string;
  ip?: string;
  protocol?: string;
  [key: string]: unknown;
}

interface ExpressResponse {
  append(name: string, value: string): unknown;
  setHeader(name: string, value: string): unknown;
}

interface FastifyReply {
  header(name: string, value: string): unknown;
  raw: unknown;
}

export function header(req: HttpRequestLike, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

export function clientIp(req: HttpRequestLike): string {
  return typeof req.ip === 'string' ? req.ip : '';
}

export function isHttps(req: HttpRequestLike): boolean {
  return req.protocol === 'https';
}

function isExpress(res: unknown): res is ExpressResponse {
  return typeof (res as ExpressResponse).append === 'function';
}

export function setHeader(res: unknown, name: string, value: string): void {
  if (isExpress(res)) res.setHeader(name, value);
  else (res as FastifyReply).header(name, value);
}

/** Adds a Set-Cookie line without dropping ones set earlier. Fastify appends set-cookie itself. */
export function appendSetCookie(res: unknown, cookie: string): void {
  if (isExpress(res)) res.append('Set-Cookie', cookie);
  else (res as FastifyReply).header('set-cookie', cookie);
}
