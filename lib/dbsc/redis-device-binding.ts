import type { LuaScript } from '../repository/redis-scripts.js';
import type { RedisKeys } from '../repository/redis-keys.js';
import { SessionStoreUnavailableError } from '../session.errors.js';
import type {
  BindDeviceRequest,
  BindDeviceResult,
  DeviceKeyResult,
  DeviceRefreshRequest,
  DeviceRefreshResult,
} from './device-binding.interface.js';
import {
  BIND_DEVICE,
  BindReply,
  DEVICE_KEY,
  DEVICE_REFRESH,
  DeviceKeyReply,
  DeviceRefreshReply,
} from './dbsc-redis-scripts.js';

/** The repository's bounded script runner (one round trip, 503 on any store failure). */
type Run = (script: LuaScript, keys: string[], args: string[]) => Promise<unknown>;

/** Reply code → name, refusing codes a script never answers. */
function named<T extends string>(codes: Record<T, number>, reply: unknown): T {
  const name = (Object.keys(codes) as T[]).find((k) => codes[k] === reply);
  if (name === undefined) throw new SessionStoreUnavailableError('unexpected reply');
  return name;
}

export async function redisBindDevice(
  run: Run,
  keys: RedisKeys,
  now: string,
  userId: string,
  sessionId: string,
  r: BindDeviceRequest,
): Promise<BindDeviceResult> {
  const reply = await run(BIND_DEVICE, keys.sessionAndIndex(userId, sessionId), [
    sessionId,
    now,
    String(r.idleTimeoutMs),
    r.key,
  ]);
  return named(BindReply, reply);
}

export async function redisDeviceKey(
  run: Run,
  keys: RedisKeys,
  now: string,
  userId: string,
  sessionId: string,
  r: { idleTimeoutMs: number },
): Promise<DeviceKeyResult> {
  const reply = await run(DEVICE_KEY, keys.sessionAndIndex(userId, sessionId), [
    sessionId,
    now,
    String(r.idleTimeoutMs),
  ]);
  if (Array.isArray(reply) && typeof reply[0] === 'string' && typeof reply[1] === 'number') {
    return { status: 'ok', key: reply[0], now: reply[1] };
  }
  return { status: named(DeviceKeyReply, reply) };
}

export async function redisRefreshDevice(
  run: Run,
  keys: RedisKeys,
  now: string,
  userId: string,
  sessionId: string,
  r: DeviceRefreshRequest,
): Promise<DeviceRefreshResult> {
  const reply = await run(DEVICE_REFRESH, keys.sessionAndIndex(userId, sessionId), [
    sessionId,
    now,
    String(r.idleTimeoutMs),
    r.key,
    String(r.challengeIssuedAt),
    String(r.challengeMaxAgeMs),
  ]);
  return named(DeviceRefreshReply, reply);
}
