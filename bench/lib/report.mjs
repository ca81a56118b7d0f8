/** RESULTS.md, results.svg and results.json from one run's results. */
import { invalidationMarkdown } from '../invalidation.mjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Defaults of the knobs (more, shorter rounds: a better median when other work shares the machine). */
export const DEFAULTS = { rounds: 4, warmup: 3, duration: 8, connections: 50, sessions: 100_000 };

export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

const fmt = (n, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : 'n/a';
const ms = (n) => (Number.isFinite(n) ? `${fmt(n, n < 10 ? 1 : 0)}` : 'n/a');
const x = (n) => (Number.isFinite(n) ? `${n.toFixed(2)}×` : 'n/a');

/** Per-peer medians and per-round ratios to bare (and to any other peer, on demand). */
export function analyse(results) {
  const rows = [];
  const byName = results.peers;
  const roundRps = (name, round) => byName[name]?.runs.find((r) => r.round === round)?.rps;
  for (const [name, p] of Object.entries(byName)) {
    const ratios = p.runs.map((r) => r.rps / roundRps('bare', r.round));
    const cmds = {};
    for (const r of p.runs) for (const [c, v] of Object.entries(r.redis ?? {})) (cmds[c] ??= []).push(v.perRequest);
    rows.push({
      name,
      label: p.label,
      module: p.module,
      rps: median(p.runs.map((r) => r.rps)),
      p50: median(p.runs.map((r) => r.p50)),
      p99: median(p.runs.map((r) => r.p99)),
      roundsRps: p.runs.map((r) => r.rps),
      ratios,
      ratio: median(ratios),
      cpu: median(p.runs.map((r) => r.cpuUsPerRequest)),
      redisCpu: median(p.runs.map((r) => r.redisCpuUsPerRequest)),
      load: p.runs.map((r) => r.loadAverage),
      redis: Object.fromEntries(Object.entries(cmds).map(([c, v]) => [c, median(v)])),
    });
  }
  /** Median over rounds of rps(a)/rps(b) in the same round. */
  const versus = (a, b) => {
    if (!byName[a] || !byName[b]) return NaN;
    return median(byName[a].runs.map((r) => r.rps / roundRps(b, r.round)));
  };
  const p99Versus = (a, b) => {
    if (!byName[a] || !byName[b]) return NaN;
    return median(byName[a].runs.map((r) => r.p99 / byName[b].runs.find((s) => s.round === r.round)?.p99));
  };
  /** Median over rounds of CPU-per-request(b) / CPU-per-request(a): the req/s ratio a CPU-bound server would show. */
  const cpuVersus = (a, b) => {
    if (!byName[a] || !byName[b]) return NaN;
    return median(
      byName[a].runs.map((r) => byName[b].runs.find((s) => s.round === r.round)?.cpuUsPerRequest / r.cpuUsPerRequest),
    );
  };
  /** Median over rounds of Redis CPU per request, a ÷ b in the same round. */
  const redisCpuVersus = (a, b) => {
    if (!byName[a] || !byName[b]) return NaN;
    return median(
      byName[a].runs.map(
        (r) => r.redisCpuUsPerRequest / byName[b].runs.find((s) => s.round === r.round)?.redisCpuUsPerRequest,
      ),
    );
  };
  return { rows, versus, p99Versus, cpuVersus, redisCpuVersus };
}

function targets(results, { versus, p99Versus, cpuVersus, redisCpuVersus }) {
  const t = [];
  const add = (what, value, ok, goal) => t.push({ what, value, goal, ok: Number.isFinite(value) ? ok(value) : null });
  add('module bearer req/s ÷ minimal stateful', versus('module-bearer', 'minimal'), (v) => v >= 0.95, '≥ 0.95');
  add(
    'same, as server CPU per request: minimal ÷ module bearer',
    cpuVersus('module-bearer', 'minimal'),
    (v) => v >= 0.95,
    '≥ 0.95',
  );
  add('module bearer p99 ÷ minimal stateful p99', p99Versus('module-bearer', 'minimal'), (v) => v <= 1.2, '≤ 1.20');
  add('module cookie req/s ÷ module bearer', versus('module-cookie', 'module-bearer'), (v) => v >= 0.9, '≥ 0.90');
  add(
    'same, as CPU per request: module bearer ÷ module cookie',
    cpuVersus('module-cookie', 'module-bearer'),
    (v) => v >= 0.9,
    '≥ 0.90',
  );
  add(
    'module bearer req/s ÷ express-session + connect-redis',
    versus('module-bearer', 'express-session'),
    (v) => v >= 1.4,
    '≥ 1.40',
  );
  add(
    'same, as CPU per request: express-session ÷ module bearer',
    cpuVersus('module-bearer', 'express-session'),
    (v) => v >= 1.4,
    '≥ 1.40',
  );
  add(
    'context: minimal stateful req/s ÷ express-session (what a design with one Redis read per request can reach)',
    versus('minimal', 'express-session'),
    () => true,
    '—',
  );
  const mem = results.memory?.perUser1?.bytesPerSession;
  add(
    'Redis bytes per session incl. index entry (1 session/user, desktop User-Agent stored as 64 bytes, used_memory)',
    mem,
    (v) => v <= 400,
    '≤ 400',
  );
  add('same, 3 sessions/user (index key shared)', results.memory?.perUser3?.bytesPerSession, (v) => v <= 400, '≤ 400');
  add('same, 10 sessions/user', results.memory?.perUser10?.bytesPerSession, (v) => v <= 400, '≤ 400');
  add(
    'same, 1 session/user, after its first refresh (previous digest kept for the grace window)',
    results.memory?.['perUser1-rotated']?.bytesPerSession,
    (v) => v <= 400,
    '≤ 400',
  );
  add(
    'same, refreshed, after the first touch a minute past the grace window',
    results.memory?.['perUser1-rotated-touched']?.bytesPerSession,
    (v) => v <= 400,
    '≤ 400',
  );
  add(
    'same, 1 session/user, 49-byte app User-Agent',
    results.memory?.['perUser1-shortUA']?.bytesPerSession,
    (v) => v <= 400,
    '≤ 400',
  );
  add('module + localCache req/s ÷ bare (issue 16)', versus('module-cached', 'bare'), (v) => v >= 0.95, '≥ 0.95');
  const cached = results.peers['module-cached']?.runs.map((r) =>
    Object.values(r.redis ?? {}).reduce((n, v) => n + v.perRequest, 0),
  );
  add(
    'module + localCache Redis commands per request (all, INFO commandstats)',
    median(cached ?? []),
    (v) => v <= 0.05,
    '≤ 0.05',
  );
  add(
    'revocation on replica A → refused by B, p99 ms (localCache)',
    results.invalidation?.steady.p99,
    (v) => v <= 50,
    '≤ 50',
  );
  add(
    'module + localCache req/s ÷ passport-jwt (stateless, no revocation)',
    versus('module-cached', 'passport-jwt'),
    (v) => v >= 0.95,
    '≥ 0.95',
  );
  const perRequest = (c) =>
    median(results.peers['module-bearer']?.runs.map((r) => r.redis?.[c]?.perRequest ?? 0) ?? []);
  add(
    'module bearer commands sent per request, MGET + EVALSHA (INFO commandstats; one round trip)',
    perRequest('mget') + perRequest('evalsha'),
    (v) => v > 0.98 && v < 1.02,
    '≈ 1.00',
  );
  add(
    'module bearer Redis CPU per request ÷ minimal stateful (plain GET), issue 16 §5',
    redisCpuVersus('module-bearer', 'minimal'),
    (v) => v <= 2,
    '≤ 2.0',
  );
  return t;
}

function svg(rows) {
  const rowH = 24;
  const top = 46;
  const labelW = 300;
  const barW = 230;
  const gap = 70;
  const width = labelW + 2 * barW + gap + 40;
  const height = top + rows.length * rowH + 30;
  const maxRps = Math.max(...rows.map((r) => r.rps).filter(Number.isFinite));
  const maxP99 = Math.max(...rows.map((r) => r.p99).filter(Number.isFinite));
  const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const colour = (r) => (r.name === 'bare' ? '#9aa0a6' : r.module ? '#0b8a6f' : '#3b6fb6');
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${labelW}" y="20" font-weight="bold">req/s (median of rounds, higher is better)</text>`,
    `<text x="${labelW + barW + gap}" y="20" font-weight="bold">p99 latency, ms (lower is better)</text>`,
  ];
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    const w1 = Number.isFinite(r.rps) ? (r.rps / maxRps) * barW : 0;
    const w2 = Number.isFinite(r.p99) ? (r.p99 / maxP99) * barW : 0;
    out.push(
      `<text x="${labelW - 8}" y="${y + 15}" text-anchor="end">${esc(r.label)}</text>`,
      `<rect x="${labelW}" y="${y + 3}" width="${w1.toFixed(1)}" height="${rowH - 8}" fill="${colour(r)}"/>`,
      `<text x="${labelW + w1 + 4}" y="${y + 15}">${fmt(r.rps)}</text>`,
      `<rect x="${labelW + barW + gap}" y="${y + 3}" width="${w2.toFixed(1)}" height="${rowH - 8}" fill="${colour(r)}" opacity="0.75"/>`,
      `<text x="${labelW + barW + gap + w2 + 4}" y="${y + 15}">${ms(r.p99)}</text>`,
    );
  });
  out.push(
    `<text x="${labelW}" y="${height - 8}" fill="#5f6368">grey: no auth · blue: peers · green: this module — 50 connections, Nest 12 on Express, see RESULTS.md</text>`,
    '</svg>',
  );
  return out.join('\n') + '\n';
}

function markdown(results, analysis) {
  const { cfg, machine } = results;
  const { rows } = analysis;
  const rounds = Math.max(...rows.map((r) => r.roundsRps.length));
  const env = [];
  if (cfg.rounds !== DEFAULTS.rounds) env.push(`BENCH_ROUNDS=${cfg.rounds}`);
  if (cfg.warmup !== DEFAULTS.warmup) env.push(`BENCH_WARMUP=${cfg.warmup}`);
  if (cfg.duration !== DEFAULTS.duration) env.push(`BENCH_DURATION=${cfg.duration}`);
  if (cfg.connections !== DEFAULTS.connections) env.push(`BENCH_CONNECTIONS=${cfg.connections}`);
  if (cfg.sessions !== DEFAULTS.sessions) env.push(`BENCH_SESSIONS=${cfg.sessions}`);
  if (cfg.peers.length) env.push(`BENCH_PEERS=${cfg.peers.join(',')}`);
  if (!cfg.extras) env.push('BENCH_EXTRAS=0');
  if (cfg.profile.length) env.push(`BENCH_PROFILE=${cfg.profile.join(',')}`);
  const L = [];
  L.push('# Benchmark results', '');
  L.push(
    `Run ${results.started} → ${results.finished} (UTC). Generated by \`bench/run.mjs\`; raw numbers in \`results.json\`.`,
    '',
  );
  L.push('Command:', '', '```sh', `${env.length ? env.join(' ') + ' ' : ''}npm run bench`, '```', '');
  L.push('## Machine', '');
  L.push(
    `- CPUs (\`nproc\`): ${machine.nproc}; \`lscpu\` model: ${machine.cpuModel}, ${machine.threadsPerCore} thread(s) per core; memory ${machine.memory}`,
  );
  L.push(`- ${machine.kernel}; Node ${machine.node}`);
  L.push(`- ${machine.redis} (${machine.redisSource})`);
  L.push(
    `- ${results.canPin ? 'Pinned with `taskset`: the server alone on CPU 0; autocannon and Redis on CPU 1.' : 'No CPU pinning (taskset missing or one CPU).'}`,
  );
  L.push(
    `- Packages: ${Object.entries(machine.packages)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  L.push('');
  L.push('## GET /me (and the refresh and login endpoints)', '');
  L.push(
    `${cfg.connections} connections, one credential (session) per connection, ${cfg.warmup} s warm-up then ${cfg.duration} s measured, ` +
      `rounds interleaved (every peer once per round, in table order), a fresh server process per run. ` +
      'Medians over rounds; "× bare" is req/s divided by the bare peer\'s req/s in the same round. ' +
      'Every measured run had zero non-2xx answers, errors and timeouts (the bench fails otherwise). ' +
      '"Server CPU µs / request" is the server process\'s user+system CPU time (from /proc) over the measured run divided by the requests sent: the cost of a request, and much less sensitive than req/s to other load on the machine. ' +
      '"Redis CPU µs / request" is the same for the redis-server process (when the bench started it). ' +
      'Redis commands per request come from `INFO commandstats` deltas over the measured run (commands run inside a Lua script are counted too, marked "in script").',
    '',
  );
  const roundCols = Array.from({ length: rounds }, (_, i) => `× bare r${i + 1}`);
  L.push(
    `| peer | req/s | range over rounds | p50 ms | p99 ms | ${roundCols.join(' | ')} | × bare | server CPU µs / request | Redis CPU µs / request | Redis commands / request |`,
  );
  L.push(`|---|---:|---:|---:|---:|${roundCols.map(() => '---:|').join('')}---:|---:|---:|---|`);
  for (const r of rows) {
    const cmds = Object.entries(r.redis)
      .filter(([, v]) => v >= 0.005)
      .map(
        ([c, v]) =>
          `${c.toUpperCase()} ${v.toFixed(2)}${r.module && !['evalsha', 'eval', 'evalsha_ro', 'mget'].includes(c) ? ' (in script)' : ''}`,
      )
      .join(', ');
    L.push(
      `| ${r.label} | ${fmt(r.rps)} | ${fmt(Math.min(...r.roundsRps))}–${fmt(Math.max(...r.roundsRps))} | ${ms(r.p50)} | ${ms(r.p99)} | ${r.ratios.map((v) => x(v)).join(' | ')} | **${x(r.ratio)}** | ${fmt(r.cpu)} | ${Number.isFinite(r.redisCpu) && r.redisCpu > 0 ? fmt(r.redisCpu, 1) : '—'} | ${cmds || '—'} |`,
    );
  }
  const loads = rows.flatMap((r) => r.load).filter(Number.isFinite);
  const busy = Object.values(results.peers)
    .flatMap((p) => p.runs.map((r) => r.machineBusyBefore))
    .filter(Number.isFinite);
  L.push(
    '',
    `1-minute load average at the start of the measured runs: ${fmt(Math.min(...loads), 1)}–${fmt(Math.max(...loads), 1)} (the bench itself keeps about 2 busy). ` +
      (busy.length
        ? `Before each run the bench waits (up to 45 s) for other processes to use less than 20% of the machine; measured just before the runs: ${fmt(100 * Math.min(...busy))}–${fmt(100 * Math.max(...busy))}% busy.`
        : ''),
  );
  L.push('', '![req/s and p99 per peer](results.svg)', '');
  L.push('## Targets (issue 6)', '');
  L.push('| target | measured | goal | met |', '|---|---:|---:|:---:|');
  for (const t of targets(results, analysis)) {
    L.push(
      `| ${t.what} | ${Number.isFinite(t.value) ? (t.value > 10 ? fmt(t.value) : t.value.toFixed(2)) : 'n/a'} | ${t.goal} | ${t.goal === '—' ? '—' : t.ok === null ? 'n/a' : t.ok ? 'yes' : '**no**'} |`,
    );
  }
  L.push('');
  if (results.monitor) {
    const m = results.monitor;
    const show = (o) =>
      Object.entries(o)
        .map(([c, n]) => `${c.toUpperCase()} ×${n}`)
        .join(', ') || 'none';
    L.push('## One round trip per authenticated request', '');
    L.push(
      `\`MONITOR\` while ${m.requests} sequential \`GET /me\` (module, bearer) ran: commands sent by clients: ${show(m.fromClients)}; ` +
        `run inside the script: ${show(m.inScripts)}.`,
      '',
    );
  }
  if (results.memory) {
    L.push('## Redis memory per session', '');
    L.push(
      'Sessions created through `RedisSessionRepository.create` (roles `["user"]`, a desktop Chrome User-Agent stored as its first 64 bytes as `SessionService` does, or a short app one, an IPv4 address, no data; a 5-byte key prefix like the default `sess:`). ' +
        '"used_memory" is the `INFO memory` delta divided by the number of sessions (includes the keyspace and expiry dictionaries); ' +
        '"MEMORY USAGE" sums the session\'s own key (none for a user\'s only session) and its share of the user key (the index, or that only session) over a 1 000-session sample.',
      '',
    );
    L.push(
      '| sessions | per user | User-Agent bytes | refreshed | used_memory B/session | MEMORY USAGE own key | + user key share | encoding | fields | created/s |',
    );
    L.push('|---:|---:|---:|:---:|---:|---:|---:|---|---|---:|');
    for (const m of Object.values(results.memory)) {
      L.push(
        `| ${fmt(m.sessions)} | ${m.perUser} | ${m.userAgentBytes} | ${m.rotated ?? '—'} | **${fmt(m.bytesPerSession)}** | ${fmt(m.memoryUsageHash)} | ${fmt(m.memoryUsageIndexShare)} | ${m.hashEncoding} | ${m.fieldNames.join(' ')} (${m.fieldBytes} B packed) | ${fmt(m.createPerSecond)} |`,
      );
    }
    L.push(
      '',
      "Each session is one packed string (issue 16): a user's only session lives in the user key itself, so one key per session up to the second one, when the user key becomes the index (a zset) and every session has a key of its own. " +
        'Every key costs roughly 150 B of dictionary and expiry entries, key name and object header before its value; the value is allocated in jemalloc size classes (160, 192, 224 B...), so a few bytes more can cost 32. ' +
        "The whole 111-byte User-Agent row shows what `SessionService`'s 64-byte cut saves.",
      '',
    );
  }
  if (results.scaling) {
    L.push('## GET /me with 1 vs many live sessions', '');
    L.push(
      "Module, bearer, every connection on the same single session; the extra sessions are other users' live sessions in the same Redis.",
      '',
    );
    L.push(
      '| round | live sessions | keys in Redis | req/s | p50 ms | p99 ms | server CPU µs / request |',
      '|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const s of results.scaling)
      L.push(
        `| ${s.round} | ${fmt(s.live)} | ${fmt(s.dbsize)} | ${fmt(s.rps)} | ${ms(s.p50)} | ${ms(s.p99)} | ${fmt(s.cpuUsPerRequest)} |`,
      );
    const one = median(results.scaling.filter((s) => s.live === 1).map((s) => s.rps));
    const many = median(results.scaling.filter((s) => s.live > 1).map((s) => s.rps));
    const cpuOne = median(results.scaling.filter((s) => s.live === 1).map((s) => s.cpuUsPerRequest));
    const cpuMany = median(results.scaling.filter((s) => s.live > 1).map((s) => s.cpuUsPerRequest));
    L.push(
      '',
      `Median req/s ratio many ÷ 1: ${x(many / one)}; server CPU per request many ÷ 1: ${x(cpuMany / cpuOne)}.`,
      '',
    );
  }
  if (results.cleanup) {
    const c = results.cleanup;
    const before = c.runs.find((r) => !r.during);
    const during = c.runs.find((r) => r.during);
    L.push('## A cleanup tick under load', '');
    L.push(
      `${fmt(c.total)} user indexes, each with one expired and one live entry (${fmt(c.total)} expired entries). ` +
        `GET /me (module, bearer, ${cfg.connections} connections) for ${cfg.duration} s; in the second run \`SessionCleanupService.run()\` ` +
        'starts 1 s in (through a bench-only route). p99 "in the tick window" counts only answers that arrived while the tick ran.',
      '',
    );
    L.push(
      '| run | req/s | p50 ms | p99 ms | p99 in tick window | max in window | tick |',
      '|---|---:|---:|---:|---:|---:|---|',
    );
    for (const r of [before, during]) {
      const tick = r.cleanup?.body
        ? `${fmt(r.cleanup.body.ms)} ms, scanned ${fmt(r.cleanup.body.scanned)}, removed ${fmt(r.cleanup.body.removed)}`
        : '—';
      L.push(
        `| ${r.during ? 'during' : 'before'} | ${fmt(r.rps)} | ${ms(r.recorded?.p50 ?? r.p50)} | ${ms(r.recorded?.p99 ?? r.p99)} | ${r.window ? `${ms(r.window.p99)} (${fmt(r.window.count)} answers)` : '—'} | ${r.window ? ms(r.window.max) : '—'} | ${tick} |`,
      );
    }
    L.push('', `Entries left in the first index after the tick: ${c.entriesLeftInFirstIndex} (the live one).`, '');
  }
  if (results.invalidation) L.push(...invalidationMarkdown(results.invalidation));
  L.push('## Method notes', '');
  L.push(
    '- Every peer is a Nest 12 app on Express (`bench/servers/*.ts`, compiled to `dist-bench/`), the same `GET /me` answer `{id}` and the same node-redis v4 client where Redis is used.',
    '- passport-jwt: `AuthGuard(\'jwt\')`, HS256, bearer; the "KeyObject" variant passes `crypto.createSecretKey(...)` as `secretOrKey`, the "string" variant the plain string (jsonwebtoken then tries to parse it as a PEM key on every verify).',
    '- express-session + connect-redis: their defaults with `resave: false, saveUninitialized: false` and a 30 min cookie; connect-redis touches (EXPIRE) each read session, so two commands per request.',
    '- minimal stateful: a hand-written guard, `jsonwebtoken.verify` with a prebuilt KeyObject and one `GET` of the session id.',
    "- this module: `SessionModule.forRoot({ secret, store: redisInsStore(client) })` with cleanup ticks off during runs; bearer via `X-Auth-Transport: header` logins, cookie via the `__Host-session` cookie, Passport via `AuthGuard('session-jwt')`.",
    '- refresh: `POST /auth/refresh` with `{refreshToken}`; each connection carries its own session chain and sends the token the previous answer returned (a rotation per request).',
    '- login: `POST /auth/login` with header transport; the password check is a string compare so session creation (one script), token signing and the audit log lines are what is measured.',
  );
  L.push('');
  return L.join('\n');
}

export function writeResults(results, outDir) {
  const analysis = analyse(results);
  mkdirSync(outDir, { recursive: true });
  const files = [join(outDir, 'RESULTS.md'), join(outDir, 'results.svg'), join(outDir, 'results.json')];
  writeFileSync(files[0], markdown(results, analysis));
  writeFileSync(files[1], svg(analysis.rows));
  writeFileSync(files[2], JSON.stringify(results, null, 2) + '\n');
  return files;
}
