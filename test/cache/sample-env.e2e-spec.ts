/** SESSION_LOCAL_CACHE (DESIGN.md "Contract additions"), parsed by sample/session-controls.config.ts. */
import { MemorySessionRepository } from '../../lib/index.js';
import { sessionControlsFromEnv } from '../../sample/session-controls.config.js';
import { loginHeader } from '../utils/http.js';
import { startSample } from '../utils/sample-app.js';
import { stats, warm } from './cache-harness.js';

const saved = process.env.SESSION_LOCAL_CACHE;
afterEach(() => {
  if (saved === undefined) delete process.env.SESSION_LOCAL_CACHE;
  else process.env.SESSION_LOCAL_CACHE = saved;
});

it('unset or false: off; true: the cache with its defaults; anything else stops the sample', () => {
  delete process.env.SESSION_LOCAL_CACHE;
  expect(sessionControlsFromEnv().localCache).toBeUndefined();
  process.env.SESSION_LOCAL_CACHE = 'false';
  expect(sessionControlsFromEnv().localCache).toBeUndefined();
  process.env.SESSION_LOCAL_CACHE = 'true';
  expect(sessionControlsFromEnv().localCache).toBe(true);
  process.env.SESSION_LOCAL_CACHE = 'yes';
  expect(() => sessionControlsFromEnv()).toThrow(/SESSION_LOCAL_CACHE must be true or false/);
});

it('SESSION_LOCAL_CACHE=true: the sample answers GET /me from its cache', async () => {
  process.env.SESSION_LOCAL_CACHE = 'true';
  const sample = await startSample({ store: new MemorySessionRepository() });
  try {
    const t = await loginHeader(sample.url);
    await warm(sample, t.accessToken);
    expect(stats(sample).hits).toBeGreaterThan(0);
  } finally {
    await sample.close();
  }
});
