/**
 * A throwaway consumer of the packed library: the smallest Nest app a user would write (the README's
 * usage), as files to write into a fresh directory, in ESM or CommonJS.
 */
export type ModuleFormat = 'esm' | 'commonjs';

/** What the app imports or compiles against beyond the library and its peers. */
export const APP_EXTRAS = ['@nestjs/platform-express', '@types/node'];

const MAIN_TS = `import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Body, Controller, Get, HttpCode, Module, Post, Req, Res } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { Authenticated, CurrentUser, type HttpRequestLike, SessionHttpService, SessionModule } from 'nestjs-jwt-session';

@Controller()
class AppController {
  constructor(private readonly http: SessionHttpService) {}

  @Post('login')
  @HttpCode(200)
  login(@Req() req: HttpRequestLike, @Res({ passthrough: true }) res: unknown, @Body() body: { user?: unknown }) {
    return this.http.login(req, res, { id: String(body.user), roles: ['user'] });
  }

  @Get('me')
  @Authenticated()
  me(@CurrentUser() user: { id: string }) {
    // Which module system really ran this file.
    return { id: user.id, format: typeof require === 'function' ? 'commonjs' : 'esm' };
  }
}

@Module({
  imports: [ScheduleModule.forRoot(), SessionModule.forRoot({ secret: randomBytes(32).toString('base64url') })],
  controllers: [AppController],
})
class AppModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  app.enableShutdownHooks();
  await app.listen(0, '127.0.0.1');
  console.log('listening on ' + (app.getHttpServer().address() as { port: number }).port);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
`;

/** Compiles against the `./testing` entry, as a user's own repository test would. */
const CONTRACT_TS = `import { type ContractFixture, type ContractTestApi, describeRepositoryContract } from 'nestjs-jwt-session/testing';
import type { SessionRepository } from 'nestjs-jwt-session';

export function describeMine(repo: SessionRepository, api: ContractTestApi): void {
  const setup = async (): Promise<ContractFixture> => ({ repo, teardown: async () => undefined });
  describeRepositoryContract('mine', setup, api);
}
`;

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    lib: ['ES2023'],
    strict: true,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    skipLibCheck: true,
    types: ['node'],
    rootDir: 'src',
    outDir: 'dist',
  },
  include: ['src'],
};

/**
 * path → content of the app's files. Its package.json lists no dependencies: npm, offline, would take
 * a listed one as unresolvable although it is linked in (the test says how it gets them).
 */
export function consumerAppFiles(format: ModuleFormat): Record<string, string> {
  const pkg = {
    name: `consumer-${format}`,
    version: '1.0.0',
    private: true,
    type: format === 'esm' ? 'module' : 'commonjs',
  };
  return {
    'package.json': JSON.stringify(pkg, null, 2),
    'tsconfig.json': JSON.stringify(TSCONFIG, null, 2),
    'src/main.ts': MAIN_TS,
    'src/contract.ts': CONTRACT_TS,
  };
}
