import { globalTestApi } from './test-api.js';

describe('globalTestApi', () => {
  it("returns the runner's globals under Jest", () => {
    const api = globalTestApi();
    expect(api.describe).toBe(describe);
    expect(api.expect).toBe(expect);
  });

  it('names what is missing and how to pass it when a runner global is absent', () => {
    const scope = globalThis as Record<string, unknown>;
    const saved = scope.beforeEach;
    delete scope.beforeEach;
    try {
      expect(() => globalTestApi()).toThrow(
        /no global beforeEach\b.*pass \{ describe, it, beforeEach, afterEach, expect \}/,
      );
    } finally {
      scope.beforeEach = saved;
    }
  });
});
