import { type INestApplication } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';

/** The HTTP platforms the sample runs on (`HTTP_ADAPTER`). */
export const HTTP_ADAPTERS = ['express', 'fastify'] as const;
export type HttpAdapterName = (typeof HTTP_ADAPTERS)[number];

/** `HTTP_ADAPTER` (default `express`); a typo fails startup instead of silently meaning Express. */
export function httpAdapterFromEnv(): HttpAdapterName {
  const raw = process.env.HTTP_ADAPTER || 'express';
  if (!(HTTP_ADAPTERS as readonly string[]).includes(raw)) {
    throw new Error(`HTTP_ADAPTER must be one of ${HTTP_ADAPTERS.join(', ')}, got "${raw}"`);
  }
  return raw as HttpAdapterName;
}

/** A trust-proxy setting as both platforms read it: a hop count, true/false, or addresses (`loopback`). */
export type TrustProxy = boolean | number | string;

/** `TRUST_PROXY` as Express would read it from `app.set`, typed so Fastify reads it the same way. */
export function trustProxyFromEnv(): TrustProxy | undefined {
  const raw = process.env.TRUST_PROXY;
  if (!raw) return undefined;
  if (raw === 'true' || raw === 'false') return raw === 'true';
  return /^\d+$/.test(raw) ? Number(raw) : raw;
}

/**
 * Fastify's defaults that answer differently from Express's, set to Express's answers so the
 * contract holds on both: bodies over 100 KB are 413 (Fastify: 1 MiB), and a 500-character
 * `DELETE /auth/sessions/:id` is 404 rather than 414 (Fastify refuses params over 100 characters).
 */
const FASTIFY_PARITY = { bodyLimit: 100 * 1024, maxParamLength: 1024 } as const;

/**
 * A fresh adapter for `NestFactory.create` / `createNestApplication`. Fastify takes trust proxy
 * at construction; Express takes it on the app (`applyAdapterSettings`).
 */
export function createHttpAdapter(
  name: HttpAdapterName,
  trustProxy?: TrustProxy,
  https?: { cert: Buffer; key: Buffer },
): AbstractHttpAdapter {
  // Express takes TLS from NestFactory's httpsOptions; Fastify from its own constructor.
  if (name === 'express') return new ExpressAdapter();
  const adapter = new FastifyAdapter({
    ...FASTIFY_PARITY,
    ...(https ? { https } : {}),
    // Fastify honours a hop count at run time (lib/request.js) though its types name only boolean and string.
    ...(trustProxy === undefined ? {} : { trustProxy: trustProxy as boolean | string }),
  });
  adapter.getInstance().addHook('onRequest', refuseForeignCharset);
  return adapter;
}

/**
 * Express's body parser answers 415 to a body in a charset it cannot decode; Fastify's parses it
 * as UTF-8 regardless. Same answer here: a declared charset other than UTF-8 is 415.
 */
function refuseForeignCharset(
  req: { headers: Record<string, string | string[] | undefined> },
  reply: { code(status: number): { send(body: unknown): unknown } },
  done: () => void,
): void {
  const type = req.headers['content-type'];
  const charset = typeof type === 'string' ? /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(type)?.[1] : undefined;
  if (charset === undefined || /^utf-?8$/i.test(charset)) return done();
  reply
    .code(415)
    .send({ statusCode: 415, error: 'Unsupported Media Type', message: `unsupported charset "${charset}"` });
}

/** Express settings that have no constructor option: trust proxy, and no `X-Powered-By` (Fastify sends none). */
export function applyAdapterSettings(app: INestApplication, trustProxy?: TrustProxy): void {
  if (app.getHttpAdapter().getType() !== 'express') return;
  const express = app.getHttpAdapter().getInstance() as {
    set(key: string, value: unknown): void;
    disable(key: string): void;
  };
  express.disable('x-powered-by');
  if (trustProxy !== undefined) express.set('trust proxy', trustProxy);
}

/** Fastify listens on 127.0.0.1 unless told otherwise; Express on every interface. Same for both here. */
export function listenHost(name: HttpAdapterName): string | undefined {
  return name === 'fastify' ? '0.0.0.0' : undefined;
}
