/**
 * The peers: which server each starts, how it logs in (one credential per connection), and the
 * checks that must pass before any load: one authenticated request is 2xx, unauthenticated ones
 * are refused.
 */
const PASSWORD = 'bench-password';
const email = (i) => `user-${i}@bench`;
const JSON_HEADERS = { 'content-type': 'application/json' };

async function post(url, path, body, headers = {}) {
  return fetch(`${url}${path}`, {
    method: 'POST',
    headers: { ...JSON_HEADERS, ...headers },
    body: JSON.stringify(body),
  });
}

async function expectStatus(what, res, expected) {
  const text = await res.text();
  if (!expected.includes(res.status))
    throw new Error(
      `check failed: ${what} answered ${res.status}, expected ${expected.join('/')}: ${text.slice(0, 200)}`,
    );
  return text;
}

async function login(url, i, headers = {}) {
  const res = await post(url, '/auth/login', { email: email(i), password: PASSWORD }, headers);
  const text = await expectStatus(`login of ${email(i)}`, res, [200]);
  return { body: JSON.parse(text), cookies: res.headers.getSetCookie() };
}

function cookiePair(cookies, name) {
  const line = cookies.find((c) => c.startsWith(`${name}=`));
  if (!line)
    throw new Error(`login set no ${name} cookie (got ${cookies.map((c) => c.split('=')[0]).join(', ') || 'none'})`);
  return line.slice(0, line.indexOf(';'));
}

/** One GET /me spec per connection, each with its own session (or token). */
async function meSpecs(url, count, credential) {
  const specs = [];
  for (let i = 0; i < count; i++) specs.push({ method: 'GET', path: '/me', headers: await credential(url, i) });
  return specs;
}

/** The checks every authenticated GET /me peer passes before load. */
async function checkMe(url, specs) {
  await expectStatus('GET /me with a credential', await fetch(`${url}/me`, { headers: specs[0].headers }), [200]);
  await expectStatus('GET /me without credentials', await fetch(`${url}/me`), [401]);
  await expectStatus(
    'GET /me with a forged bearer token',
    await fetch(`${url}/me`, { headers: { authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.AAAA' } }),
    [401],
  );
  return ['GET /me with credential → 200', 'without → 401', 'forged bearer → 401'];
}

const bearer =
  (loginHeaders = {}) =>
  async (url, i) => ({ authorization: `Bearer ${(await login(url, i, loginHeaders)).body.accessToken}` });
const cookie = (name) => async (url, i) => ({ cookie: cookiePair((await login(url, i)).cookies, name) });

function mePeer(name, server, label, credential, extra = {}) {
  return {
    name,
    server,
    label,
    ...extra,
    async prepare(url, count) {
      const specs = await meSpecs(url, count, credential);
      return { mode: 'static', specs, checks: await checkMe(url, specs) };
    },
  };
}

export const PEERS = [
  {
    name: 'bare',
    server: 'bare',
    label: 'bare (no auth)',
    async prepare(url) {
      await expectStatus('GET /me', await fetch(`${url}/me`), [200]);
      return { mode: 'static', specs: [{ method: 'GET', path: '/me' }], checks: ['GET /me → 200 (no auth to refuse)'] };
    },
  },
  mePeer('passport-jwt', 'passport-jwt', 'passport-jwt, KeyObject secret (stateless)', bearer()),
  mePeer('passport-jwt-string', 'passport-jwt-string', 'passport-jwt, string secret (stateless)', bearer()),
  mePeer('express-session', 'express-session', 'express-session + connect-redis', cookie('sid')),
  mePeer('minimal', 'minimal', 'minimal stateful (HS256 + Redis GET)', bearer()),
  mePeer('module-bearer', 'module', 'this module, @Authenticated(), bearer', bearer({ 'x-auth-transport': 'header' }), {
    module: true,
  }),
  mePeer('module-cookie', 'module', 'this module, @Authenticated(), cookie', cookie('__Host-session'), {
    module: true,
  }),
  mePeer(
    'module-cached',
    'module-cached',
    'this module + localCache, @Authenticated(), bearer',
    bearer({ 'x-auth-transport': 'header' }),
    { module: true },
  ),
  mePeer(
    'minimal-headers',
    'minimal-headers',
    'experiment: minimal stateful + the 3 response headers the module sets',
    bearer(),
    { experiment: true },
  ),
  mePeer(
    'module-with-interceptor',
    'module-with-interceptor',
    'experiment: @Authenticated() + TokenResponseInterceptor, bearer',
    bearer({ 'x-auth-transport': 'header' }),
    { module: true, experiment: true },
  ),
  mePeer(
    'module-passport',
    'module-passport',
    "this module, AuthGuard('session-jwt'), bearer",
    bearer({ 'x-auth-transport': 'header' }),
    { module: true },
  ),
  {
    name: 'module-refresh',
    server: 'module',
    label: 'this module, POST /auth/refresh (rotation)',
    module: true,
    async prepare(url, count) {
      const specs = [];
      for (let i = 0; i < count; i++) {
        specs.push({ refreshToken: (await login(url, i, { 'x-auth-transport': 'header' })).body.refreshToken });
      }
      const text = await expectStatus(
        'POST /auth/refresh',
        await post(url, '/auth/refresh', { refreshToken: specs[0].refreshToken }),
        [200],
      );
      specs[0].refreshToken = JSON.parse(text).refreshToken;
      await expectStatus(
        'POST /auth/refresh with a garbage token',
        await post(url, '/auth/refresh', { refreshToken: 'x.y.z' }),
        [401],
      );
      await expectStatus('POST /auth/refresh without a token', await post(url, '/auth/refresh', {}), [401]);
      return { mode: 'refresh', specs, checks: ['refresh → 200', 'garbage token → 401', 'no token → 401'] };
    },
  },
  {
    name: 'module-login',
    server: 'module',
    label: 'this module, POST /auth/login (trivial password)',
    module: true,
    async prepare(url, count) {
      await login(url, 0, { 'x-auth-transport': 'header' });
      await expectStatus(
        'login with a wrong password',
        await post(url, '/auth/login', { email: email(0), password: 'wrong' }),
        [401],
      );
      const specs = [];
      for (let i = 0; i < count; i++) {
        specs.push({
          method: 'POST',
          path: '/auth/login',
          headers: { ...JSON_HEADERS, 'x-auth-transport': 'header' },
          body: JSON.stringify({ email: email(i), password: PASSWORD }),
        });
      }
      return { mode: 'static', specs, checks: ['login → 200', 'wrong password → 401'] };
    },
  },
];

export { bearer, login, meSpecs, checkMe };
