/** Redis key layout. All keys of one user share the `{user}` hash tag, so one slot in a cluster. */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  /** Hash-tag-safe form of a user id: braces, `%`, `*`, `?`, `[`, `]`, `\` and whitespace are %-encoded. */
  static encodeUser(userId: string): string {
    return userId.replace(/[{}%*?[\]\\\s]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  }

  sessionPrefix(userId: string): string {
    return `${this.prefix}{${RedisKeys.encodeUser(userId)}}:s:`;
  }

  session(userId: string, sessionId: string): string {
    return this.sessionPrefix(userId) + sessionId;
  }

  /** `[session key, user key]`, encoding the user id once (this runs on every request). */
  sessionAndIndex(userId: string, sessionId: string): [string, string] {
    const base = `${this.prefix}{${RedisKeys.encodeUser(userId)}}:`;
    return [`${base}s:${sessionId}`, `${base}x`];
  }

  /** `[session key, user key, user "not before"]`: what the hot path's MGET, VALIDATE, ROTATE and REAUTH read. */
  sessionKeys(userId: string, sessionId: string): [string, string, string] {
    const base = `${this.prefix}{${RedisKeys.encodeUser(userId)}}:`;
    return [`${base}s:${sessionId}`, `${base}x`, `${base}n`];
  }

  /** `[user index, user "not before"]`. */
  userKeys(userId: string): [string, string] {
    const base = `${this.prefix}{${RedisKeys.encodeUser(userId)}}:`;
    return [`${base}x`, `${base}n`];
  }

  index(userId: string): string {
    return `${this.prefix}{${RedisKeys.encodeUser(userId)}}:x`;
  }

  /** The session key prefix of the user an index key belongs to. */
  sessionPrefixOfIndex(indexKey: string): string {
    return `${indexKey.slice(0, -1)}s:`;
  }

  /** SCAN pattern matching every per-user index. */
  indexPattern(): string {
    return `${this.prefix.replace(/[*?[\]\\]/g, '\\$&')}{*}:x`;
  }

  lock(name: string): string {
    return `${this.prefix}lock:${name}`;
  }
}
