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
  /**
   * Device label computed at login. Optional so repositories written before labels still compile
   * (the list then derives one from `userAgent`); the repository contract suite expects it.
   */
  device?: string;
  /** Present on an impersonation session: the user who started it. */
  impersonator?: SessionImpersonator;
}

/** The actor behind an impersonation session. */
export interface SessionImpersonator {
  /** User id of the admin who started the session. */
  id: string;
}

/** What a successful validation of a live session yields. */
export interface ValidatedSession {
  roles: string[];
  data: Record<string, unknown> | undefined;
  /** When the user last proved their credentials for this session (login or re-auth), epoch ms. */
  authTime: number;
  /** User id of the actor of an impersonation session. */
  impersonator?: string;
  /** Bound to a device key (DBSC). */
  deviceBound?: boolean;
  /**
   * The session's absolute deadline, epoch ms (the store's clock), when the repository knows it
   * without extra work. The local cache admits a session at once with it; without it, after one
   * background `list` read.
   */
  absoluteExpiresAt?: number;
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
  /** Last login or re-authentication of this session, epoch ms (store clock); refresh leaves it. */
  authTime: number;
  /** Set when an admin started this session as the user (impersonation). */
  impersonator?: SessionImpersonator;
  /** Bound to a device key (DBSC): its access cookie is renewed only through a DBSC refresh. */
  deviceBound?: boolean;
}

/** The user the application hands to `SessionService.login()`. */
export interface SessionUser {
  id: string;
  roles?: string[];
}
