import { createHash } from 'node:crypto';

/**
 * The Redis data model. Every key of one user carries the `{user}` hash tag (one cluster slot):
 *
 * | key                           | type | holds                                                   |
 * |-------------------------------|------|---------------------------------------------------------|
 * | `<prefix>{<user>}:s:<sid>`    | hash | one session (fields below); PEXPIREAT = its deadline    |
 * | `<prefix>{<user>}:x`          | zset | the user's session ids, score = deadline hint (ms)      |
 * | `<prefix>{<user>}:n`          | str  | "not before" (ms): sessions authenticated earlier die   |
 * | `<prefix>lock:<name>`         | str  | cleanup lock, value = owner token, PX = lock ttl        |
 *
 * Session hash fields (one letter: a hash stays a compact listpack while every value is ≤ 64 bytes):
 *
 * | field    | holds                                                                          |
 * |----------|--------------------------------------------------------------------------------|
 * | `c`      | created at, epoch ms (store clock)                                             |
 * | `l`      | last seen: last touch, epoch ms; idle deadline = l + idleMs                    |
 * | `a`      | absolute deadline, epoch ms; never extended                                    |
 * | `r`      | roles, comma-separated                                                         |
 * | `d`      | application data as JSON; absent when there is none                           |
 * | `g`      | generation of the current refresh token (0 at login)                           |
 * | `h`      | hash of the current refresh token (never the token)                            |
 * | `i`      | `iat` (seconds) of the current refresh token                                   |
 * | `p1..p3` | previous refresh digests, newest first, `digest:rotatedAtMs`; dropped past grace |
 * | `ua`     | User-Agent, at most 64 bytes                                                   |
 * | `ip`     | client address, at most 64 bytes                                               |
 * | `dv`     | device label from the whole User-Agent, at most 64 bytes                       |
 * | `t`      | authentication time, epoch ms: login and re-auth set it, refresh does not      |
 * | `m`      | impersonation: the actor's user id (≤ 64 bytes); absent otherwise             |
 * | `k`,`kc` | DBSC device key and last accepted challenge (lib/dbsc/dbsc-redis-scripts.ts)   |
 */

/** A Lua script with its SHA1, for EVALSHA with an EVAL fallback on NOSCRIPT. */
export interface LuaScript {
  readonly source: string;
  readonly sha: string;
}

/**
 * `#!lua` (Redis 7) makes Redis check for OOM once, before the script starts, instead of at each
 * write: a script that writes several fields can then never stop half way at `maxmemory`.
 */
export function script(source: string, shebang = false): LuaScript {
  const text = shebang ? `#!lua\n${source}` : source;
  return { source: text, sha: createHash('sha1').update(text).digest('hex') };
}

/** What VALIDATE answers when there is no live session (a live one answers `{roles, data, authTime, actor}`). */
export const ValidateReply = { missing: 0, expired: 1 } as const;

/** First element of every ROTATE reply. */
export const RotateReply = {
  missing: 0,
  expired: 1,
  /** `{rotated, gen, iat, absolute, roles, actor, now}`: the presented token was current. */
  rotated: 2,
  /** `{raced, gen, iat, absolute, roles, actor, now}`: rotated out less than graceMs ago, up to 3 generations back. */
  raced: 3,
  /** An older token: theft, the session is deleted. */
  reused: 4,
  invalid: 5,
  /** The caller gave up (deadline) before the script ran: nothing changed. */
  late: 6,
  /** The session is device-bound (DBSC): only a DBSC refresh renews it. Nothing changed. */
  bound: 7,
} as const;

/** First element of every CREATE reply. */
export const CreateReply = {
  /** The session count is at the cap and the policy is `refuse`: nothing written. */
  refused: 0,
  /** `{created, now, evictedId...}`. */
  created: 1,
} as const;

/** What LOCK answers. */
export const LockReply = { busy: 0, taken: 1, late: -1 } as const;

/** `local NAME = code` lines, so the Lua text names the same codes the TypeScript side reads. */
export function luaCodes(codes: Record<string, number>): string {
  return Object.entries(codes)
    .map(([name, code]) => `local ${name.toUpperCase()} = ${code}`)
    .join('\n');
}

/**
 * One clock for every replica: the store's. ARGV `now` is '' in production (Redis TIME); tests
 * that move a shared fake clock pass it explicitly. Redis 7 replicates effects, so TIME before
 * writes is fine.
 */
const CLOCK = `
local function clock(arg)
  if arg ~= '' then return tonumber(arg) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

// Slides the idle deadline: KEYS[1] session hash, KEYS[2] user index, ARGV[1] session id.
export const TOUCH = `${CLOCK}
local function previous(p)
  if not p then return nil, 0 end
  local digest, at = string.match(p, '^(.*):(%d+)$')
  return digest, tonumber(at)
end
local function touch(now, idle, a)
  local exp = string.format('%d', math.min(now + idle, a))
  redis.call('HSET', KEYS[1], 'l', string.format('%d', now))
  redis.call('PEXPIREAT', KEYS[1], exp)
  redis.call('ZADD', KEYS[2], exp, ARGV[1])
  if redis.call('PEXPIRETIME', KEYS[2]) < tonumber(exp) then redis.call('PEXPIREAT', KEYS[2], exp) end
end
local function drop()
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
end
-- False when the user's credentials changed after this session authenticated (KEYS[3]).
local function not_before_ok(t)
  local nb = redis.call('GET', KEYS[3])
  return not nb or tonumber(t) >= tonumber(nb)
end
`;

/** Previous refresh digests kept: a tab up to this many rotations behind, inside the grace window, still gets the successor. */
export const PREVIOUS_GENERATIONS = 3;

/**
 * Makes room under the cap before a create, atomically with it (KEYS[1] new session, KEYS[2]
 * index). The index score is each session's deadline, min(last use + idle, absolute), so the
 * lowest scores are the least recently used sessions (or ones at their absolute end): eviction
 * reads only those. Entries whose deadline passed are checked and dropped first; a refusal checks
 * every entry, so an entry left by a lost write never refuses a login. Only runs at the cap.
 */
const CAP = `
local function gone(prefix, id, now, idle)
  local v = redis.call('HMGET', prefix .. id, 'l', 'a')
  if v[1] and now < tonumber(v[2]) and now < tonumber(v[1]) + idle then return false end
  redis.call('DEL', prefix .. id)
  redis.call('ZREM', KEYS[2], id)
  return true
end
local function cap(now, idle, max, refuse)
  local evicted = {}
  if redis.call('ZCARD', KEYS[2]) < max then return evicted end
  local prefix = string.sub(KEYS[1], 1, #KEYS[1] - #ARGV[1])
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)) do gone(prefix, id, now, idle) end
  local over = redis.call('ZCARD', KEYS[2]) - max + 1
  if over <= 0 then return evicted end
  if refuse then
    for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
      if gone(prefix, id, now, idle) then over = over - 1 end
    end
    if over > 0 then return nil end
    return evicted
  end
  for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, over - 1)) do
    redis.call('DEL', prefix .. id)
    redis.call('ZREM', KEYS[2], id)
    evicted[#evicted + 1] = id
  end
  return evicted
end
`;

/**
 * ARGV: sid, now ('' = Redis TIME), idleMs, absoluteMs (lifetime), roles, userAgent, ip, data,
 * refreshHash, refreshIat, device, maxSessions ('' = no cap), capPolicy ('refuse' | other = evict
 * oldest), impersonator ('' = none). Replies `{CREATED, now, evictedId...}` or `{REFUSED}` (`CreateReply`).
 */
export const CREATE = script(
  `${CLOCK}
${CAP}
${luaCodes(CreateReply)}
local now = clock(ARGV[2])
local evicted = {}
if ARGV[12] ~= '' then
  evicted = cap(now, tonumber(ARGV[3]), tonumber(ARGV[12]), ARGV[13] == 'refuse')
  if not evicted then return {REFUSED} end
end
local a = now + tonumber(ARGV[4])
local exp = string.format('%d', math.min(now + tonumber(ARGV[3]), a))
local n = string.format('%d', now)
redis.call('HSET', KEYS[1], 'c', n, 'l', n, 'a', string.format('%d', a), 'g', '0', 'h', ARGV[9], 'i', ARGV[10],
  'r', ARGV[5], 'ua', ARGV[6], 'ip', ARGV[7], 't', n)
if ARGV[8] ~= '' then redis.call('HSET', KEYS[1], 'd', ARGV[8]) end
if ARGV[11] ~= '' then redis.call('HSET', KEYS[1], 'dv', ARGV[11]) end
if ARGV[14] ~= '' then redis.call('HSET', KEYS[1], 'm', ARGV[14]) end
redis.call('PEXPIREAT', KEYS[1], exp)
redis.call('ZADD', KEYS[2], exp, ARGV[1])
if redis.call('PEXPIRETIME', KEYS[2]) < tonumber(exp) then redis.call('PEXPIREAT', KEYS[2], exp) end
return {CREATED, now, unpack(evicted)}
`,
  true,
);

/**
 * KEYS[3] the user's "not before" key. ARGV: sid, now ('' = Redis TIME), idleMs, touchEveryMs,
 * previousTtlMs ('' = keep). Returns MISSING, EXPIRED (`ValidateReply`; `{EXPIRED, actor}` for an
 * impersonation session), or {roles, data, authTime, actor, bound ('1' when device-bound, DBSC)}. A session authenticated before the user's "not before" is dropped (MISSING). A touch also drops previous refresh
 * digests (p1..p3) older than previousTtlMs: only the grace window needs them, and without them
 * the hash is back in a smaller allocation.
 */
export const VALIDATE = script(`${TOUCH}
${luaCodes(ValidateReply)}
local v = redis.call('HMGET', KEYS[1], 'l', 'a', 'r', 'd', 't', 'm', 'c', 'k')
if not v[1] then return MISSING end
local now, idle = clock(ARGV[2]), tonumber(ARGV[3])
local l, a = tonumber(v[1]), tonumber(v[2])
if now >= a or now >= l + idle then
  drop()
  -- An impersonation session's actor goes with its expiry, for the audit event.
  if v[6] then return {EXPIRED, v[6]} end
  return EXPIRED
end
local t = v[5] or v[7]
if not not_before_ok(t) then drop() return MISSING end
if now - l >= tonumber(ARGV[4]) then
  touch(now, idle, a)
  if ARGV[5] ~= '' then
    local p = redis.call('HMGET', KEYS[1], 'p1', 'p2', 'p3')
    for k = 1, 3 do
      local digest, at = previous(p[k])
      if digest and now - at > tonumber(ARGV[5]) then redis.call('HDEL', KEYS[1], 'p' .. k) end
    end
  end
end
return {v[3], v[4] or '', t, v[6] or '', v[8] and '1' or ''}
`);

/**
 * KEYS[3] the user's "not before" key. ARGV: sid, now ('' = Redis TIME), idleMs, graceMs,
 * presentedGen, presentedHash, nextHash, nextIat, deadline (Redis ms, '' = none). Replies
 * `{code, ..., now}` with a `RotateReply` code: {MISSING}, {EXPIRED, actor}, {ROTATED, gen, iat,
 * absolute, roles, actor}, {RACED, gen, iat, absolute, roles, actor}, {REUSED, actor}
 * (session deleted), {INVALID}, {LATE} (the caller gave up before the script ran, nothing changed),
 * {BOUND} (device-bound by DBSC: the refresh token no longer renews it).
 * Writes come after every check, in one HSET, so nothing half-rotates.
 */
export const ROTATE = script(
  `${TOUCH}
${luaCodes(RotateReply)}
local now = clock(ARGV[2])
if ARGV[9] ~= '' and now > tonumber(ARGV[9]) then return {LATE, now} end
local v = redis.call('HMGET', KEYS[1], 'g', 'h', 'i', 'l', 'a', 'r', 'p1', 'p2', 'p3', 't', 'c', 'm', 'k')
if not v[1] then return {MISSING, now} end
local idle = tonumber(ARGV[3])
local l, a = tonumber(v[4]), tonumber(v[5])
local actor = v[12] or ''
if now >= a or now >= l + idle then drop() return {EXPIRED, actor, now} end
if not not_before_ok(v[10] or v[11]) then drop() return {MISSING, now} end
if v[13] then return {BOUND, now} end
local g, pg = tonumber(v[1]), tonumber(ARGV[5])
if pg == g and ARGV[6] == v[2] then
  local f = {'g', g + 1, 'h', ARGV[7], 'i', ARGV[8], 'p1', v[2] .. ':' .. string.format('%d', now)}
  if v[7] then f[#f + 1] = 'p2' f[#f + 1] = v[7] end
  if v[8] then f[#f + 1] = 'p3' f[#f + 1] = v[8] end
  redis.call('HSET', KEYS[1], unpack(f))
  touch(now, idle, a)
  return {ROTATED, g + 1, tonumber(ARGV[8]), v[5], v[6], actor, now}
end
local k = g - pg
local digest, at = previous(k >= 1 and k <= 3 and v[6 + k] or nil)
if digest == ARGV[6] and now - at <= tonumber(ARGV[4]) then
  touch(now, idle, a)
  return {RACED, g, tonumber(v[3]), v[5], v[6], actor, now}
end
if pg < g then drop() return {REUSED, actor, now} end
return {INVALID, now}
`,
  true,
);

/** ARGV: sid. Returns 1 when the session existed. */
export const REVOKE = script(`
local n = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return n
`);

/** KEYS[1] index; ARGV: session key prefix. Returns the number of sessions deleted. */
export const REVOKE_ALL = script(`
local n = 0
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  n = n + redis.call('DEL', ARGV[1] .. id)
end
redis.call('DEL', KEYS[1])
return n
`);

/** Values LIST answers per session: the id and the six fields it reads. */
export const LIST_STRIDE = 8;

/**
 * KEYS[1] index, KEYS[2] "not before", KEYS[3] the kept session; ARGV: session key prefix, kept
 * sid ('' = none), now ('' = Redis TIME), notBeforeTtlMs ('' = no credential change). With a
 * credential change the user's "not before" becomes now and the kept session (if live) counts as
 * authenticated now, so it alone survives the check. Returns the number of sessions deleted.
 */
export const REVOKE_OTHERS = script(`${CLOCK}
local now = clock(ARGV[3])
local n = 0
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if id ~= ARGV[2] then
    n = n + redis.call('DEL', ARGV[1] .. id)
    redis.call('ZREM', KEYS[1], id)
  end
end
if ARGV[4] ~= '' then
  local t = string.format('%d', now)
  redis.call('SET', KEYS[2], t, 'PX', ARGV[4])
  -- Only an existing hash: HSET on a gone one would leave a record without a TTL.
  if redis.call('EXISTS', KEYS[3]) == 1 then redis.call('HSET', KEYS[3], 't', t) end
end
return n
`);

/**
 * KEYS as VALIDATE; ARGV: sid, now ('' = Redis TIME), idleMs. Sets the authentication time of a
 * live session to now and returns it; MISSING or EXPIRED (`ValidateReply`, as `{code}`) otherwise.
 */
export const REAUTH = script(`${TOUCH}
${luaCodes(ValidateReply)}
local v = redis.call('HMGET', KEYS[1], 'l', 'a', 't', 'c')
if not v[1] then return {MISSING} end
local now, idle = clock(ARGV[2]), tonumber(ARGV[3])
if now >= tonumber(v[2]) or now >= tonumber(v[1]) + idle then drop() return {EXPIRED} end
if not not_before_ok(v[3] or v[4]) then drop() return {MISSING} end
redis.call('HSET', KEYS[1], 't', string.format('%d', now))
return now
`);

/**
 * KEYS[1] index; ARGV: session key prefix, now ('' = Redis TIME), idleMs. Returns flat
 * {id, c, l, a, ua, ip, dv, actor, ...} (`LIST_STRIDE` values per session). An index entry goes only with its session: missing, or dead by the store clock.
 */
export const LIST = script(`${CLOCK}
local now, idle = clock(ARGV[2]), tonumber(ARGV[3])
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local key = ARGV[1] .. id
  local v = redis.call('HMGET', key, 'c', 'l', 'a', 'ua', 'ip', 'dv', 'm')
  if v[1] and now < tonumber(v[3]) and now < tonumber(v[2]) + idle then
    out[#out + 1] = id
    for i = 1, 7 do out[#out + 1] = v[i] or '' end
  else
    redis.call('DEL', key)
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
`);

/**
 * KEYS[1] index; ARGV: session key prefix, now ('' = Redis TIME), idleMs. Prunes entries whose
 * score (a deadline hint) has passed, but only when the session is really gone by the store clock;
 * a live one gets its true deadline back. Returns the number of entries removed.
 */
export const PRUNE = script(`${CLOCK}
local now, idle = clock(ARGV[2]), tonumber(ARGV[3])
local n = 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)) do
  local key = ARGV[1] .. id
  local v = redis.call('HMGET', key, 'l', 'a')
  if v[1] and now < tonumber(v[2]) and now < tonumber(v[1]) + idle then
    redis.call('ZADD', KEYS[1], math.min(tonumber(v[1]) + idle, tonumber(v[2])), id)
  else
    redis.call('DEL', key)
    redis.call('ZREM', KEYS[1], id)
    n = n + 1
  end
end
return n
`);

/** Redis TIME in ms: the replica learns its offset to the store clock. */
export const TIME = script(`${CLOCK}
return clock('')
`);

/**
 * KEYS[1] lock; ARGV: owner token, ttlMs, deadline (Redis ms, '' = none). Returns a `LockReply`.
 * Past the deadline the caller has given up: taking the lock then would leave it ownerless.
 */
export const LOCK = script(`${CLOCK}
${luaCodes(LockReply)}
if ARGV[3] ~= '' and clock('') > tonumber(ARGV[3]) then return LATE end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return TAKEN end
return BUSY
`);

/** KEYS[1] lock; ARGV: owner token, ttlMs. Extends the lock only if we still own it. */
export const RENEW = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`);

/** KEYS[1] lock; ARGV: owner token. Deletes the lock only if we still own it. */
export const UNLOCK = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);
