/**
 * Type-level test: the request and response types the public API takes accept what Express and
 * Fastify hand a controller, without a cast. `npm run typecheck` (tests included) fails if not.
 */
import type { Request as ExpressRequest, Response as ExpressResponse } from 'express';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import { clientIp, header, type HttpRequestLike, type HttpResponseLike, isHttps } from './http-request.js';

/** Compiles only when `T` is assignable to `U`. */
function accepts<U>() {
  return <T extends U>(value?: T): T | undefined => value;
}

describe('HttpRequestLike / HttpResponseLike', () => {
  it('accept Express and Fastify requests and responses as they are (TS2345 before)', () => {
    const fromExpress = accepts<HttpRequestLike>()<ExpressRequest>();
    const fromFastify = accepts<HttpRequestLike>()<FastifyRequest>();
    const toExpress = accepts<HttpResponseLike>()<ExpressResponse>();
    const toFastify = accepts<HttpResponseLike>()<FastifyReply>();
    const toNode = accepts<HttpResponseLike>()<ServerResponse>();
    expect([fromExpress, fromFastify, toExpress, toFastify, toNode]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('the readers work on a plain request of either shape', () => {
    const req: HttpRequestLike = {
      headers: { 'x-a': ['1', '2'], host: 'h' },
      method: 'GET',
      ip: '10.0.0.1',
      protocol: 'https',
    };
    expect(header(req, 'x-a')).toBe('1, 2');
    expect(header(req, 'host')).toBe('h');
    expect(header(req, 'missing')).toBeUndefined();
    expect(clientIp(req)).toBe('10.0.0.1');
    expect(clientIp({ headers: {}, method: 'GET' })).toBe('');
    expect(isHttps(req)).toBe(true);
    expect(isHttps({ headers: {}, method: 'GET', protocol: 'http' })).toBe(false);
  });
});
