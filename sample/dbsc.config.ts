import { readFileSync } from 'node:fs';
import type { SessionModuleOptions } from '../lib/index.js';

/** `SESSION_DBSC=true`: device-bound sessions (Chromium registers over HTTPS only, or on localhost). */
export function dbscOptionsFromEnv(): SessionModuleOptions['dbsc'] {
  const raw = process.env.SESSION_DBSC ?? 'false';
  if (raw !== 'true' && raw !== 'false') throw new Error(`SESSION_DBSC must be true or false, got "${raw}"`);
  return { enabled: raw === 'true' };
}

/** `TLS_CERT_FILE` + `TLS_KEY_FILE` (PEM), both set: the sample serves HTTPS. One alone is a mistake. */
export function httpsOptionsFromEnv(): { cert: Buffer; key: Buffer } | undefined {
  const certFile = process.env.TLS_CERT_FILE;
  const keyFile = process.env.TLS_KEY_FILE;
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) throw new Error('TLS_CERT_FILE and TLS_KEY_FILE must be set together');
  return { cert: readFileSync(certFile), key: readFileSync(keyFile) };
}
