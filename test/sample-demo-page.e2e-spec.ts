/**
 * The demo page (`GET /`, DESIGN.md "The sample app") under its own Content-Security-Policy: every
 * source 'self' (or 'none'), never 'unsafe-inline', and a page with nothing inline that such a
 * policy would block, whose files are served. In-process and from the built sample (the build must
 * ship the files). The page does not touch the session store. test/browser/sample-page.browser.ts
 * runs the page in Chromium under this policy.
 */
import request from 'supertest';
import { MemorySessionRepository } from '../lib/index.js';
import { type SampleProcess, startBuiltSample } from './utils/built-sample.js';
import { type RunningSample, startSample, TEST_SECRET } from './utils/sample-app.js';

/** `default-src 'self'; frame-ancestors 'none'` → { 'default-src': ["'self'"], … } */
function parseCsp(header: string): Record<string, string[]> {
  const directives: Record<string, string[]> = {};
  for (const part of header.split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) directives[name.toLowerCase()] = values;
  }
  return directives;
}

/** What the page loads: the src of each script and the href of each stylesheet. */
function pageFiles(html: string): string[] {
  const scripts = [...html.matchAll(/<script\b[^>]*\bsrc="([^"]+)"/gi)].map((m) => m[1]);
  const styles = [...html.matchAll(/<link\b[^>]*\brel="stylesheet"[^>]*\bhref="([^"]+)"/gi)].map((m) => m[1]);
  return [...scripts, ...styles];
}

const TYPES: Record<string, RegExp> = { '.js': /^text\/javascript\b/, '.css': /^text\/css\b/ };

async function expectPageUnderOwnCsp(url: string): Promise<void> {
  const res = await request(url).get('/').expect(200);
  expect(res.headers['content-type']).toMatch(/^text\/html\b/);
  const csp = parseCsp(res.headers['content-security-policy'] ?? '');
  expect(csp['default-src']).toEqual(["'self'"]);
  for (const name of ['script-src', 'style-src']) expect(csp[name] ?? csp['default-src']).toEqual(["'self'"]);
  expect(csp['frame-ancestors']).toEqual(["'none'"]);
  expect(csp['base-uri']).toEqual(["'none'"]);
  expect(csp['object-src']).toEqual(["'none'"]);
  // Every source list holds only 'self' or 'none': no hosts, schemes, nonces, hashes or unsafe-*.
  for (const values of Object.values(csp)) for (const v of values) expect(["'self'", "'none'"]).toContain(v);

  const html = res.text;
  // Nothing inline that the policy blocks: script bodies, <style>, style="…", onclick="…", javascript: URLs.
  for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
    expect(m[1]).toMatch(/\bsrc="/);
    expect(m[2].trim()).toBe('');
  }
  expect(html).not.toMatch(/<style\b/i);
  expect(html).not.toMatch(/\sstyle\s*=/i);
  expect(html).not.toMatch(/\son[a-z]+\s*=/i);
  expect(html).not.toMatch(/javascript:/i);

  const files = pageFiles(html);
  expect(files.sort()).toEqual(['/demo.css', '/demo.js']);
  for (const file of files) {
    const asset = await request(url).get(file).expect(200);
    expect(asset.headers['content-type']).toMatch(TYPES[file.slice(file.lastIndexOf('.'))]);
    expect(asset.headers['x-content-type-options']).toBe('nosniff');
    expect((asset.text ?? '').length).toBeGreaterThan(50);
  }
  // The script is the page's own: it drives the buttons the browser test presses.
  const script = (await request(url).get('/demo.js')).text;
  for (const id of ['login', 'me-btn', 'sessions-btn', 'refresh-btn', 'logout-btn', 'note'])
    expect(script).toContain(`'${id}'`);
}

describe('the demo page under its own CSP', () => {
  let sample: RunningSample;
  let proc: SampleProcess;
  afterAll(async () => {
    await sample?.close();
    await proc?.stop();
  });

  it("in-process: a CSP of only 'self' (and 'none'), nothing inline, its files served", async () => {
    sample = await startSample({ store: new MemorySessionRepository() });
    await expectPageUnderOwnCsp(sample.url);
  });

  it('the built sample (npm run start:prod) serves the same page and ships its files', async () => {
    proc = await startBuiltSample({ SESSION_SECRET: TEST_SECRET });
    await expectPageUnderOwnCsp(proc.url);
  });
});
