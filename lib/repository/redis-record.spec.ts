import { assertPackable, decodeRecord, encodeRecord, packedText, RECORD_SEPARATOR } from './redis-record.js';

describe('packed session record (TypeScript side; the Lua side is tested on Redis)', () => {
  it('round-trips every field; times in base 36, trailing empty fields left off', () => {
    const rec = {
      c: 1_800_000_000_123,
      l: 1_800_000_060_000,
      a: 1_800_604_800_123,
      t: 1_800_000_000_123,
      i: 1_800_000_000,
      g: '12',
      h: 'abcdefghijklmnopqrstuv',
      r: 'user,admin',
      ip: '2001:db8::1',
      ua: 'Mozilla/5.0 (X11; Linux x86_64)',
    };
    const packed = encodeRecord(rec);
    expect(packed.split(RECORD_SEPARATOR)).toEqual([
      '1',
      '',
      (1_800_000_000_123).toString(36),
      (1_800_000_060_000).toString(36),
      (1_800_604_800_123).toString(36),
      (1_800_000_000_123).toString(36),
      '12',
      (1_800_000_000).toString(36),
      'abcdefghijklmnopqrstuv',
      'user,admin',
      '2001:db8::1',
      'Mozilla/5.0 (X11; Linux x86_64)',
    ]);
    expect(decodeRecord(packed)).toEqual(rec);
    const full = {
      ...rec,
      id: 'sid',
      dv: 'Firefox on Linux',
      m: 'u-admin',
      d: '{"a":1}',
      k: 'Ekey',
      kc: '5',
      p3: 'x:1',
    };
    expect(decodeRecord(encodeRecord(full))).toEqual(full);
  });

  it('refuses what is not a version-1 record', () => {
    expect(decodeRecord('')).toBeNull();
    expect(decodeRecord(`2${RECORD_SEPARATOR}abc`)).toBeNull();
    expect(decodeRecord('{"c":1}')).toBeNull();
  });

  it('labels lose a separator character; ids and roles with one are refused', () => {
    expect(packedText(`a${RECORD_SEPARATOR}b`)).toBe('a\ufffdb');
    expect(packedText('plain')).toBe('plain');
    expect(() => assertPackable('roles', `user${RECORD_SEPARATOR}admin`)).toThrow(/roles must not contain U\+001F/);
    expect(() => assertPackable('roles', 'user,admin')).not.toThrow();
  });
});
