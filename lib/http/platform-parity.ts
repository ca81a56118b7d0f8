/**
 * Where Express and Fastify answer a request differently before any handler of the module runs,
 * and how the module evens it out. Applied to the module's paths only, from the pre-routing
 * listener (route-headers.ts). Everything else the module writes already goes through Nest's
 * HTTP adapter (session-transport.ts), and reads only what both request objects hold (http-request.ts).
 */

/** Nest's `HttpAdapter.getType()`: `express`, `fastify`, or another platform's name. */
export type HttpPlatform = string;

interface RawRequest {
  headers: Record<string, string | string[] | undefined>;
}

/**
 * `Content-Type: application/json` with an empty body: Express's parser reads it as no body,
 * Fastify's refuses it (400). A browser's `fetch` sends exactly that for a JSON-typed POST without
 * a body (refresh, logout); on Fastify it now reaches the handler as a request without a body too.
 */
function emptyJsonBodyAsNoBody(req: RawRequest): void {
  const type = req.headers['content-type'];
  if (req.headers['content-length'] === '0' && typeof type === 'string' && /^\s*application\/json\b/i.test(type)) {
    delete req.headers['content-type'];
  }
}

/** Makes a raw request to one of the module's paths read the same on `platform` as on Express. */
export function evenOutPlatform(platform: HttpPlatform, req: RawRequest): void {
  if (platform === 'fastify') emptyJsonBodyAsNoBody(req);
}
