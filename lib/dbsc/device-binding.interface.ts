/**
 * What a repository keeps for DBSC (device-bound sessions): the device's public key in its compact
 * stored form (see device-key.ts) and when the last refresh challenge it accepted was issued.
 * Every method is one atomic step (one round trip on Redis). Optional, so repositories written
 * before DBSC still compile; `dbsc.enabled` refuses to start with a repository that lacks them.
 */

/** Binds a live, unbound session to a device key. */
export interface BindDeviceRequest {
  now: number;
  idleTimeoutMs: number;
  /** The key in its stored form (`E…` P-256, `R…` RSA). */
  key: string;
}

export type BindDeviceResult = 'bound' | 'already_bound' | 'missing' | 'expired';

/**
 * `now` stamps a new refresh challenge: the store's clock (Redis TIME), but always later than the
 * last accepted challenge.
 */
export type DeviceKeyResult =
  { status: 'ok'; key: string; now: number } | { status: 'unbound' } | { status: 'missing' } | { status: 'expired' };

/** Accepts one DBSC refresh whose proof the caller has verified against `key`. */
export interface DeviceRefreshRequest {
  now: number;
  idleTimeoutMs: number;
  /** The key the proof was verified with: it must still be the session's key. */
  key: string;
  /** Store-clock time the challenge was issued; must be newer than the last accepted one. */
  challengeIssuedAt: number;
  /** A challenge older than this (store clock) is stale. */
  challengeMaxAgeMs: number;
}

/** `ok`: accepted and the idle deadline slid. `replayed`: that challenge (or a newer one) was used already. */
export type DeviceRefreshResult = 'ok' | 'replayed' | 'stale' | 'unbound' | 'missing' | 'expired';

/** The DBSC half of `SessionRepository`. @publicApi */
export interface DeviceBindingStore {
  bindDevice?(userId: string, sessionId: string, request: BindDeviceRequest): Promise<BindDeviceResult>;
  deviceKey?(
    userId: string,
    sessionId: string,
    request: { now: number; idleTimeoutMs: number },
  ): Promise<DeviceKeyResult>;
  refreshDevice?(userId: string, sessionId: string, request: DeviceRefreshRequest): Promise<DeviceRefreshResult>;
}
