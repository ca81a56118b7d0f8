import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { describeRepositoryContract } from '../testing/index.js';
import { MemorySessionRepository } from './memory-session.repository.js';

describeRepositoryContract('memory', async () => ({
  repo: new MemorySessionRepository(),
  teardown: async () => undefined,
}));

// The runner's functions handed over explicitly, as a user without Jest globals would.
describeRepositoryContract(
  'memory, test API passed explicitly',
  async () => ({ repo: new MemorySessionRepository(), teardown: async () => undefined }),
  { describe, it, beforeEach, afterEach, expect },
);

describe('MemorySessionRepository', () => {
  it('cleanup frees the memory of expired sessions', async () => {
    const repo = new MemorySessionRepository();
    const now = Date.now();
    const idle = 60_000;
    for (let n = 0; n < 10; n++) {
      await repo.create({
        id: `s${n}`.padEnd(22, 'x'),
        userId: `u${n % 3}`,
        roles: [],
        userAgent: '',
        ip: '',
        device: '',
        data: undefined,
        now: now + n,
        idleTimeoutMs: idle,
        absoluteExpiresAt: now + 3_600_000,
        refreshHash: `h${n}`,
        refreshIssuedAt: Math.floor(now / 1000),
      });
    }
    expect(repo.size()).toBe(10);
    // Deadlines are now + n + idle: at now + 5 + idle the first six are due.
    expect(await repo.cleanup(now + 5 + idle, 1, idle)).toEqual({ scanned: 3, removed: 6 });
    expect(repo.size()).toBe(4);
  });
});
