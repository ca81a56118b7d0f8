import { createHash, randomBytes } from 'node:crypto';
import { resolveSessionOptions } from '../session-options.js';
import { CsrfService } from './csrf.service.js';

const SECRET = createHash('sha256').update('csrf.service.spec').digest('base64url');
const SID = 'AbCdEfGhIjKlMnOpQrStUv';
const OTHER_SID = 'ZyXwVuTsRqPoNmLkJiHgFe';
const csrf = new CsrfService(resolveSessionOptions({ secret: SECRET }));

/** verify() must answer false, never throw, for anything that is not a token for this session. */
function refused(token: unknown, sid = SID): void {
  let result: unknown;
  expect(() => {
    result = csrf.verify(sid, token);
  }).not.toThrow();
  expect(result).toBe(false);
}

describe('CsrfService (S-38, S-39)', () => {
  it('a token verifies for the session it was issued for', () => {
    const token = csrf.issue(SID);
    expect(token).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    expect(csrf.verify(SID, token)).toBe(true);
    // Stateless: a second instance with the same secret (another replica) agrees.
    expect(new CsrfService(resolveSessionOptions({ secret: SECRET })).verify(SID, token)).toBe(true);
  });

  it('a token is refused for any other session', () => {
    const token = csrf.issue(SID);
    refused(token, OTHER_SID);
    refused(token, `${SID}x`);
    refused(token, SID.toLowerCase());
    refused(token, '');
  });

  it('every issue gives a different token, and each stays valid', () => {
    const tokens = Array.from({ length: 200 }, () => csrf.issue(SID));
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(new Set(tokens.map((t) => t.split('.')[0])).size).toBe(tokens.length);
    for (const t of tokens) expect(csrf.verify(SID, t)).toBe(true);
  });

  it('refuses a token from another secret (environment)', () => {
    const other = new CsrfService(resolveSessionOptions({ secret: randomBytes(32) }));
    refused(other.issue(SID));
  });

  it('refuses a token with any character changed', () => {
    const token = csrf.issue(SID);
    for (let i = 0; i < token.length; i += 1) {
      if (token[i] === '.') continue;
      const tampered = token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
      refused(tampered);
    }
  });

  it('refuses swapped, reused and spliced parts', () => {
    const [n1, m1] = csrf.issue(SID).split('.') as [string, string];
    const [n2, m2] = csrf.issue(SID).split('.') as [string, string];
    refused(`${n1}.${m2}`);
    refused(`${n2}.${m1}`);
    refused(`${m1.slice(0, 22)}.${n1}${m1.slice(0, 21)}`);
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a number', 12345],
    ['an object', { token: 'x' }],
    ['an array', ['a', 'b']],
    ['empty', ''],
    ['a dot', '.'],
    ['short', 'abc.def'],
    ['nonce only', 'A'.repeat(22)],
    ['one char short', `${'A'.repeat(22)}.${'A'.repeat(42)}`],
    ['one char long', `${'A'.repeat(22)}.${'A'.repeat(44)}`],
    ['right shape, garbage', `${'A'.repeat(22)}.${'A'.repeat(43)}`],
    ['standard base64', `${'+'.repeat(22)}.${'/'.repeat(43)}`],
    ['whitespace around', ` ${csrf.issue(SID)} `],
    ['trailing newline', `${csrf.issue(SID)}\n`],
    ['two tokens', `${csrf.issue(SID)},${csrf.issue(SID)}`],
    ['multi-byte chars', `${'é'.repeat(22)}.${'é'.repeat(43)}`],
    ['huge', 'A'.repeat(1 << 20)],
  ])('%s → false without throwing', (_name, token) => {
    refused(token);
  });

  it('random garbage of the right shape is always refused', () => {
    for (let i = 0; i < 2000; i += 1) {
      refused(`${randomBytes(16).toString('base64url')}.${randomBytes(32).toString('base64url')}`);
    }
  });
});
