/** Summarizes the .cpuprofile files in a directory: self time by area and by function. */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function area(url, name) {
  if (!url) return name.startsWith('(') ? name : '(native)';
  if (url.startsWith('node:')) return 'node core';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (url.includes('/dist/') && !url.includes('/dist-')) return 'this module (dist)';
  if (url.includes('/dist-bench/')) return 'bench app';
  return url;
}

/**
 * Returns printable lines and writes them to `outFile`. Only samples in the last
 * `windowSeconds` before the final `tailSeconds` count (the measured run, not startup).
 */
export function summarizeProfile(dir, outFile, { windowSeconds = Infinity, tailSeconds = 0.4 } = {}) {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) return [`no profile written in ${dir}`];
  const profile = JSON.parse(readFileSync(join(dir, files[0]), 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const to = profile.endTime - tailSeconds * 1e6;
  const from = to - windowSeconds * 1e6;
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (t < from || t > to) continue;
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  let total = 0;
  const byArea = new Map();
  const byFunction = new Map();
  for (const [id, us] of self) {
    const { callFrame: f } = byId.get(id);
    total += us;
    const a = area(f.url, f.functionName);
    byArea.set(a, (byArea.get(a) ?? 0) + us);
    const key = `${f.functionName || '(anonymous)'} ${a === f.url ? f.url.replace(/^file:\/\/.*?\/(dist|dist-bench)\//, '$1/') : a}:${f.lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  }
  const busy = total - (byArea.get('(idle)') ?? 0);
  const pct = (us) => `${((100 * us) / busy).toFixed(1).padStart(5)}%`;
  const top = (m, n) =>
    [...m]
      .filter(([k]) => !k.startsWith('(idle)'))
      .sort((a, b) => b[1] - a[1])
      .slice(0, n);
  const lines = [
    `profile ${join(dir, files[0])}: ${(total / 1e6).toFixed(1)} s sampled, ${((100 * busy) / total).toFixed(0)}% busy; self time of busy:`,
    ...top(byArea, 15).map(([k, us]) => `${pct(us)}  ${k}`),
    'top functions:',
    ...top(byFunction, 30).map(([k, us]) => `${pct(us)}  ${k}`),
  ];
  writeFileSync(outFile, lines.join('\n') + '\n');
  return lines;
}
