import { createHash } from 'node:crypto';
import { RECORD_LUA } from './redis-record.js';

/**
 * The Redis data model. Every key of one user carries the `{user}` hash tag (one cluster slot):
 *
 * | key                           | type | holds                                                     |
 * |-------------------------------|------|-----------------------------------------------------------|
 * | `<prefix>{<user>}:x`          | str  | the user's only session (record with `id`); PXAT deadline |
 * |                               | zset | or, from a second session on, the index: session ids,     |
 * |                               |      | score = deadline hint (ms); expires with its last session |
 * | `<prefix>{<user>}:s:<sid>`    | str  | a session of a user with several; PXAT = its deadline     |
 * | `<prefix>{<user>}:n`          | str  | "not before" (ms): sessions authenticated earlier die     |
 * | `<prefix>lock:<name>`         | str  | cleanup lock, value = owner token, PX = lock ttl          |
 *
 * A session is a packed record (lib/repository/redis-record.ts: `1` and the fields below in a
 * fixed order, U+001F between them, times in base 36). Records written before issue 16 are
 * hashes with the same field names under `s:<sid>`; every script reads them (`load`) and the
 * first write (a touch at the latest) rewrites them packed.
 *
 * | field    | holds                                                                          |
 * |----------|--------------------------------------------------------------------------------|
 * | `id`     | the session id, only on a single session held in the user key                  |
 * | `c`      | created at, epoch ms (store clock)                                             |
 * | `l`      | last seen: last touch, epoch ms; idle deadline = l + idleMs                    |
 * | `a`      | absolute deadline, epoch ms; never extended                                    |
 * | `t`      | authentication time, epoch ms: login and re-auth set it, refresh does not      |
 * | `g`      | generation of the current refresh token (0 at login)                           |
 * | `i`      | `iat` (seconds) of the current refresh token                                   |
 * | `h`      | hash of the current refresh token (never the token)                            |
 * | `r`      | roles, comma-separated                                                         |
 * | `ip`     | client address, at most 64 bytes                                              |
 * | `ua`     | User-Agent, at most 64 bytes                                                   |
 * | `dv`     | device label from the whole User-Agent, at most 64 bytes                       |
 * | `m`      | impersonation: the actor's user id (≤ 64 bytes); absent otherwise             |
 * | `d`      | application data as JSON; absent when there is none                           |
 * | `k`,`kc` | DBSC device key and last accepted challenge (lib/dbsc/dbsc-redis-scripts.ts)   |
 * | `p1..p3` | previous refresh digests, newest first, `digest:rotatedAtMs`; dropped past grace |
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

/** What VALIDATE answers when there is no live session (a live one answers `{roles, data, authTime, actor, bound, now, absolute}`). */
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

// Session helpers: KEYS[1] session key, KEYS[2] user key, KEYS[3] user "not before", ARGV[1] session id.
export const TOUCH = `${CLOCK}
${RECORD_LUA}
local function previous(p)
  if not p then return nil, 0 end
  local digest, at = string.match(p, '^(.*):(%d+)$')
  return digest, tonumber(at)
end
-- Index entry, and the index's expiry (its latest deadline) when it has one: an index made while
-- the cleanup job runs has none (CREATE decides). pcall: never on a single session's string.
local function index(exp)
  local added = redis.pcall('ZADD', KEYS[2], exp, ARGV[1])
  if type(added) ~= 'number' then return end
  local t = redis.call('PEXPIRETIME', KEYS[2])
  if t > 0 and t < tonumber(exp) then redis.call('PEXPIREAT', KEYS[2], exp) end
end
-- Slides the idle deadline and writes the record, with whatever else the caller changed, in one SET.
local function touch(rec, single, now, idle)
  local exp = string.format('%d', math.min(now + idle, rec.a))
  rec.l = now
  save(rec, single, exp)
  if not single then index(exp) end
end
local function drop(single)
  if single then redis.call('DEL', KEYS[2]) return end
  redis.call('DEL', KEYS[1])
  redis.pcall('ZREM', KEYS[2], ARGV[1])
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
  local v = load(prefix .. id)
  if v and now < v.a and now < v.l + idle then return false end
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
 * oldest), impersonator ('' = none), indexExpiry ('1': a new index expires with its last session;
 * '': it has no TTL, the cleanup job prunes it). Replies `{CREATED, now, evictedId...}` or
 * `{REFUSED}` (`CreateReply`). A user's first session goes into the user key itself; a second one
 * first moves it out to its own key and puts the index in its place (the cap then counts both).
 */
export const CREATE = script(
  `${TOUCH}
${CAP}
${luaCodes(CreateReply)}
local now, idle = clock(ARGV[2]), tonumber(ARGV[3])
if redis.call('TYPE', KEYS[2]).ok == 'string' then
  local one = parse(redis.call('GET', KEYS[2]))
  if one.err then error(one.err) end
  local deadline, id = redis.call('PEXPIRETIME', KEYS[2]), one.id
  one.id = nil
  redis.call('DEL', KEYS[2])
  if id and deadline > 0 then
    redis.call('SET', string.sub(KEYS[1], 1, #KEYS[1] - #ARGV[1]) .. id, pack(one), 'PXAT', deadline)
    redis.call('ZADD', KEYS[2], deadline, id)
    if ARGV[15] == '1' then redis.call('PEXPIREAT', KEYS[2], deadline) end
  end
end
local evicted = {}
if ARGV[12] ~= '' then
  evicted = cap(now, idle, tonumber(ARGV[12]), ARGV[13] == 'refuse')
  if not evicted then return {REFUSED} end
end
local a = now + tonumber(ARGV[4])
local exp = string.format('%d', math.min(now + idle, a))
local rec = {c = now, l = now, a = a, t = now, g = '0', h = ARGV[9], i = tonumber(ARGV[10]), r = ARGV[5],
  ua = ARGV[6], ip = ARGV[7], d = ARGV[8], dv = ARGV[11], m = ARGV[14]}
if redis.call('EXISTS', KEYS[2]) == 0 then
  save(rec, true, exp)
else
  save(rec, false, exp)
  index(exp)
end
return {CREATED, now, unpack(evicted)}
`,
  true,
);

/**
 * KEYS[3] the user's "not before" key. ARGV: sid, now ('' = Redis TIME), idleMs, touchEveryMs,
 * previousTtlMs ('' = keep). Returns MISSING, EXPIRED (`ValidateReply`; `{EXPIRED, actor}` for an
 * impersonation session), or {roles, data, authTime, actor, bound ('1' when device-bound, DBSC),
 * now, absolute deadline}. A session authenticated before the user's "not before" is dropped (MISSING). A touch also
 * drops previous refresh digests (p1..p3) older than previousTtlMs: only the grace window needs
 * them. The repository's hot path answers most requests without this script (`MGET`); it runs
 * when a touch is due, near a deadline, or when the plain read cannot decide.
 */
export const VALIDATE = script(`${TOUCH}
${luaCodes(ValidateReply)}
local rec, single = locate()
if not rec then return MISSING end
local now, idle = clock(ARGV[2]), tonumber(ARGV[3])
if now >= rec.a or now >= rec.l + idle then
  drop(single)
  -- An impersonation session's actor goes with its expiry, for the audit event.
  if rec.m then return {EXPIRED, rec.m} end
  return EXPIRED
end
local t = rec.t or rec.c
if not not_before_ok(t) then drop(single) return MISSING end
if now - rec.l >= tonumber(ARGV[4]) then
  if ARGV[5] ~= '' then
    for k = 1, 3 do
      local digest, at = previous(rec['p' .. k])
      if digest and now - at > tonumber(ARGV[5]) then rec['p' .. k] = nil end
    end
  end
  touch(rec, single, now, idle)
end
return {rec.r or '', rec.d or '', string.format('%d', t), rec.m or '', rec.k and '1' or '', now, string.format('%d', rec.a)}
`);

/**
 * KEYS[3] the user's "not before" key. ARGV: sid, now ('' = Redis TIME), idleMs, graceMs,
 * presentedGen, presentedHash, nextHash, nextIat, deadline (Redis ms, '' = none). Replies
 * `{code, ..., now}` with a `RotateReply` code: {MISSING}, {EXPIRED, actor}, {ROTATED, gen, iat,
 * absolute, roles, actor}, {RACED, gen, iat, absolute, roles, actor}, {REUSED, actor}
 * (session deleted), {INVALID}, {LATE} (the caller gave up before the script ran, nothing changed),
 * {BOUND} (device-bound by DBSC: the refresh token no longer renews it).
 * Writes come after every check, in one SET, so nothing half-rotates.
 */
export const ROTATE = script(
  `${TOUCH}
${luaCodes(RotateReply)}
local now = clock(ARGV[2])
if ARGV[9] ~= '' and now > tonumber(ARGV[9]) then return {LATE, now} end
local rec, single = locate()
if not rec then return {MISSING, now} end
local idle = tonumber(ARGV[3])
local actor = rec.m or ''
if now >= rec.a or now >= rec.l + idle then drop(single) return {EXPIRED, actor, now} end
if not not_before_ok(rec.t or rec.c) then drop(single) return {MISSING, now} end
if rec.k then return {BOUND, now} end
local g, pg = tonumber(rec.g), tonumber(ARGV[5])
local absolute = string.format('%d', rec.a)
if pg == g and ARGV[6] == rec.h then
  rec.p3, rec.p2, rec.p1 = rec.p2, rec.p1, rec.h .. ':' .. string.format('%d', now)
  rec.g, rec.h, rec.i = g + 1, ARGV[7], tonumber(ARGV[8])
  touch(rec, single, now, idle)
  return {ROTATED, g + 1, tonumber(ARGV[8]), absolute, rec.r or '', actor, now}
end
local k = g - pg
local digest, at = previous(k >= 1 and k <= 3 and rec['p' .. k] or nil)
if digest == ARGV[6] and now - at <= tonumber(ARGV[4]) then
  touch(rec, single, now, idle)
  return {RACED, g, rec.i, absolute, rec.r or '', actor, now}
end
if pg < g then drop(single) return {REUSED, actor, now} end
return {INVALID, now}
`,
  true,
);

/** KEYS: session key, user key; ARGV: sid. Returns 1 when the session existed. */
export const REVOKE = script(`${RECORD_LUA}
redis.pcall('ZREM', KEYS[2], ARGV[1])
if redis.call('DEL', KEYS[1]) == 1 then return 1 end
local s = redis.pcall('GET', KEYS[2])
if type(s) == 'string' and parse(s).id == ARGV[1] then return redis.call('DEL', KEYS[2]) end
return 0
`);

/** KEYS[1] user key; ARGV: session key prefix. Returns the number of sessions deleted. */
export const REVOKE_ALL = script(`
if redis.call('TYPE', KEYS[1]).ok == 'string' then return redis.call('DEL', KEYS[1]) end
local n = 0
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  n = n + redis.call('DEL', ARGV[1] .. id)
end
redis.call('DEL', KEYS[1])
return n
`);

/** Values LIST answers per session: the id and the seven fields it reads. */
export const LIST_STRIDE = 8;

/**
 * KEYS[1] user key, KEYS[2] "not before", KEYS[3] the kept session's key; ARGV: session key
 * prefix, kept sid ('' = none), now ('' = Redis TIME), notBeforeTtlMs ('' = no credential
 * change). With a credential change the user's "not before" becomes now and the kept session (if
 * live) counts as authenticated now, so it alone survives the check. Returns the number of
 * sessions deleted.
 */
export const REVOKE_OTHERS = script(`${CLOCK}
${RECORD_LUA}
local now = clock(ARGV[3])
local n = 0
local single = redis.call('TYPE', KEYS[1]).ok == 'string'
if single then
  if parse(redis.call('GET', KEYS[1])).id ~= ARGV[2] then n = redis.call('DEL', KEYS[1]) end
else
  for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    if id ~= ARGV[2] then
      n = n + redis.call('DEL', ARGV[1] .. id)
      redis.call('ZREM', KEYS[1], id)
    end
  end
end
if ARGV[4] ~= '' then
  local t = string.format('%d', now)
  redis.call('SET', KEYS[2], t, 'PX', ARGV[4])
  -- Only an existing record, where it lives: a SET on a gone one would leave a record without a TTL.
  local key = KEYS[3]
  local rec = load(key)
  if not rec and single and n == 0 then key = KEYS[1] rec = parse(redis.call('GET', key)) end
  if rec then
    rec.t = now
    redis.call('SET', key, pack(rec), 'KEEPTTL')
  end
end
return n
`);

/**
 * KEYS as VALIDATE; ARGV: sid, now ('' = Redis TIME), idleMs. Sets the authentication time of a
 * live session to now and returns it; MISSING or EXPIRED (`ValidateReply`, as `{code}`) otherwise.
 */
export const REAUTH = script(`${TOUCH}
${luaCodes(ValidateReply)}
local rec, single = locate()
if not rec then return {MISSING} end
local now, idle = clock(ARGV[2]), tonumber(ARGV[3])
if now >= rec.a or now >= rec.l + idle then drop(single) return {EXPIRED} end
if not not_before_ok(rec.t or rec.c) then drop(single) return {MISSING} end
rec.t = now
save(rec, single, nil)
return now
`);

/**
 * KEYS[1] user key; ARGV: session key prefix, now ('' = Redis TIME), idleMs. Returns flat
 * {id, c, l, a, ua, ip, dv, actor, ...} (`LIST_STRIDE` values per session). An index entry goes
 * only with its session: missing, or dead by the store clock.
 */
export const LIST = script(`${CLOCK}
${RECORD_LUA}
local now, idle = clock(ARGV[2]), tonumber(ARGV[3])
local out = {}
local function live(rec) return rec and now < rec.a and now < rec.l + idle end
local function emit(id, rec)
  out[#out + 1] = id
  for _, v in ipairs({rec.c, rec.l, rec.a}) do out[#out + 1] = string.format('%d', v) end
  for _, f in ipairs({'ua', 'ip', 'dv', 'm'}) do out[#out + 1] = rec[f] or '' end
end
if redis.call('TYPE', KEYS[1]).ok == 'string' then
  local one = parse(redis.call('GET', KEYS[1]))
  if one.err then error(one.err) end
  if live(one) then emit(one.id, one) else redis.call('DEL', KEYS[1]) end
  return out
end
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local key = ARGV[1] .. id
  local rec = load(key)
  if live(rec) then
    emit(id, rec)
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
 * a live one gets its true deadline back. Returns the number of entries removed. A single
 * session in the user key goes when dead by the store clock (the repository only scans those
 * when the caller's clock decides: with Redis TIME their own TTL ends them exactly).
 */
export const PRUNE = script(`${CLOCK}
${RECORD_LUA}
local now, idle = clock(ARGV[2]), tonumber(ARGV[3])
local kind = redis.call('TYPE', KEYS[1]).ok
if kind == 'string' then
  local one = parse(redis.call('GET', KEYS[1]))
  if one.err or not one.a or (now < one.a and now < one.l + idle) then return 0 end
  redis.call('DEL', KEYS[1])
  return 1
end
if kind ~= 'zset' then return 0 end
local n = 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)) do
  local key = ARGV[1] .. id
  local v = load(key)
  if v and now < v.a and now < v.l + idle then
    redis.call('ZADD', KEYS[1], math.min(v.l + idle, v.a), id)
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
