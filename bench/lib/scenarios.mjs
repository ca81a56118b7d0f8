/** Memory per session, req/s with many live sessions, and a cleanup tick under load. */
import { randomBytes } from 'node:crypto';
import { RedisSessionRepository } from '../../dist/index.js';
import { decodeRecord } from '../../dist/repository/redis-record.js';
import { bearer, checkMe, meSpecs } from './peers.mjs';
import { progress } from './harness.mjs';

/** A typical desktop browser's User-Agent (111 bytes). */
export const DESKTOP_USER_AGENT =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
/** What SessionService stores of it: the first 64 bytes (the repository is called directly here). */
export const USER_AGENT = DESKTOP_USER_AGENT.slice(0, 64);
/** A mobile app's User-Agent: short enough (≤ 64 bytes) for Redis to keep the hash a compact listpack. */
export const SHORT_USER_AGENT = 'ExampleApp/3.2.1 (iPhone; iOS 17.4.1; Scale/3.00)';
const DAY = 86_400_000;
const IDLE_MS = 1_800_000;
const GRACE_MS = 10_000;

/** The repository the memory and scaling scenarios write through (the module's own code path). */
function repository(redis, keyPrefix) {
  // 'local' clock: the scenarios move time by hand (a touch past the grace window).
  // indexExpiry false: what the module passes while its cleanup job runs (the default).
  return new RedisSessionRepository(redis, {
    cluster: false,
    keyPrefix,
    commandTimeout: 5000,
    clock: 'local',
    indexExpiry: false,
  });
}

async function usedMemory(redis) {
  const m = /used_memory:(\d+)/.exec(await redis.info('memory'));
  return Number(m[1]);
}

/**
 * used_memory once Redis has finished rehashing: while a dictionary grows (or shrinks after a
 * delete) both of its tables exist, which shifted single readings by up to 10% between runs.
 */
async function settledUsedMemory(redis) {
  let last = await usedMemory(redis);
  for (let i = 0; i < 40; i++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const now = await usedMemory(redis);
    if (now === last) return now;
    last = now;
  }
  return last;
}

/** Waits (up to 30 s) until used_memory is back within 1 MiB of `baseline` (scripts and buffers stay). */
async function backTo(redis, baseline) {
  for (let i = 0; i < 120; i++) {
    if ((await usedMemory(redis)) <= baseline + 1_048_576) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  progress(`memory: Redis did not shrink back to its baseline (${baseline} B) within 30 s; figures may be low`);
}

/** Deletes every key under `prefix` (SCAN + UNLINK); only the bench's own keys. */
export async function deleteKeys(redis, prefix) {
  let cursor = 0;
  let n = 0;
  do {
    const page = await redis.scan(cursor, { MATCH: `${prefix}*`, COUNT: 5000 });
    cursor = Number(page.cursor);
    if (page.keys.length) n += await redis.unlink(page.keys);
  } while (cursor !== 0);
  return n;
}

async function pool(total, concurrency, task) {
  let next = 0;
  const worker = async () => {
    while (next < total) await task(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** Creates `total` sessions through RedisSessionRepository.create, `perUser` per user. */
export async function createSessions(redis, keyPrefix, total, perUser, tag = 'm', userAgent = USER_AGENT) {
  const repo = repository(redis, keyPrefix);
  const now = Date.now();
  const ids = [];
  await pool(total, 256, async (i) => {
    const id = randomBytes(16).toString('base64url');
    const userId = `${tag}user-${Math.floor(i / perUser)}`;
    const refreshHash = randomBytes(16).toString('base64url');
    ids[i] = { userId, id, refreshHash };
    await repo.create({
      id,
      userId,
      roles: ['user'],
      userAgent,
      ip: '203.0.113.7',
      data: undefined,
      now,
      idleTimeoutMs: IDLE_MS,
      absoluteExpiresAt: now + 7 * DAY,
      refreshHash,
      refreshIssuedAt: Math.floor(now / 1000),
    });
  });
  return ids;
}

/** Rotates every session once, as the first refresh does: the hash gains the previous digest and its time. */
async function rotateOnce(redis, keyPrefix, ids) {
  const repo = repository(redis, keyPrefix);
  const now = Date.now();
  await pool(ids.length, 256, async (i) => {
    const { userId, id, refreshHash } = ids[i];
    const r = await repo.rotate(userId, id, {
      now,
      idleTimeoutMs: IDLE_MS,
      graceMs: GRACE_MS,
      presentedGeneration: 0,
      presentedHash: refreshHash,
      nextHash: randomBytes(16).toString('base64url'),
      nextIssuedAt: Math.floor(now / 1000),
    });
    if (r.status !== 'rotated') throw new Error(`rotation of session ${i} answered ${r.status}`);
  });
}

/** The first touch a minute past the grace window, which drops the previous digest again. */
async function touchAfterGrace(redis, keyPrefix, ids) {
  const repo = repository(redis, keyPrefix);
  const later = Date.now() + GRACE_MS + 60_000 + 1;
  await pool(ids.length, 256, async (i) => {
    const { userId, id } = ids[i];
    const r = await repo.validate(userId, id, {
      now: later,
      idleTimeoutMs: IDLE_MS,
      touchIntervalMs: 0,
      graceMs: GRACE_MS,
    });
    if (r.status !== 'ok') throw new Error(`session ${i} answered ${r.status}`);
  });
}

/** Bytes per session, from used_memory and from MEMORY USAGE of the hash and its index. */
export async function memoryScenario({ redis, total }) {
  const out = {};
  const cases = [
    ['perUser1', 1, USER_AGENT],
    ['perUser3', 3, USER_AGENT],
    ['perUser10', 10, USER_AGENT],
    // After a refresh a session also keeps the previous digest, until its first touch a minute past the grace window.
    ['perUser1-rotated', 1, USER_AGENT, { rotated: true }],
    ['perUser1-rotated-touched', 1, USER_AGENT, { rotated: true, touched: true }],
    ['perUser1-shortUA', 1, SHORT_USER_AGENT],
    // What the 64-byte cap saves: the whole desktop User-Agent, as stored before the cap.
    ['perUser1-wholeUA', 1, DESKTOP_USER_AGENT],
  ];
  // Every case starts from the same Redis: the keyspace dictionaries a case grew must have shrunk
  // back (Redis does that in its cron after the deletes), or the next case would get them free.
  const baseline = await settledUsedMemory(redis);
  for (const [name, perUser, userAgent, opts = {}] of cases) {
    await backTo(redis, baseline);
    // As long as the default `sess:` prefix, so key names weigh what they weigh in production.
    const keyPrefix = `s${randomBytes(2).toString('hex').slice(0, 3)}:`;
    try {
      out[name] = await measureMemory(redis, keyPrefix, total, perUser, userAgent, opts);
    } finally {
      await deleteKeys(redis, keyPrefix);
    }
  }
  return out;
}

async function measureMemory(redis, keyPrefix, total, perUser, userAgent, { rotated = false, touched = false } = {}) {
  await redis.sendCommand(['MEMORY', 'PURGE']).catch(() => undefined);
  const before = await settledUsedMemory(redis);
  const started = Date.now();
  const ids = await createSessions(redis, keyPrefix, total, perUser, 'm', userAgent);
  const seconds = (Date.now() - started) / 1000;
  if (rotated) await rotateOnce(redis, keyPrefix, ids);
  if (touched) await touchAfterGrace(redis, keyPrefix, ids);
  const after = await settledUsedMemory(redis);
  // MEMORY USAGE over a sample: the session's own key (none for a user's single session, which
  // lives in the user key), plus its share of the user key (the index, or that single session).
  let hashBytes = 0;
  let indexBytes = 0;
  const sample = Math.min(1000, total);
  const step = Math.max(1, Math.floor(total / sample));
  let counted = 0;
  for (let i = 0; i < total && counted < sample; i += step, counted++) {
    const { userId, id } = ids[i];
    const h = await redis.sendCommand(['MEMORY', 'USAGE', `${keyPrefix}{${userId}}:s:${id}`, 'SAMPLES', '0']);
    const x = await redis.sendCommand(['MEMORY', 'USAGE', `${keyPrefix}{${userId}}:x`, 'SAMPLES', '0']);
    if (x === null) throw new Error(`MEMORY USAGE found no user key for session ${i}; has the key layout changed?`);
    hashBytes += Number(h ?? 0);
    indexBytes += Number(x) / perUser;
  }
  const own = `${keyPrefix}{${ids[0].userId}}:s:${ids[0].id}`;
  const first = (await redis.exists(own)) ? own : `${keyPrefix}{${ids[0].userId}}:x`;
  const packed = await redis.get(first);
  const fields = Object.fromEntries(Object.entries(decodeRecord(packed)).map(([k, v]) => [k, String(v)]));
  const m = {
    sessions: total,
    perUser,
    rotated: rotated ? (touched ? 'once, then touched past the grace window' : 'once') : undefined,
    userAgentBytes: Buffer.byteLength(userAgent),
    createSeconds: seconds,
    createPerSecond: total / seconds,
    usedMemoryDelta: after - before,
    bytesPerSession: (after - before) / total,
    memoryUsageHash: hashBytes / counted,
    memoryUsageIndexShare: indexBytes / counted,
    keyPrefix,
    hashEncoding: await redis.sendCommand(['OBJECT', 'ENCODING', first]),
    fieldNames: Object.keys(fields),
    /** Bytes of the packed record (string value), names are positional. */
    fieldBytes: Buffer.byteLength(packed),
  };
  progress(
    `memory: ${total} sessions, ${perUser}/user, ${m.userAgentBytes}-byte User-Agent${rotated ? `, refreshed once${touched ? ' and touched past the grace window' : ''}` : ''}: ${m.bytesPerSession.toFixed(0)} B/session (used_memory), ` +
      `${m.memoryUsageHash.toFixed(0)} + ${m.memoryUsageIndexShare.toFixed(0)} B (MEMORY USAGE own key + user key share), ${m.hashEncoding}`,
  );
  return m;
}

/** GET /me (module, bearer, one session for all connections) with 1 vs `total` live sessions. */
export async function scalingScenario({ ctx, total }) {
  const runs = [];
  const keyPrefix = `${ctx.prefix}sess:`;
  for (let round = 1; round <= 2; round++) {
    for (const live of [1, total]) {
      await deleteKeys(ctx.redis, keyPrefix); // only this scenario's sessions are live
      if (live > 1) {
        progress(`scaling: creating ${total} live sessions`);
        await createSessions(ctx.redis, keyPrefix, total, 1, 'scale');
      }
      let dbsize;
      const r = await ctx.measure({
        name: `scaling-${live}`,
        server: 'module',
        round,
        prepare: async (url) => {
          const specs = await meSpecs(url, 1, bearer({ 'x-auth-transport': 'header' }));
          await checkMe(url, specs);
          dbsize = await ctx.redis.dbSize();
          return { mode: 'static', specs };
        },
      });
      runs.push({ round, live, dbsize, ...r });
    }
  }
  await deleteKeys(ctx.redis, keyPrefix);
  return runs;
}

/**
 * p99 of GET /me before and during one cleanup tick over `total` expired index entries.
 * Fixture: `total` users whose index holds one expired entry and one live one (the index key
 * itself lives on, as it does while a user has a live session).
 */
export async function cleanupScenario({ ctx, total }) {
  const keyPrefix = `${ctx.prefix}sess:`;
  const now = Date.now();
  progress(`cleanup: writing ${total} indexes with one expired entry each`);
  for (let start = 0; start < total; start += 5000) {
    const batch = [];
    for (let i = start; i < Math.min(total, start + 5000); i++) {
      const key = `${keyPrefix}{cuser-${i}}:x`;
      batch.push(
        ctx.redis.zAdd(key, [
          { score: now - 60_000, value: randomBytes(16).toString('base64url') },
          { score: now + IDLE_MS, value: randomBytes(16).toString('base64url') },
        ]),
      );
      batch.push(ctx.redis.pExpireAt(key, now + IDLE_MS));
    }
    await Promise.all(batch);
  }
  const runs = [];
  for (const during of [false, true]) {
    const r = await ctx.measure({
      name: during ? 'cleanup-during' : 'cleanup-before',
      server: 'module',
      round: 1,
      env: { BENCH_ADMIN: '1' },
      recordLatencies: true,
      cleanupAtMs: during ? 1000 : undefined,
      prepare: async (url, count) => {
        const specs = await meSpecs(url, count, bearer({ 'x-auth-transport': 'header' }));
        await checkMe(url, specs);
        return { mode: 'static', specs };
      },
    });
    runs.push({ during, ...r });
  }
  const left = await ctx.redis.zCard(`${keyPrefix}{cuser-0}:x`);
  await deleteKeys(ctx.redis, `${keyPrefix}{cuser-`);
  return { total, runs, entriesLeftInFirstIndex: left };
}
