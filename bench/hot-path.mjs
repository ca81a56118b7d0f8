/**
 * In-process cost of the module's request path, no HTTP and no Redis (a stub store answers
 * "live"): `SessionGuard.canActivate` for bearer and cookie requests, the access-token check,
 * and jsonwebtoken's own verify for comparison. Prints ns per call (best and median of 5).
 * Run after `npm run build`:  node bench/hot-path.mjs
 */
import 'reflect-metadata';
import { createSecretKey, randomBytes } from 'node:crypto';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import jwt from 'jsonwebtoken';
import { Authenticated, SessionGuard, SessionModule, SessionService } from '../dist/index.js';
import { AccessTokenService } from '../dist/tokens/access-token.service.js';

const live = { status: 'ok', session: { roles: ['user'], data: undefined, authTime: Date.now() } };
const store = {
  kind: 'stub',
  create: async () => ({ status: 'created', evicted: [] }),
  validate: async () => live,
  rotate: async () => ({ status: 'missing' }),
  revoke: async () => false,
  revokeAll: async () => 0,
  list: async () => [],
  cleanup: async () => ({ scanned: 0, removed: 0 }),
  ping: async () => undefined,
  acquireLock: async () => null,
};
const app = await NestFactory.createApplicationContext(
  SessionModule.forRoot({ secret: randomBytes(32), store, cleanup: { enabled: false } }),
  { logger: false },
);
// The guard writes headers through the app's HTTP adapter; an application context has none.
app.get(HttpAdapterHost).httpAdapter = new ExpressAdapter();
const guard = app.get(SessionGuard);
const accessTokens = app.get(AccessTokenService);
const { accessToken } = await app.get(SessionService).create({ id: 'user-1', roles: ['user'] });

class Controller {
  me() {}
}
Authenticated()(Controller.prototype, 'me', Object.getOwnPropertyDescriptor(Controller.prototype, 'me'));
/** What ExpressAdapter calls on an Express response (`set`, `append`), doing nothing. */
const response = { set() {}, append() {} };

async function measure(name, fn, n = 100_000) {
  for (let i = 0; i < n / 4; i++) await fn();
  const runs = [];
  for (let r = 0; r < 5; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await fn();
    runs.push(Number(process.hrtime.bigint() - start) / n);
  }
  runs.sort((a, b) => a - b);
  console.log(`${name.padEnd(52)} ${runs[0].toFixed(0).padStart(6)} ns  (median ${runs[2].toFixed(0)})`);
}

const canActivate = (headers) => () =>
  guard.canActivate(
    new ExecutionContextHost(
      [{ headers, method: 'GET', ip: '127.0.0.1', protocol: 'http' }, response, () => undefined],
      Controller,
      Controller.prototype.me,
    ),
  );
await measure('SessionGuard.canActivate, bearer (stub store)', canActivate({ authorization: `Bearer ${accessToken}` }));
await measure(
  'SessionGuard.canActivate, cookie (stub store)',
  canActivate({ cookie: `__Host-session=${accessToken}` }),
);
await measure('AccessTokenService.verify (HS256)', () => accessTokens.verify(accessToken, Date.now()));
const key = createSecretKey(randomBytes(32));
const peerToken = jwt.sign({ sub: 'user-1', sid: 'x'.repeat(22) }, key, { algorithm: 'HS256', expiresIn: 900 });
await measure('jsonwebtoken.verify, KeyObject (the minimal peer)', () =>
  jwt.verify(peerToken, key, { algorithms: ['HS256'] }),
);
await app.close();
