import { Controller, Get, Header, NotFoundException } from '@nestjs/common';
import { SkipSession } from '../decorators/skip.decorator.js';
import { type SessionJwks, SessionJwksService } from './session-jwks.service.js';

/** How long verifiers may cache the JWKS (s); announce a next key at least this long before it signs. */
export const JWKS_MAX_AGE = 300;

/**
 * `GET /.well-known/jwks.json`: the access-token public keys (`SessionJwksService`), 404 with
 * HS256. Not mounted by the module: add it to a module's `controllers`.
 * @publicApi
 */
@Controller('.well-known')
export class SessionJwksController {
  constructor(private readonly keys: SessionJwksService) {}

  @Get('jwks.json')
  @SkipSession()
  @Header('Cache-Control', `public, max-age=${JWKS_MAX_AGE}`)
  jwks(): SessionJwks {
    const doc = this.keys.jwks();
    if (!doc) throw new NotFoundException();
    return doc;
  }
}
