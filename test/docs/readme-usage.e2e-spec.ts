/**
 * The README's usage example compiles against the built package: the first ```ts block of its
 * "## Usage" section, next to declarations of the few names it leaves to the reader, under strict
 * `tsc --noEmit`, with `nestjs-jwt-session` mapped to dist/ (`npm test` builds it first). A name the
 * package does not export, or a call with a wrong signature, fails this test.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

/**
 * Names the example uses without defining them: the app's own classes. Declared with the shapes
 * the example relies on, and nothing more.
 */
const READER_DECLARATIONS: Record<string, string> = {
  UsersService: `declare class UsersService {
  verify(email: string, password: string): Promise<{ id: string; role: string } | undefined>;
}`,
  LoginDto: 'declare class LoginDto { email: string; password: string; }',
  NoteDto: 'declare class NoteDto { text: string; }',
};

/** The first ```ts block under "## Usage", up to the next "## " heading. */
function usageExample(readme: string): string {
  const start = readme.search(/^## Usage\s*$/m);
  if (start < 0) throw new Error('README.md has no "## Usage" section');
  const rest = readme.slice(start + '## Usage'.length);
  const end = rest.search(/^## /m);
  const section = end < 0 ? rest : rest.slice(0, end);
  const block = /^```ts\s*\n([\s\S]*?)^```\s*$/m.exec(section);
  if (!block) throw new Error('the "## Usage" section of README.md has no ```ts block');
  return block[1];
}

/** Compiles `source` in a fresh directory; resolves with tsc's exit code and diagnostics. */
async function compile(source: string): Promise<{ code: number; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'readme-usage-'));
  try {
    // The app's dependencies are the repository's (Nest, cache-manager-redis-yet, @types/node).
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    writeFileSync(join(dir, 'usage.ts'), source);
    // A script (no import/export), so these are global declarations the example sees.
    writeFileSync(join(dir, 'reader.d.ts'), Object.values(READER_DECLARATIONS).join('\n') + '\n');
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2023'],
          strict: true,
          noEmit: true,
          experimentalDecorators: true,
          emitDecoratorMetadata: true,
          skipLibCheck: true,
          types: ['node'],
          paths: { 'nestjs-jwt-session': [join(ROOT, 'dist/index.d.ts')] },
        },
        files: ['usage.ts', 'reader.d.ts'],
      }),
    );
    try {
      await promisify(execFile)(process.execPath, [TSC, '-p', join(dir, 'tsconfig.json'), '--pretty', 'false']);
      return { code: 0, output: '' };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('README usage example', () => {
  let example: string;
  beforeAll(() => {
    if (!existsSync(join(ROOT, 'dist/index.d.ts')))
      throw new Error('dist/ is missing: run `npm run build` first (`npm test` does)');
    example = usageExample(readFileSync(join(ROOT, 'README.md'), 'utf8'));
  });

  it('uses the names left to the reader, and defines none of them itself', () => {
    for (const name of Object.keys(READER_DECLARATIONS)) {
      expect(example).toMatch(new RegExp(`\\b${name}\\b`));
      expect(example).not.toMatch(new RegExp(`\\b(class|interface|type)\\s+${name}\\b`));
    }
  });

  it('compiles under strict tsc against the built package', async () => {
    const { code, output } = await compile(example);
    // The diagnostics first, so a failure says what to fix in the README.
    expect(output).toBe('');
    expect(code).toBe(0);
  }, 60_000);

  it('would fail on a name the package does not export (the check is not vacuous)', async () => {
    const broken = example.replace(/\bSessionModule,/, 'SessionModule, NotExportedByThePackage,');
    expect(broken).not.toBe(example);
    const { code, output } = await compile(broken);
    expect(code).not.toBe(0);
    expect(output).toMatch(/TS2305: Module '"nestjs-jwt-session"' has no exported member 'NotExportedByThePackage'/);
  }, 60_000);
});
