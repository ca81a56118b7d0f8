/** Startup check that a secret is long and random-looking, not a placeholder (S-55). */
import { SessionConfigError } from './session.errors.js';

/** Shortest secret accepted anywhere: 256 bits, the HS256 output size (RFC 7518 §3.2). */
export const MIN_SECRET_BYTES = 32;
/** Placeholder words long enough to count anywhere (random base64 holds one about once in 10^7 secrets). */
const PLACEHOLDER_WORDS = [
  'secret',
  'change',
  'placeholder',
  'example',
  'default',
  'password',
  'replace',
  'sample',
  'testing',
];
/**
 * Short words: as plain substrings they turn up in about 1 in 6 000 random base64url secrets
 * ("...tEsT..."), which made genuinely random secrets fail at startup. So in mixed-case text (what
 * base64 looks like) they only count as whole words (below 1 in a million); in single-case text
 * (typed passphrases; hex cannot spell them) they count anywhere. "xxxx…" fails the distinct-character check.
 */
const SHORT_WORDS = ['your', 'todo', 'test', 'dummy', 'demo'];
const SHORT_WHOLE_WORD = new RegExp(`(?:^|[^a-z0-9])(${SHORT_WORDS.join('|')})(?:[^a-z0-9]|$)`);

/** True when `text` is a short unit repeated ("0123456789" x 4); random text never is. */
function isRepetition(text: string): boolean {
  for (let period = 1; period <= Math.min(64, text.length / 2); period += 1) {
    let repeats = true;
    for (let i = period; i < text.length && repeats; i += 1) repeats = text[i] === text[i - period];
    if (repeats) return true;
  }
  return false;
}

/** Why `text` looks human-made, or undefined when it looks random. */
function placeholderReason(text: string): string | undefined {
  const lower = text.toLowerCase();
  const singleCase = text === lower || text === text.toUpperCase();
  const word =
    PLACEHOLDER_WORDS.find((w) => lower.includes(w)) ??
    (singleCase ? SHORT_WORDS.find((w) => lower.includes(w)) : SHORT_WHOLE_WORD.exec(lower)?.[1]);
  if (word) return `contains "${word}"`;
  if (new Set(text).size < 10) return 'too few distinct characters';
  if (isRepetition(text)) return 'a short pattern repeated';
  return undefined;
}

/** Rejects secrets that are short or look like a placeholder (strings and Buffers alike). */
export function assertStrongSecret(secret: string | Buffer, what: string): Buffer {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new SessionConfigError(
      `${what} is ${bytes.length} bytes; it must be at least ${MIN_SECRET_BYTES} random bytes ` +
        `(generate one with: node -e "console.log(require('crypto').randomBytes(32).toString('base64url'))")`,
    );
  }
  // latin1 maps each byte to one character, so Buffer.alloc(32) or Buffer.from('change-me…') are caught too.
  const reason = placeholderReason(typeof secret === 'string' ? secret : bytes.toString('latin1'));
  if (reason) {
    throw new SessionConfigError(
      `${what} looks like a placeholder (${reason}); use at least 32 random bytes from a CSPRNG`,
    );
  }
  return bytes;
}
