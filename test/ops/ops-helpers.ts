/** Helpers for the operations specs: raw Redis inspection, seeding and latency figures. */
import { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';

export type RawClient = ReturnType<typeof createClient>;

/** A plain client for inspecting a test Redis (never used by the app under test). */
export async function inspector(url: string): Promise<RawClient> {
  const client = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** `INFO commandstats` as command → calls. */
export async function commandCalls(client: { info(section: string): Promise<string> }): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await client.info('commandstats')).split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (m) out.set(m[1], Number(m[2]));
  }
  return out;
}

/**
 * Writes `users` × `perUser` expired entries (scores in the past) and one live entry per user
 * into `<prefix>{user-N}:x`, in one Lua loop on a single node.
 */
export async function seedIndexes(
  client: RawClient,
  o: { prefix: string; users: number; perUser: number; expiredAt: number; liveUntil: number },
): Promise<void> {
  const script = `
local users, per, past, live = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
for u = 1, users do
  local args = {}
  for i = 1, per do
    args[#args + 1] = past - i
    args[#args + 1] = 'expired-' .. i
  end
  args[#args + 1] = live
  args[#args + 1] = 'live-' .. u
  redis.call('ZADD', ARGV[1] .. '{user-' .. u .. '}:x', unpack(args))
end
return users`;
  await client.eval(script, {
    keys: [],
    arguments: [o.prefix, String(o.users), String(o.perUser), String(o.expiredAt), String(o.liveUntil)],
  });
}

/** Every key matching `pattern` on one node, by SCAN. */
export async function scanKeys(client: { scan: RawClient['scan'] }, pattern: string): Promise<string[]> {
  const keys = new Set<string>();
  let cursor = 0;
  do {
    const page = await client.scan(cursor, { MATCH: pattern, COUNT: 1000 });
    cursor = Number(page.cursor);
    for (const k of page.keys) keys.add(k);
  } while (cursor !== 0);
  return [...keys];
}

/** Index entries on one node: how many are expired at `now`, how many are live. */
export async function indexCounts(
  client: RawClient,
  pattern: string,
  now: number,
): Promise<{ keys: number; expired: number; live: number }> {
  const keys = await scanKeys(client, pattern);
  let expired = 0;
  let live = 0;
  for (const k of keys) {
    // A user's only session lives in the user key itself (a string, ended by its own TTL): one live entry.
    if ((await client.type(k)) === 'string') {
      live += 1;
      continue;
    }
    expired += await client.zCount(k, '-inf', now);
    live += await client.zCount(k, `(${now}`, '+inf');
  }
  return { keys: keys.length, expired, live };
}

/**
 * Raw `MONITOR` on a test Redis: collects every command line the server executes until `stop()`.
 * Lines look like `1700000000.123 [0 127.0.0.1:5000] "scan" "0" "MATCH" "x" "COUNT" "100"`.
 */
export async function monitor(port: number): Promise<{ lines: string[]; stop(): Promise<string[]> }> {
  const socket = new Socket();
  const lines: string[] = [];
  let buf = '';
  let ok = false;
  socket.on('data', (chunk) => {
    buf += chunk.toString('utf8');
    let eol: number;
    while ((eol = buf.indexOf('\r\n')) >= 0) {
      const line = buf.slice(0, eol);
      buf = buf.slice(eol + 2);
      if (line === '+OK') ok = true;
      else if (line.startsWith('+')) lines.push(line.slice(1));
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.connect(port, '127.0.0.1', () => {
      socket.write('*1\r\n$7\r\nMONITOR\r\n');
      resolve();
    });
  });
  const deadline = Date.now() + 2000;
  while (!ok) {
    if (Date.now() > deadline) throw new Error('MONITOR did not start');
    await sleep(5);
  }
  return {
    lines,
    async stop() {
      // A PING through MONITOR marks the end: every command sent before it has been echoed.
      const probe = await inspector(`redis://127.0.0.1:${port}`);
      await probe.ping();
      const end = Date.now() + 2000;
      while (!lines.some((l) => /"ping"$/i.test(l)) && Date.now() < end) await sleep(5);
      await probe.disconnect();
      socket.destroy();
      return lines;
    },
  };
}

/** The arguments of a MONITOR line, lower-cased command first. */
export function monitorArgs(line: string): string[] {
  const args = [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]);
  if (args.length > 0) args[0] = args[0].toLowerCase();
  return args;
}

/** Nearest-rank percentile of `values` (ms). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** One timed GET; returns status and elapsed ms. */
export async function timedGet(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; ms: number; retryAfter: string | null; body: string }> {
  const t0 = performance.now();
  const res = await fetch(url, { headers });
  const body = await res.text();
  return { status: res.status, ms: performance.now() - t0, retryAfter: res.headers.get('retry-after'), body };
}

/** Polls `probe` until it returns true, or fails after `timeoutMs`. */
export async function until(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs = 10_000,
  everyMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
