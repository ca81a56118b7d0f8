/** A live session as listed to its owner. Times are epoch milliseconds. */
export interface SessionRecord {
  id: string;
  userId: string;
  createdAt: number;
  lastSeenAt: number;
  /** When the session ends if nothing else happens (the nearer of idle and absolute deadlines). */
  expiresAt: number;
  absoluteExpiresAt: number;
  userAgent: string;
  ip: string;
}

/** What a successful validation of a live session yields. */
export interface ValidatedSession {
  roles: string[];
  data: Record<string, unknown> | undefined;
  /** Bound to a device key (DBSC). */
  deviceBound?: boolean;
}

/** The authenticated principal the guard attaches to the request. */
export interface SessionPrincipal {
  /** Session id. */
  id: string;
  userId: string;
  roles: string[];
  data: Record<string, unknown> | undefined;
  /** Access token `exp`, epoch seconds. */
  tokenExpiresAt: number;
  /** How the request was authenticated. */
  transport: 'cookie' | 'bearer';
  /** Bound to a device key (DBSC): its access cookie is renewed only through a DBSC refresh. */
  deviceBound?: boolean;
}

/** The user the application hands to `SessionService.login()`. */
export interface SessionUser {
  id: string;
  roles?: string[];
}
