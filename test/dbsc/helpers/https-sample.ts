import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Test } from '@nestjs/testing';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { SessionModuleOptions } from '../../../lib/index.js';
import { AppModule } from '../../../sample/app.module.js';
import { type RunningSample, TEST_SECRET, withClock, type SampleHooks } from '../../utils/sample-app.js';

/** A throwaway self-signed certificate for localhost and 127.0.0.1, made with openssl. */
export interface TestCertificate {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
  /** base64 SHA-256 of the SubjectPublicKeyInfo: what `--ignore-certificate-errors-spki-list` takes. */
  spkiHash: string;
  remove(): void;
}

export function selfSignedCertificate(): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'dbsc-cert-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { stdio: 'pipe' },
    );
  } catch (err) {
    throw new Error(`openssl could not make a test certificate ("apt-get install openssl"): ${String(err)}`, {
      cause: err,
    });
  }
  const cert = readFileSync(certFile);
  const spki = new X509Certificate(cert).publicKey.export({ type: 'spki', format: 'der' });
  return {
    certFile,
    keyFile,
    cert,
    key: readFileSync(keyFile),
    spkiHash: createHash('sha256').update(spki).digest('base64'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The sample app over HTTPS on a free loopback port; `url` is `https://localhost:PORT`. */
export async function startHttpsSample(
  tls: TestCertificate,
  overrides: Partial<SessionModuleOptions> = {},
  hooks: SampleHooks = {},
): Promise<RunningSample & { server: Server }> {
  const builder = Test.createTestingModule({ imports: [AppModule.register({ secret: TEST_SECRET, ...overrides })] });
  const moduleRef = await withClock(builder, hooks.clock, hooks.storeClock).compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({
    logger: hooks.logger ?? false,
    httpsOptions: { cert: tls.cert, key: tls.key },
  });
  await hooks.configure?.(app);
  await app.listen(0, '127.0.0.1');
  const server = app.getHttpServer() as Server;
  const { port } = server.address() as { port: number };
  return { app, server, url: `https://localhost:${port}`, close: () => app.close() };
}
