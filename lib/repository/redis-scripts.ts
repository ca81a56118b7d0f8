import { createHash } from 'node:crypto';

/** A Lua script with its SHA1, for EVALSHA with an EVAL fallback on NOSCRIPT. */
export interface LuaScript {
  readonly source: string;
  readonly sha: string;
}

function script(source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

// Slides the idle deadline: KEYS[1] session hash, KEYS[2] user index, ARGV[1] session id.
const TOUCH = `
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
`;

/** ARGV: sid, now, expireAt, absolute, roles, userAgent, ip, data, refreshHash, refreshIat */
export const CREATE = script(`
redis.call('HSET', KEYS[1], 'c', ARGV[2], 'l', ARGV[2], 'a', ARGV[4], 'g', '0', 'h', ARGV[9], 'i', ARGV[10],
  'r', ARGV[5], 'ua', ARGV[6], 'ip', ARGV[7])
if ARGV[8] ~= '' then redis.call('HSET', KEYS[1], 'd', ARGV[8]) end
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
if redis.call('PEXPIRETIME', KEYS[2]) < tonumber(ARGV[3]) then redis.call('PEXPIREAT', KEYS[2], ARGV[3]) end
return 1
`);

/**
 * ARGV: sid, now, idleMs, touchEveryMs, previousTtlMs ('' = keep). Returns 0 missing, 1 expired, or {roles, data}.
 * A touch also drops the previous refresh digest (p, pt) once it is older than previousTtlMs: only the
 * grace window needs it, and without it the hash is back in a smaller allocation.
 */
export const VALIDATE = script(`${TOUCH}
local v = redis.call('HMGET', KEYS[1], 'l', 'a', 'r', 'd', 'pt')
if not v[1] then return 0 end
local now, idle = tonumber(ARGV[2]), tonumber(ARGV[3])
local l, a = tonumber(v[1]), tonumber(v[2])
if now >= a or now >= l + idle then drop() return 1 end
if now - l >= tonumber(ARGV[4]) then
  touch(now, idle, a)
  if v[5] and ARGV[5] ~= '' and now - tonumber(v[5]) > tonumber(ARGV[5]) then redis.call('HDEL', KEYS[1], 'p', 'pt') end
end
return {v[3], v[4] or ''}
`);

/**
 * ARGV: sid, now, idleMs, graceMs, presentedGen, presentedHash, nextHash, nextIat.
 * Returns {0} missing, {1} expired, {2, gen, iat, absolute, roles} rotated,
 * {3, gen, iat, absolute, roles} raced inside the grace window, {4} reuse (session deleted), {5} invalid.
 */
export const ROTATE = script(`${TOUCH}
local v = redis.call('HMGET', KEYS[1], 'g', 'h', 'p', 'pt', 'i', 'l', 'a', 'r')
if not v[1] then return {0} end
local now, idle = tonumber(ARGV[2]), tonumber(ARGV[3])
local l, a = tonumber(v[6]), tonumber(v[7])
if now >= a or now >= l + idle then drop() return {1} end
local g, pg = tonumber(v[1]), tonumber(ARGV[5])
if pg == g and ARGV[6] == v[2] then
  redis.call('HSET', KEYS[1], 'g', g + 1, 'h', ARGV[7], 'p', v[2], 'pt', ARGV[2], 'i', ARGV[8])
  touch(now, idle, a)
  return {2, g + 1, tonumber(ARGV[8]), v[7], v[8]}
end
if pg == g - 1 and v[3] and ARGV[6] == v[3] and now - tonumber(v[4]) <= tonumber(ARGV[4]) then
  touch(now, idle, a)
  return {3, g, tonumber(v[5]), v[7], v[8]}
end
if pg < g then drop() return {4} end
return {5}
`);

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

/** KEYS[1] index; ARGV: session key prefix, now, idleMs. Returns flat {id, c, l, a, ua, ip, ...}; prunes dead ids. */
export const LIST = script(`
local now, idle = tonumber(ARGV[2]), tonumber(ARGV[3])
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local key = ARGV[1] .. id
  local v = redis.call('HMGET', key, 'c', 'l', 'a', 'ua', 'ip')
  if v[1] and now < tonumber(v[3]) and now < tonumber(v[2]) + idle then
    out[#out + 1] = id
    for i = 1, 5 do out[#out + 1] = v[i] or '' end
  else
    redis.call('DEL', key)
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
`);

/** KEYS[1] lock; ARGV: owner token. Deletes the lock only if we still own it. */
export const UNLOCK = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);
