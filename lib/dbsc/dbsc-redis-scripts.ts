import { luaCodes, script, TOUCH } from '../repository/redis-scripts.js';

/**
 * DBSC fields of the session record (see the legend in lib/repository/redis-scripts.ts):
 *
 * | field | holds                                                                      |
 * |-------|----------------------------------------------------------------------------|
 * | `k`   | device public key, stored form (`E` + compressed P-256 point: 45 bytes)    |
 * | `kc`  | store time (ms) the last accepted refresh challenge was issued             |
 *
 * KEYS of every script: session key, user key. ARGV[1] sid, ARGV[2] now ('' = Redis TIME), ARGV[3] idleMs.
 */

export const BindReply = { missing: 0, expired: 1, already_bound: 2, bound: 3 } as const;

/** ARGV[4] stored key. Binds a live, unbound session and slides its idle deadline. */
export const BIND_DEVICE = script(
  `${TOUCH}
${luaCodes(BindReply)}
local rec, single = locate()
if not rec then return MISSING end
local now, idle = clock(ARGV[2]), tonumber(ARGV[3])
if now >= rec.a or now >= rec.l + idle then drop(single) return EXPIRED end
if rec.k then return ALREADY_BOUND end
rec.k, rec.kc = ARGV[4], '0'
touch(rec, single, now, idle)
return BOUND
`,
  true,
);

export const DeviceKeyReply = { missing: 0, expired: 1, unbound: 2 } as const;

/**
 * Replies a `DeviceKeyReply` code or `{key, stamp}`: the stamp for a new challenge is the store
 * time, but always after the last accepted one, so two challenges in one millisecond still order.
 * Writes only to drop an expired session.
 */
export const DEVICE_KEY = script(`${TOUCH}
${luaCodes(DeviceKeyReply)}
local rec, single = locate()
if not rec then return MISSING end
local now, idle = clock(ARGV[2]), tonumber(ARGV[3])
if now >= rec.a or now >= rec.l + idle then drop(single) return EXPIRED end
if not rec.k then return UNBOUND end
return {rec.k, math.max(now, tonumber(rec.kc or '0') + 1)}
`);

export const DeviceRefreshReply = { missing: 0, expired: 1, unbound: 2, replayed: 3, stale: 4, ok: 5 } as const;

/**
 * ARGV[4] stored key the proof was verified with, ARGV[5] challenge issued at (store ms), ARGV[6]
 * challenge max age (ms). Accepts a challenge only if newer than the last accepted one (a proof
 * is good once) and still fresh, for the key the session still has; then slides the idle deadline.
 */
export const DEVICE_REFRESH = script(
  `${TOUCH}
${luaCodes(DeviceRefreshReply)}
local rec, single = locate()
if not rec then return MISSING end
local now, idle = clock(ARGV[2]), tonumber(ARGV[3])
if now >= rec.a or now >= rec.l + idle then drop(single) return EXPIRED end
if rec.k ~= ARGV[4] then return UNBOUND end
local issued = tonumber(ARGV[5])
if issued <= tonumber(rec.kc or '0') then return REPLAYED end
if now - issued > tonumber(ARGV[6]) or issued > now + tonumber(ARGV[6]) then return STALE end
rec.kc = ARGV[5]
touch(rec, single, now, idle)
return OK
`,
  true,
);
