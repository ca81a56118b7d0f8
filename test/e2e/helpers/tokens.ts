import { randomBytes } from 'node:crypto';

/** The JSON payload of a compact JWT (no verification: tests read what the server issued). */
export function jwtPayload(token: string): Record<string, unknown> {
  const part = token.split('.')[1];
  if (part === undefined) throw new Error(`not a JWT: ${token.slice(0, 20)}…`);
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** `exp` of a JWT as the ISO time the API reports in `accessTokenExpiresAt`. */
export function expIso(token: string): string {
  return new Date(Number(jwtPayload(token).exp) * 1000).toISOString();
}

/**
 * The same token with one signature character changed. A middle character is used: all six of
 * its bits are significant, so the signature really differs (the last one has padding bits).
 */
export function tamperSignature(token: string): string {
  const at = token.lastIndexOf('.') + 10;
  const c = token[at];
  return token.slice(0, at) + (c === 'A' ? 'B' : 'A') + token.slice(at + 1);
}

/** A well-formed session id nobody was issued (22 base64url characters). */
export function unknownSessionId(): string {
  return randomBytes(16).toString('base64url');
}
