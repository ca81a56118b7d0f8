import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { evenOutPlatform, type HttpPlatform } from './platform-parity.js';
import { SessionRoutes } from './session-routes.js';

/** What every answer under the module's routes carries, errors included. */
export const ROUTE_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['Cache-Control', 'no-store'],
  ['Pragma', 'no-cache'],
  ['X-Content-Type-Options', 'nosniff'],
];

interface RawServer {
  prependListener(event: 'request', listener: RawListener): unknown;
  off(event: 'request', listener: RawListener): unknown;
}
interface RawResponse {
  headersSent?: boolean;
  setHeader(name: string, value: string): unknown;
}
type RawListener = (
  req: { url?: string; headers: Record<string, string | string[] | undefined> },
  res: RawResponse,
) => void;

/**
 * The lower-cased path segments of a request target, the way a lenient router could see them:
 * query and fragment dropped, %XX decoded, `\` read as `/`, empty and `.` segments dropped, `..`
 * applied. Matching more paths than the router does only makes more answers uncacheable.
 */
export function normalisedSegments(url: string): string[] {
  const end = url.search(/[?#]/);
  const path = (end < 0 ? url : url.slice(0, end))
    .replace(/%([0-9a-f]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)))
    .toLowerCase();
  const out: string[] = [];
  for (const segment of path.split(/[/\\]/)) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') out.pop();
    else out.push(segment);
  }
  return out;
}

/** True when the prefix's segments appear as a run in the path (a global prefix or version may come first). */
export function isUnderPrefix(url: string, prefix: readonly string[]): boolean {
  // Routes mounted at the root: the handlers set the headers; every app answer is not ours to change.
  if (prefix.length === 0) return false;
  const lower = url.toLowerCase();
  // Fast path for the common request: neither the prefix nor any escape in the target.
  if (!lower.includes('%') && !lower.includes(prefix[0])) return false;
  const segments = normalisedSegments(url);
  for (let i = 0; i + prefix.length <= segments.length; i += 1) {
    if (prefix.every((p, k) => segments[i + k] === p)) return true;
  }
  return false;
}

/**
 * Makes every answer under the module's route prefix `no-store` and `nosniff`, including the ones
 * no route handler writes: the body parser's 400 for broken JSON, a 404, an error the app's own
 * login route throws before it calls `login()`. Routers match paths case-insensitively (Express)
 * or after decoding, so a path-matching exception filter misses `/AUTH/LOGIN`; this listener runs
 * before the framework on the HTTP server itself (Express and Fastify alike) and matches leniently.
 * Apps served without Nest's HTTP server (serverless handlers) get the headers from the handlers only.
 */
@Injectable()
export class SessionRouteHeaders implements OnApplicationBootstrap, OnApplicationShutdown {
  private server: RawServer | undefined;
  private prefix: readonly string[] = [];
  private platform: HttpPlatform = 'express';
  private readonly listener: RawListener = (req, res) => {
    if (res.headersSent || typeof req.url !== 'string' || !isUnderPrefix(req.url, this.prefix)) return;
    for (const [name, value] of ROUTE_HEADERS) res.setHeader(name, value);
    evenOutPlatform(this.platform, req);
  };

  constructor(
    private readonly routes: SessionRoutes,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  onApplicationBootstrap(): void {
    // Read now: the app's global prefix and versioning are set before it initialises.
    this.prefix = this.routes.paths.baseSegments;
    this.platform = this.adapterHost.httpAdapter?.getType?.() ?? 'express';
    const server = this.adapterHost.httpAdapter?.getHttpServer?.() as Partial<RawServer> | undefined;
    if (typeof server?.prependListener !== 'function' || typeof server.off !== 'function') return;
    this.server = server as RawServer;
    // First in line, before Express or Fastify parse anything.
    this.server.prependListener('request', this.listener);
  }

  onApplicationShutdown(): void {
    this.server?.off('request', this.listener);
    this.server = undefined;
  }
}
