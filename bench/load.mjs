/**
 * Load generator child (bench/run.mjs starts it pinned to its own CPU). Talks over IPC:
 *   parent → {type:'run', ...job}      child → {type:'warmed'} after the warm-up
 *   parent → {type:'go'}               child → {type:'result', ...} or {type:'error', message}
 * Each autocannon connection keeps its own credential (or refresh chain) for the whole job.
 */
import autocannon from 'autocannon';

const send = (message) => new Promise((resolve) => process.send(message, resolve));
const waitFor = (type) =>
  new Promise((resolve) => {
    const onMessage = (m) => {
      if (m?.type !== type) return;
      process.off('message', onMessage);
      resolve(m);
    };
    process.on('message', onMessage);
  });

/** Per-connection request setup: static credential, refresh chain, or login body. */
function connectionSetup(job, latencies) {
  let next = 0;
  return (client) => {
    const spec = job.specs[next++ % job.specs.length];
    if (job.mode === 'refresh') {
      // spec is shared by warm-up and measured run, so the chain survives between them.
      client.setRequests([
        {
          method: 'POST',
          path: '/auth/refresh',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ refreshToken: spec.refreshToken }),
          onResponse: (status, body) => {
            if (status !== 200) return;
            spec.refreshToken = JSON.parse(body).refreshToken;
            client.setBody(JSON.stringify({ refreshToken: spec.refreshToken }));
          },
        },
      ]);
    } else {
      client.setRequests([{ method: spec.method, path: spec.path, headers: spec.headers, body: spec.body }]);
    }
    if (latencies) client.on('response', (_status, _bytes, ms) => latencies.push(Date.now(), ms));
  };
}

function summary(result) {
  return {
    rps: result.requests.average,
    total: result.requests.total,
    sent: result.requests.sent,
    duration: result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    latencyMean: result.latency.mean,
    latencyMax: result.latency.max,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    resets: result.resets,
    mismatches: result.mismatches,
    statusCodeStats: result.statusCodeStats,
  };
}

function failures(s) {
  const bad = [];
  for (const key of ['non2xx', 'errors', 'timeouts', 'mismatches', 'resets'])
    if (s[key] > 0) bad.push(`${key}=${s[key]}`);
  if (s.total === 0) bad.push('no requests completed');
  return bad.length ? `${bad.join(' ')} statusCodes=${JSON.stringify(s.statusCodeStats)}` : null;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function run(job) {
  const base = {
    url: job.url,
    connections: job.connections,
    pipelining: 1,
    timeout: 10,
    ...(job.overallRate ? { overallRate: job.overallRate } : {}),
  };
  if (job.warmup > 0) {
    const warm = summary(await autocannon({ ...base, duration: job.warmup, setupClient: connectionSetup(job) }));
    const bad = failures(warm);
    if (bad) throw new Error(`warm-up failed: ${bad}`);
  }
  await send({ type: 'warmed' });
  await waitFor('go');

  const latencies = job.recordLatencies ? [] : undefined;
  let cleanup;
  let timer;
  if (job.cleanupAtMs !== undefined) {
    timer = setTimeout(() => {
      const start = Date.now();
      cleanup = fetch(`${job.url}/bench/cleanup`, { method: 'POST' })
        .then(async (res) => ({ status: res.status, body: await res.json(), start, end: Date.now() }))
        .catch((err) => ({ error: String(err), start, end: Date.now() }));
    }, job.cleanupAtMs);
  }
  const measured = summary(
    await autocannon({ ...base, duration: job.duration, setupClient: connectionSetup(job, latencies) }),
  );
  clearTimeout(timer);
  const out = { ...measured, failure: failures(measured) };
  if (cleanup) out.cleanup = await cleanup;
  if (latencies) {
    const all = [];
    const inWindow = [];
    const w = out.cleanup;
    for (let k = 0; k < latencies.length; k += 2) {
      all.push(latencies[k + 1]);
      if (w && latencies[k] >= w.start && latencies[k] <= w.end) inWindow.push(latencies[k + 1]);
    }
    all.sort((a, b) => a - b);
    inWindow.sort((a, b) => a - b);
    out.recorded = { count: all.length, p50: percentile(all, 50), p99: percentile(all, 99), max: all.at(-1) };
    if (w) {
      out.window = {
        count: inWindow.length,
        p50: percentile(inWindow, 50),
        p99: percentile(inWindow, 99),
        max: inWindow.at(-1),
      };
    }
  }
  return out;
}

process.on('message', (m) => {
  if (m?.type !== 'run') return;
  run(m.job).then(
    (result) => send({ type: 'result', result }).then(() => process.exit(0)),
    (err) => send({ type: 'error', message: err?.message ?? String(err) }).then(() => process.exit(1)),
  );
});
