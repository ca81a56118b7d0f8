/**
 * The packed session record: one Redis string per session instead of a hash (issue 16 §4). A
 * string costs less than a listpack hash of the same fields, and it lets the hot path read the
 * session and the user's "not before" with one plain `MGET` (a hash would need `HMGET` + `GET`).
 *
 * Format (version 1): `1` then the fields of `RECORD_FIELDS` in that order, joined by U+001F
 * (unit separator); empty for an absent field; trailing empty fields left off. Times and the
 * refresh `iat` are base 36 (8 characters instead of 13 for a ms time: with the 64-byte
 * User-Agent a typical record then fits jemalloc's 160-byte class instead of 192). `id` is set
 * only on a user's single session, which lives in the user key itself (see redis-scripts.ts).
 *
 * Text fields never hold U+001F: `d` is JSON (which escapes control characters), labels are
 * cleaned on create (`packedText`), and user ids and roles with it are refused.
 */

/** Field order of version 1; the field meanings are in the legend of redis-scripts.ts. */
export const RECORD_FIELDS = [
  'id',
  'c',
  'l',
  'a',
  't',
  'g',
  'i',
  'h',
  'r',
  'ip',
  'ua',
  'dv',
  'm',
  'd',
  'k',
  'kc',
  'p1',
  'p2',
  'p3',
] as const;

export type RecordField = (typeof RECORD_FIELDS)[number];

/** Stored in base 36: epoch ms times and the refresh token's `iat` (seconds). */
const BASE36: ReadonlySet<RecordField> = new Set<RecordField>(['c', 'l', 'a', 't', 'i']);

export const RECORD_SEPARATOR = '\x1f';
const VERSION = '1';

/** A decoded record: numbers for the base-36 fields, strings for the rest; absent fields missing. */
export type DecodedRecord = Partial<Record<Exclude<RecordField, 'c' | 'l' | 'a' | 't' | 'i'>, string>> & {
  c?: number;
  l?: number;
  a?: number;
  t?: number;
  i?: number;
};

/** Decodes a version-1 record; null for anything else (an unknown version, not a record). */
export function decodeRecord(packed: string): DecodedRecord | null {
  const parts = packed.split(RECORD_SEPARATOR);
  if (parts[0] !== VERSION) return null;
  const out: Record<string, string | number> = {};
  const n = Math.min(parts.length - 1, RECORD_FIELDS.length);
  for (let j = 0; j < n; j++) {
    const v = parts[j + 1];
    if (v === '') continue;
    const f = RECORD_FIELDS[j];
    out[f] = BASE36.has(f) ? parseInt(v, 36) : v;
  }
  return out;
}

/** The inverse of `decodeRecord` (what the scripts' `pack` writes); for tests and tools. */
export function encodeRecord(rec: DecodedRecord): string {
  const out: string[] = [VERSION];
  let last = 0;
  RECORD_FIELDS.forEach((f, j) => {
    const v = rec[f];
    const text = v === undefined ? '' : typeof v === 'number' ? v.toString(36) : v;
    out.push(text);
    if (text !== '') last = j + 1;
  });
  return out.slice(0, last + 1).join(RECORD_SEPARATOR);
}

/** Labels (User-Agent, address, device) lose a separator character rather than break the record. */
export function packedText(value: string): string {
  return value.includes(RECORD_SEPARATOR) ? value.replaceAll(RECORD_SEPARATOR, '\ufffd') : value;
}

/** Ids and roles are compared, not shown: one with a separator is refused instead of altered. */
export function assertPackable(what: string, value: string): void {
  if (value.includes(RECORD_SEPARATOR)) throw new TypeError(`${what} must not contain U+001F`);
}

const luaList = (names: readonly string[]) => `{${names.map((n) => `'${n}'`).join(', ')}}`;

/**
 * Lua helpers every session script shares. KEYS[1] the session key, KEYS[2] the user key,
 * ARGV[1] the session id.
 *
 * The user key (`{user}:x`) is either a string, the user's only session (record with `id`), or
 * a zset, the index of sessions kept under their own keys (`{user}:s:<sid>`); a session key may
 * still hold an old-format hash (before issue 16), which `load` reads and `save` rewrites packed.
 */
export const RECORD_LUA = `
local SEP = '\\31'
local FIELDS = ${luaList(RECORD_FIELDS)}
local B36 = {${[...BASE36].map((f) => `${f} = true`).join(', ')}}
local DIGITS = '0123456789abcdefghijklmnopqrstuvwxyz'
local function b36(n)
  n = math.floor(n)
  if n <= 0 then return '0' end
  local s = ''
  while n > 0 do
    local d = n % 36
    s = string.sub(DIGITS, d + 1, d + 1) .. s
    n = (n - d) / 36
  end
  return s
end
local function parse(s)
  local rec, j = {}, -1
  for part in string.gmatch(s .. SEP, '([^' .. SEP .. ']*)' .. SEP) do
    if j == -1 then
      if part ~= '${VERSION}' then return redis.error_reply('unknown session record format') end
    elseif part ~= '' and FIELDS[j + 1] then
      local f = FIELDS[j + 1]
      if B36[f] then rec[f] = tonumber(part, 36) else rec[f] = part end
    end
    j = j + 1
  end
  return rec
end
local function pack(rec)
  local out, last = {'${VERSION}'}, 1
  for j, f in ipairs(FIELDS) do
    local v = rec[f]
    if v == nil then v = '' elseif B36[f] then v = b36(v) else v = tostring(v) end
    out[j + 1] = v
    if v ~= '' then last = j + 1 end
  end
  return table.concat(out, SEP, 1, last)
end
-- A record, or nil; an old-format hash is read as one (its numbers are decimal).
local function load(key)
  local s = redis.pcall('GET', key)
  if type(s) == 'string' then
    local rec = parse(s)
    if rec.err then error(rec.err) end
    return rec
  end
  if not s then return nil end
  local h = redis.call('HGETALL', key)
  if #h == 0 then return nil end
  local rec = {}
  for j = 1, #h, 2 do
    if B36[h[j]] then rec[h[j]] = tonumber(h[j + 1]) else rec[h[j]] = h[j + 1] end
  end
  return rec
end
-- The session ARGV[1]: its record and whether it is the user's single one (held in KEYS[2]).
local function locate()
  local rec = load(KEYS[1])
  if rec then return rec, false end
  local s = redis.pcall('GET', KEYS[2])
  if type(s) == 'string' then
    rec = parse(s)
    if rec.err then error(rec.err) end
    if rec.id == ARGV[1] then return rec, true end
  end
  return nil, false
end
-- Writes the record back where it lives; exp (deadline, ms) or nil to keep the TTL.
local function save(rec, single, exp)
  local key = KEYS[1]
  if single then key = KEYS[2] rec.id = ARGV[1] else rec.id = nil end
  if exp then redis.call('SET', key, pack(rec), 'PXAT', exp) else redis.call('SET', key, pack(rec), 'KEEPTTL') end
end
`;
