import type { HttpRequestLike } from '../http/http-request.js';

/** The fields of Node's `IncomingMessage` a WebSocket handshake is read from. */
export interface HandshakeRequest {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly method?: string | undefined;
  readonly socket?: { readonly remoteAddress?: string | undefined; readonly encrypted?: boolean } | null;
}

/** Sockets and the handshake request that opened them (the guard reads the principal from there). */
const handshakes = new WeakMap<object, HandshakeRequest>();

export function rememberHandshake(socket: object, req: HandshakeRequest): void {
  handshakes.set(socket, req);
}

/** The handshake of a socket `SessionSockets` accepted, else socket.io's `socket.request`. */
export function handshakeOf(client: unknown): HandshakeRequest | undefined {
  if (!client || typeof client !== 'object') return undefined;
  return handshakes.get(client) ?? (client as { request?: HandshakeRequest }).request;
}

/**
 * A handshake seen as the request shape the module reads. A raw `IncomingMessage` has no `ip` or
 * `protocol` (Express adds those): they come from the socket, without trust-proxy rules.
 */
export function asHttpRequest(req: HandshakeRequest): HttpRequestLike {
  const r = req as HandshakeRequest & { ip?: string; protocol?: string };
  if (typeof r.ip === 'string' && typeof r.protocol === 'string') return r as unknown as HttpRequestLike;
  Object.defineProperties(req, {
    ip: { value: req.socket?.remoteAddress ?? '', configurable: true },
    protocol: { value: req.socket?.encrypted ? 'https' : 'http', configurable: true },
  });
  return req as unknown as HttpRequestLike;
}
