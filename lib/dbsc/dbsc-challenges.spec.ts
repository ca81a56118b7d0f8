import { DbscChallenges } from './dbsc-challenges.js';
import { challengeHeader, readDbscString, registrationHeader } from './dbsc-headers.js';
import { DbscRefusal } from './dbsc-errors.js';

const KEY = Buffer.alloc(32, 7);
const alice = { userId: 'u-alice', sessionId: 'AAAAAAAAAAAAAAAAAAAAAA' };
const bob = { userId: 'u-bob', sessionId: 'BBBBBBBBBBBBBBBBBBBBBB' };
const STORED = 'E' + Buffer.alloc(33, 2).toString('base64url');

describe('DbscChallenges', () => {
  const c = new DbscChallenges(KEY);

  it('a session identifier opens to its session; a tampered or foreign one to nothing', () => {
    const id = c.sessionIdentifier(alice);
    expect(c.openSessionIdentifier(id)).toEqual(alice);
    const [sid, , mac] = id.split('.');
    expect(c.openSessionIdentifier(`${sid}.${Buffer.from('u-bob').toString('base64url')}.${mac}`)).toBeNull();
    expect(new DbscChallenges(Buffer.alloc(32, 8)).openSessionIdentifier(id)).toBeNull();
    for (const junk of ['', 'a.b', 'a.b.c', `${id}.x`, '%%%.%%%.%%%']) expect(c.openSessionIdentifier(junk)).toBeNull();
  });

  it('a registration challenge is good for its session only, and says when it was issued', () => {
    const challenge = c.registrationChallenge(alice, 1_700_000_000_000);
    expect(c.openRegistrationChallenge(alice, challenge)).toBe(1_700_000_000_000);
    expect(c.openRegistrationChallenge(bob, challenge)).toBeNull();
    // A refresh challenge is not a registration challenge, nor the reverse.
    const refresh = c.refreshChallenge(alice, { issuedAt: 5, key: STORED });
    expect(c.openRegistrationChallenge(alice, refresh)).toBeNull();
    expect(c.openRefreshChallenge(alice, challenge)).toBeNull();
  });

  it('a refresh challenge carries its key and time; changing either breaks it', () => {
    const challenge = c.refreshChallenge(alice, { issuedAt: 42, key: STORED });
    expect(c.openRefreshChallenge(alice, challenge)).toEqual({ issuedAt: 42, key: STORED });
    expect(c.openRefreshChallenge(bob, challenge)).toBeNull();
    const [time, nonce, , mac] = challenge.split('.');
    const otherKey = 'E' + Buffer.alloc(33, 3).toString('base64url');
    expect(c.openRefreshChallenge(alice, `${time}.${nonce}.${otherKey}.${mac}`)).toBeNull();
    expect(c.openRefreshChallenge(alice, `r${(43).toString(36)}.${nonce}.${STORED}.${mac}`)).toBeNull();
  });

  it('two challenges for the same moment differ (random nonce)', () => {
    expect(c.registrationChallenge(alice, 1)).not.toBe(c.registrationChallenge(alice, 1));
  });
});

describe('DBSC structured fields', () => {
  it('writes the registration header and the challenge as RFC 9651 values', () => {
    expect(registrationHeader('/auth/dbsc/register', 'g1.n.m', 'az')).toBe(
      '(ES256 RS256);path="/auth/dbsc/register";challenge="g1.n.m";authorization="az"',
    );
    expect(challengeHeader('r1.n.k.m', 'sid.u.m')).toBe('"r1.n.k.m";id="sid.u.m"');
  });

  it('reads an sf-string, a token, or the bare value Chromium sends; ignores parameters', () => {
    expect(readDbscString('"abc.def"', 'x')).toBe('abc.def');
    expect(readDbscString('"abc";p=1', 'x')).toBe('abc');
    expect(readDbscString('eyJ-a_b.c', 'x')).toBe('eyJ-a_b.c');
    expect(readDbscString('0abc-d', 'x')).toBe('0abc-d');
    expect(readDbscString(undefined, 'x')).toBeUndefined();
  });

  it.each(['"unterminated', '("a" "b")', '"with space"', ':Ynl0ZXM=:', 'a b', 'x'.repeat(5000), '?1'])(
    'refuses %s with 400',
    (value) => {
      let caught: unknown;
      try {
        readDbscString(value, 'x');
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(DbscRefusal);
      expect((caught as DbscRefusal).status).toBe(400);
    },
  );
});
