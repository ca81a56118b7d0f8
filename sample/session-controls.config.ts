import type { SessionModuleOptions } from '../lib/index.js';
import { envInteger } from './session.config.js';

/**
 * SESSION_MAX_PER_USER, SESSION_CAP_POLICY, SESSION_FRESH_AGE and SESSION_LOCAL_CACHE; unset keeps
 * the module's defaults.
 */
export function sessionControlsFromEnv(): Partial<SessionModuleOptions> {
  const out: Partial<SessionModuleOptions> = {};
  if (process.env.SESSION_MAX_PER_USER) out.maxSessionsPerUser = envInteger('SESSION_MAX_PER_USER', 50);
  const policy = process.env.SESSION_CAP_POLICY;
  if (policy) {
    if (policy !== 'evict-oldest' && policy !== 'refuse') {
      throw new Error(`SESSION_CAP_POLICY must be evict-oldest or refuse, got "${policy}"`);
    }
    out.sessionCapPolicy = policy;
  }
  out.freshAge = envInteger('SESSION_FRESH_AGE', 300, 'a whole number of seconds');
  const cache = process.env.SESSION_LOCAL_CACHE ?? 'false';
  if (cache !== 'true' && cache !== 'false') {
    throw new Error(`SESSION_LOCAL_CACHE must be true or false, got "${cache}"`);
  }
  if (cache === 'true') out.localCache = true;
  return out;
}
