// The demo page's script: a file, not inline, so the page's CSP can be 'self' only.
let csrfToken = null;
// The API's base path (API_PREFIX, e.g. "/api"), from the page's <meta name="api-base">.
const apiBase = document.querySelector('meta[name="api-base"]')?.getAttribute('content') ?? '';
const out = document.getElementById('out');
const statusEl = document.getElementById('status');

async function call(method, path, body) {
  const headers = { 'Content-Type': 'application/json' };
  if (csrfToken && method !== 'GET') headers['X-CSRF-Token'] = csrfToken;
  const res = await fetch(apiBase + path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let data;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  out.textContent = `${method} ${path} → ${res.status}\n` + JSON.stringify(data, null, 2);
  out.dataset.status = String(res.status);
  return { status: res.status, data };
}

async function loadCsrf() {
  const r = await call('GET', '/auth/csrf');
  if (r.status === 200) csrfToken = r.data.csrfToken;
}

document.getElementById('login').addEventListener('submit', async (e) => {
  e.preventDefault();
  const r = await call('POST', '/auth/login', {
    email: document.getElementById('email').value,
    password: document.getElementById('password').value,
  });
  if (r.status === 200) {
    csrfToken = r.data.csrfToken;
    statusEl.textContent = 'logged in as ' + r.data.user.email;
  }
});
document.getElementById('me-btn').addEventListener('click', () => call('GET', '/me'));
document.getElementById('sessions-btn').addEventListener('click', () => call('GET', '/auth/sessions'));
document.getElementById('refresh-btn').addEventListener('click', async () => {
  const r = await call('POST', '/auth/refresh');
  if (r.status === 200) csrfToken = r.data.csrfToken;
});
document.getElementById('logout-btn').addEventListener('click', async () => {
  const r = await call('POST', '/auth/logout');
  if (r.status === 204) {
    csrfToken = null;
    statusEl.textContent = 'logged out';
  }
});
document.getElementById('note').addEventListener('submit', (e) => {
  e.preventDefault();
  call('POST', '/notes', { text: document.getElementById('note-text').value });
});
// After a reload the cookies may still hold a session: ask for a fresh CSRF token.
loadCsrf().then(() => {
  if (csrfToken) statusEl.textContent = 'logged in';
});
