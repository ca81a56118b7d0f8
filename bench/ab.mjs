/**
 * Fixed-rate A/B of two peers' cost: both servers run at once on CPU 0, each driven at the same
 * request rate from CPU 1, and the CPU time each used per request is compared. Other work on the
 * machine then slows both alike, so the ratio holds where saturated req/s would swing.
 * After `npm run build && npx tsc -p bench/tsconfig.json`:
 *   node bench/ab.mjs minimal module-bearer [rate=1500] [seconds=8] [repeats=3]
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLoad, startServer } from './lib/harness.mjs';
import { PEERS } from './lib/peers.mjs';
import { startRedis } from './lib/redis.mjs';

const [a, b, rate = '1500', seconds = '8', repeats = '3'] = process.argv.slice(2);
const peers = [a, b].map((name) => PEERS.find((p) => p.name === name));
if (peers.some((p) => !p))
  throw new Error(
    `usage: node bench/ab.mjs PEER PEER [rate] [seconds] [repeats]; peers: ${PEERS.map((p) => p.name).join(', ')}`,
  );
const ticks = 100; // USER_HZ on Linux
const cpuSeconds = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / ticks;
};

const redis = await startRedis({ cpus: '1' }); // always its own throwaway Redis
try {
  for (let rep = 0; rep < Number(repeats); rep++) {
    const servers = [];
    try {
      for (const peer of peers) {
        const server = await startServer({
          server: peer.server,
          cpus: '0',
          redisUrl: redis.url,
          prefix: 'bench:ab:',
          logFile: join(tmpdir(), `bench-ab-${peer.name}.log`),
        });
        servers.push({ server, prep: await peer.prepare(server.url, 50) });
      }
      const before = servers.map(({ server }) => cpuSeconds(server.pid));
      const results = await Promise.all(
        servers.map(({ server, prep }) =>
          runLoad(
            {
              url: server.url,
              connections: 50,
              specs: prep.specs,
              mode: prep.mode,
              warmup: 0,
              duration: Number(seconds),
              overallRate: Number(rate),
            },
            { cpus: '1' },
          ),
        ),
      );
      const perRequest = servers.map(({ server }, i) => ((cpuSeconds(server.pid) - before[i]) * 1e6) / results[i].sent);
      console.log(
        `${a} ${perRequest[0].toFixed(0)} µs CPU/request, ${b} ${perRequest[1].toFixed(0)} µs CPU/request: ` +
          `${b} ÷ ${a} = ${(perRequest[1] / perRequest[0]).toFixed(3)}`,
      );
    } finally {
      for (const { server } of servers) await server.stop();
    }
  }
} finally {
  await redis.stop();
}
