/**
 * The request and response shapes the module works with. Express and Fastify both expose
 * `headers`, `method`, `ip` and `protocol` (honouring the app's trust-proxy setting) on the
 * request, so reading needs no adapter; responses are written only through Nest's HTTP adapter
 * (see `SessionTransport`), which is where the platforms differ.
 */

/**
 * The request fields the module reads. Express's `Request` and Fastify's `FastifyRequest`
 * satisfy it as they are (no index signature, so no cast is needed in a controller).
 * @publicApi
 */
export interface HttpRequestLike {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly method: string;
  /** The client address as the platform resolved it (Express's `trust proxy` applies). */
  readonly ip?: string | undefined;
  /** `http` or `https` as the platform resolved it. */
  readonly protocol?: string | undefined;
}

/**
 * What `@Res()` gives: Express's `Response` or Fastify's `FastifyReply` (Node's `ServerResponse`
 * also fits). The module never calls it directly: it writes through the app's HTTP adapter.
 * @publicApi
 */
export interface HttpResponseLike {
  getHeader(name: string): unknown;
}

/** One header as a string; repeated headers are joined as HTTP allows. */
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

/** Extra per-request state the module keeps on the request object (symbol- or name-keyed). */
export function requestSlots(req: HttpRequestLike): Record<string | symbol, unknown> {
  return req as unknown as Record<string | symbol, unknown>;
}
