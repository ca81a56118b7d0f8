/**
 * SessionGuard's protected hooks, the way a GraphQL or WebSocket integration would use them:
 * `extractCredential` (the token from another place), `handleUnauthenticated` (the refusal in
 * another protocol's shape) and `getRequestResponse` (a context without a response to write to).
 * The checks themselves (session, roles, CSRF) stay the guard's. Memory and a real Redis.
 */
import {
  Controller,
  type ExecutionContext,
  Get,
  HttpException,
  HttpStatus,
  Injectable,
  type INestApplication,
  Module,
  UseGuards,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  CurrentUser,
  type HttpRequestLike,
  type RequestCredential,
  SessionGuard,
  type SessionGuardFailure,
  type SessionModuleOptions,
  type SessionRequestResponse,
  SessionStoreUnavailableError,
  SessionUnauthorizedError,
} from '../../lib/index.js';
import { AppModule } from '../../sample/app.module.js';
import { STORES } from '../e2e/helpers/store-matrix.js';
import { loginHeader } from '../utils/http.js';
import { type RedisProcess, startRedis } from '../utils/redis.js';
import { TEST_SECRET } from '../utils/sample-app.js';

/** A socket-style client sends its token in `X-Session-Token`; everything else as usual. */
@Injectable()
class TokenHeaderGuard extends SessionGuard {
  protected override extractCredential(req: HttpRequestLike, context: ExecutionContext): RequestCredential {
    const token = req.headers['x-session-token'];
    return typeof token === 'string' ? { token, transport: 'bearer' } : super.extractCredential(req, context);
  }
}

/** Refusals as a GraphQL server answers them: 200 with `errors[].extensions.code`. */
@Injectable()
class GraphqlStyleGuard extends SessionGuard {
  protected override handleUnauthenticated(error: unknown, failure: SessionGuardFailure): never {
    const code =
      error instanceof SessionUnauthorizedError
        ? 'UNAUTHENTICATED'
        : error instanceof SessionStoreUnavailableError
          ? 'UNAVAILABLE'
          : 'INTERNAL';
    throw new HttpException(
      { errors: [{ message: 'Not authenticated', extensions: { code, bearer: failure.bearer } }] },
      HttpStatus.OK,
    );
  }
}

/** A context with no response to write to (a WebSocket handshake): nothing is written, the checks still run. */
@Injectable()
class NoResponseGuard extends SessionGuard {
  protected override getRequestResponse(context: ExecutionContext): SessionRequestResponse {
    return { req: this.getRequest(context) };
  }
}

@Controller('hooks')
class HooksController {
  @Get('token-header')
  @UseGuards(TokenHeaderGuard)
  tokenHeader(@CurrentUser() user: { id: string }) {
    return { id: user.id };
  }

  @Get('graphql-style')
  @UseGuards(GraphqlStyleGuard)
  graphqlStyle(@CurrentUser() user: { id: string }) {
    return { id: user.id };
  }

  @Get('no-response')
  @UseGuards(NoResponseGuard)
  noResponse(@CurrentUser() user: { id: string }) {
    return { id: user.id };
  }
}

let redis: RedisProcess;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis?.stop());

describe.each(STORES)('SessionGuard hooks on the $name store', (store) => {
  let app: INestApplication;
  let url: string;
  let closeStore: () => Promise<void>;

  beforeAll(async () => {
    const s = await store.create(() => redis.url);
    closeStore = s.close;
    const options: Partial<SessionModuleOptions> = { secret: TEST_SECRET, ...s.options };
    @Module({
      imports: [AppModule.register(options)],
      controllers: [HooksController],
      providers: [TokenHeaderGuard, GraphqlStyleGuard, NoResponseGuard],
    })
    class TestModule {}
    const moduleRef = await Test.createTestingModule({ imports: [TestModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await app?.close();
    await closeStore?.();
  });

  it('extractCredential: a token from X-Session-Token authenticates; a bad one is still refused', async () => {
    const { accessToken } = await loginHeader(url);
    const ok = await request(url).get('/hooks/token-header').set('X-Session-Token', accessToken);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ id: 'u-alice' });
    const bad = await request(url).get('/hooks/token-header').set('X-Session-Token', `${accessToken}x`);
    expect(bad.status).toBe(401);
    expect(bad.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    // The default extraction still applies when the hook defers to it.
    await request(url).get('/hooks/token-header').set('Authorization', `Bearer ${accessToken}`).expect(200);
  });

  it('handleUnauthenticated: the refusal takes the shape the subclass chooses', async () => {
    const none = await request(url).get('/hooks/graphql-style');
    expect(none.status).toBe(200);
    expect(none.body).toEqual({
      errors: [{ message: 'Not authenticated', extensions: { code: 'UNAUTHENTICATED', bearer: false } }],
    });
    const forged = await request(url).get('/hooks/graphql-style').set('Authorization', 'Bearer a.b.c');
    expect(forged.body.errors[0].extensions).toEqual({ code: 'UNAUTHENTICATED', bearer: true });
    const { accessToken } = await loginHeader(url);
    await request(url)
      .get('/hooks/graphql-style')
      .set('Authorization', `Bearer ${accessToken}`)
      .expect(200, { id: 'u-alice' });
  });

  it('getRequestResponse without a response: authenticated as usual, no headers written', async () => {
    const { accessToken } = await loginHeader(url);
    const ok = await request(url).get('/hooks/no-response').set('Authorization', `Bearer ${accessToken}`);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ id: 'u-alice' });
    expect(ok.headers['cache-control']).toBeUndefined();
    expect(ok.headers['x-content-type-options']).toBeUndefined();
    const refused = await request(url).get('/hooks/no-response').set('Authorization', 'Bearer a.b.c');
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toBeUndefined();
  });
});
