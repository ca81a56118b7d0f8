import Bowser from 'bowser';

/** Longest label, in bytes: it is stored in every session record, so it stays short. */
export const MAX_DEVICE_LABEL_BYTES = 64;
/** Shown when the User-Agent names neither a browser nor a system we know. */
export const UNKNOWN_DEVICE = 'Unknown device';
/** Real User-Agents are under 400 characters; parsing no more bounds the work a hostile one costs. */
const MAX_PARSED_CHARS = 512;
/** Names come from bowser's tables, or (for unknown browsers) from the User-Agent itself: only plain ones pass. */
const PLAIN_NAME = /^[A-Za-z][A-Za-z0-9 ._+-]{0,31}$/;
/** A leading `product/version` token (curl, okhttp, app names), as the fallback for non-browsers. */
const PRODUCT_TOKEN = /^([A-Za-z][A-Za-z0-9._-]{0,31})\/(\d{1,4})(?:[.\s;(]|$)/;

function plain(name: string | undefined): string | undefined {
  const n = name?.trim();
  return n && PLAIN_NAME.test(n) ? n : undefined;
}

/** The major version, if the version starts with a sane number. */
function major(version: string | undefined): string | undefined {
  return /^(\d{1,4})(?:\.|$)/.exec(version ?? '')?.[1];
}

/**
 * A readable label for a User-Agent, e.g. `Chrome 131 on macOS`, `Safari 17 on iOS`, `curl 8`:
 * printable ASCII, at most 64 bytes, `Unknown device` when nothing is recognised. Never throws.
 */
export function deviceLabel(userAgent: string | undefined): string {
  const ua = (userAgent ?? '').slice(0, MAX_PARSED_CHARS).trim();
  if (!ua) return UNKNOWN_DEVICE;
  let browser: string | undefined;
  let version: string | undefined;
  let os: string | undefined;
  try {
    const parsed = Bowser.parse(ua);
    browser = plain(parsed.browser.name);
    version = browser ? major(parsed.browser.version) : undefined;
    os = plain(parsed.os.name);
  } catch {
    // A parser bug must never fail a login: the label is a convenience.
  }
  if (!browser && !os) {
    const product = PRODUCT_TOKEN.exec(ua);
    if (!product) return UNKNOWN_DEVICE;
    [, browser, version] = product;
  }
  const app = browser ? (version ? `${browser} ${version}` : browser) : 'Unknown browser';
  const label = os ? `${app} on ${os}` : app;
  // Every part is ≤ 32 ASCII characters, so only the combination can run long.
  return label.length <= MAX_DEVICE_LABEL_BYTES ? label : label.slice(0, MAX_DEVICE_LABEL_BYTES);
}
