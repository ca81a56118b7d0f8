/**
 * Configured origins, compared as written. `new URL('capacitor://localhost').origin` is the
 * opaque origin "null", so WHATWG origins cannot represent app schemes (capacitor://, ionic://,
 * app://, chrome-extension://, file://): an entry is kept as `scheme://host[:port]` instead.
 */

/** Ports a browser leaves out of an `Origin` header for these schemes. */
const DEFAULT_PORTS: Record<string, string> = { http: '80', https: '443' };
const ENTRY = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~-]*)(?::(\d{1,5}))?\/?$/;

/** The normalised `scheme://host[:port]` of an entry, or why it cannot be compared with an `Origin` header. */
export function normaliseOrigin(entry: unknown): { origin: string } | { problem: string } {
  if (typeof entry !== 'string') return { problem: 'is not a string' };
  if (entry.trim().toLowerCase() === 'null')
    return { problem: 'is the opaque origin "null", which any sandboxed page can send' };
  if (/[/?#@]/.test(entry.replace(/^[^:]*:\/\//, '').replace(/\/$/, ''))) {
    return { problem: 'has a path, query, fragment or userinfo; an origin is only scheme://host[:port]' };
  }
  const m = ENTRY.exec(entry);
  if (!m) return { problem: 'is not an origin like https://app.example.com or capacitor://localhost' };
  const scheme = m[1].toLowerCase();
  let host = m[2].toLowerCase();
  const port = m[3];
  if (scheme in DEFAULT_PORTS) {
    // The URL parser canonicalises special-scheme hosts the way browsers serialise them (IDNA, IPv4 forms).
    try {
      host = new URL(`${scheme}://${host}`).hostname;
    } catch {
      return { problem: 'has a host a browser would not accept' };
    }
  }
  if (!host && scheme !== 'file') return { problem: 'has no host' };
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535))
    return { problem: 'has a port outside 1-65535' };
  const keepPort = port !== undefined && DEFAULT_PORTS[scheme] !== String(Number(port));
  return { origin: `${scheme}://${host}${keepPort ? `:${Number(port)}` : ''}` };
}
