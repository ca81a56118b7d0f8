import { RedisKeys } from './redis-keys.js';

describe('RedisKeys', () => {
  const keys = new RedisKeys('sess:');

  it('%-encodes characters that would break the hash tag or a SCAN pattern', () => {
    expect(RedisKeys.encodeUser('a{b}c%d*e?f[g]h\\i j')).toBe('a%7bb%7dc%25d%2ae%3ff%5bg%5dh%5ci%20j');
    expect(RedisKeys.encodeUser('user-1@example.com')).toBe('user-1@example.com');
  });

  it('builds the session hash and index keys under one hash tag', () => {
    expect(keys.session('u{1}', 'SID')).toBe('sess:{u%7b1%7d}:s:SID');
    expect(keys.index('u{1}')).toBe('sess:{u%7b1%7d}:x');
    expect(keys.sessionAndIndex('u{1}', 'SID')).toEqual([keys.session('u{1}', 'SID'), keys.index('u{1}')]);
  });

  it('escapes glob characters of the prefix in the index pattern', () => {
    expect(new RedisKeys('a*b:').indexPattern()).toBe('a\\*b:{*}:x');
  });
});
