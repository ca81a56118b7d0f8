/**
 * The package as users get it (issue 11 item 5): `npm pack` of the built library, its file list and
 * package.json, then an install of the tarball into a fresh Nest app — one ESM, one CommonJS (which
 * needs Node's require(esm), hence the engines range) — compiled with tsc, booted, and driven over
 * HTTP: log in through SessionHttpService.login, then GET an @Authenticated() route.
 *
 * No network at test time: the app's node_modules gets symlinks into this repository's node_modules
 * for what the packed package.json declares (dependencies and required peers) and nothing else, then
 * `npm install --offline <tarball>` adds the library as a real copy (the links satisfy its ranges,
 * so npm fetches nothing), then links for what only the app uses (platform-express, @types/node). So a file missing from `files`, a wrong `exports` entry or an undeclared
 * runtime import fails here as it would for a user. Needs `npm run build` first (`npm test` does it).
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import request from 'supertest';
import { APP_EXTRAS, consumerAppFiles, type ModuleFormat } from './consumer-app.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

interface PackedFile {
  path: string;
}
interface PackageJson {
  main: string;
  types: string;
  exports: Record<string, unknown>;
  engines: Record<string, string>;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  devDependencies: Record<string, string>;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const repoPackage = readJson<PackageJson>(join(ROOT, 'package.json'));

let work: string;
let tarball: string;
let files: string[];

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist/index.js')))
    throw new Error('dist/index.js is missing: run `npm run build` first (`npm test` does)');
  work = mkdtempSync(join(tmpdir(), 'nestjs-jwt-session-pack-'));
  // --ignore-scripts: `npm test` has just built; nothing else may run here.
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], {
    cwd: ROOT,
  });
  const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: PackedFile[] }>;
  tarball = join(work, packed.filename);
  files = packed.files.map((f) => f.path).sort();
}, 60_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('holds the library built from lib/ (entry and types at dist/), LICENSE, README and package.json', () => {
    for (const f of [
      'package.json',
      'LICENSE',
      'README.md',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/session.module.js',
      'dist/testing/index.js',
      'dist/testing/index.d.ts',
    ]) {
      expect(files).toContain(f);
    }
    expect(files.every((f) => ['package.json', 'LICENSE', 'README.md'].includes(f) || f.startsWith('dist/'))).toBe(
      true,
    );
  });

  it('holds no sources, source maps, tests or sample, so nothing points at a file it lacks', () => {
    const unwanted = files.filter((f) =>
      /\.map$|\.ts$(?<!\.d\.ts)|\.spec\.|\.contract\.|^dist\/(lib|sample|test)\/|^(lib|sample|test|bench)\//.test(f),
    );
    expect(unwanted).toEqual([]);
    const js = files.filter((f) => f.endsWith('.js'));
    expect(js.length).toBeGreaterThan(10);
    for (const f of js) expect(readFileSync(join(ROOT, f), 'utf8')).not.toMatch(/sourceMappingURL/);
  });

  it('package.json: entry, types and exports point at shipped files; engines where require(esm) works', () => {
    expect(repoPackage.main).toBe('dist/index.js');
    expect(repoPackage.types).toBe('dist/index.d.ts');
    expect(repoPackage.exports['.']).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
    expect(repoPackage.exports['./testing']).toEqual({
      types: './dist/testing/index.d.ts',
      default: './dist/testing/index.js',
    });
    expect(repoPackage.engines).toEqual({ node: '^20.19.0 || ^22.12.0 || >=24' });
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
  });

  it('peers: Nest, @nestjs/passport and passport come from the app (dev dependencies here); cron is the one @nestjs/schedule uses', () => {
    for (const peer of ['@nestjs/common', '@nestjs/core', '@nestjs/schedule', '@nestjs/passport', 'passport']) {
      expect(repoPackage.peerDependencies[peer]).toBeDefined();
      expect(repoPackage.dependencies[peer]).toBeUndefined();
      expect(repoPackage.devDependencies[peer]).toBeDefined();
    }
    const scheduleCron = readJson<PackageJson>(join(ROOT, 'node_modules/@nestjs/schedule/package.json')).dependencies
      .cron;
    expect(repoPackage.dependencies.cron).toBe(scheduleCron);
  });
});

/** Links `names` from this repository's node_modules into `app`'s (see the file comment). */
function linkFromRepo(app: string, names: string[]): void {
  for (const name of names) {
    const target = join(ROOT, 'node_modules', name);
    if (!existsSync(target)) throw new Error(`${name} is not installed in this repository (npm ci)`);
    const link = join(app, 'node_modules', name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(target, link, 'dir');
  }
}

/** Boots the compiled app and resolves with its URL once it logs its port. */
function boot(app: string): Promise<{ url: string; stop: () => void; output: () => string }> {
  const child = spawn(process.execPath, ['dist/main.js'], {
    cwd: app,
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`the app did not start within 20 s: ${out}`));
    }, 20_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const port = /listening on (\d+)/.exec(out)?.[1];
      if (port) {
        clearTimeout(timer);
        resolve({ url: `http://127.0.0.1:${port}`, stop: () => child.kill(), output: () => out });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`the app exited (${code}): ${out}`));
    });
  });
}

describe.each(['esm', 'commonjs'] as ModuleFormat[])('a fresh %s Nest app with the tarball installed', (format) => {
  let app: string;
  let server: Awaited<ReturnType<typeof boot>> | undefined;
  afterAll(() => server?.stop());

  it('installs offline, compiles with tsc, boots, logs in over HTTP and reaches an @Authenticated() route', async () => {
    app = join(work, `app-${format}`);
    for (const [path, content] of Object.entries(consumerAppFiles(format))) {
      mkdirSync(dirname(join(app, path)), { recursive: true });
      writeFileSync(join(app, path), content);
    }
    // The tarball carries this same package.json.
    const optional = (n: string) => repoPackage.peerDependenciesMeta?.[n]?.optional === true;
    linkFromRepo(app, [
      ...Object.keys(repoPackage.dependencies),
      ...Object.keys(repoPackage.peerDependencies).filter((n) => !optional(n)),
    ]);

    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball], { cwd: app });
    // After the install: npm prunes what no package.json asks for.
    linkFromRepo(app, APP_EXTRAS);
    const installed = join(app, 'node_modules/nestjs-jwt-session');
    expect(existsSync(join(installed, 'dist/index.js'))).toBe(true);
    expect(
      readJson<{ dependencies: Record<string, string> }>(join(app, 'package.json')).dependencies['nestjs-jwt-session'],
    ).toMatch(/^file:/);

    await run(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: app }).catch((err: { stdout?: string }) => {
      throw new Error(`tsc failed in the ${format} app:\n${err.stdout ?? JSON.stringify(err)}`);
    });

    // The contract suite's entry resolves through `exports` and loads without a test runner.
    const load =
      format === 'esm'
        ? "import('nestjs-jwt-session/testing').then((m) => console.log(typeof m.describeRepositoryContract))"
        : "console.log(typeof require('nestjs-jwt-session/testing').describeRepositoryContract)";
    const { stdout: loaded } = await run(process.execPath, ['-e', load], { cwd: app });
    expect(loaded.trim()).toBe('function');

    server = await boot(app);
    const login = await request(server.url)
      .post('/login')
      .set('X-Auth-Transport', 'header')
      .send({ user: 'u-42' })
      .expect(200);
    expect(typeof login.body.accessToken).toBe('string');
    await request(server.url).get('/me').expect(401);
    const me = await request(server.url)
      .get('/me')
      .set('Authorization', `Bearer ${login.body.accessToken}`)
      .expect(200);
    expect(me.body).toEqual({ id: 'u-42', format });
    expect(server.output()).not.toMatch(/error|warn/i);
  }, 90_000);
});
