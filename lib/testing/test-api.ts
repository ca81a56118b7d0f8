/**
 * The slice of a test runner the contract suite needs. Jest fits it, and so does Vitest; the
 * types are our own so the package needs no test-runner types to compile.
 */

/** The matchers the suite uses; return types are loose so Jest's and Vitest's both fit. */
export interface ContractMatchers {
  toBe(expected: unknown): unknown;
  toEqual(expected: unknown): unknown;
  toMatchObject(expected: object): unknown;
  toContain(expected: unknown): unknown;
  toBeNull(): unknown;
  toBeUndefined(): unknown;
  toHaveLength(length: number): unknown;
  toHaveProperty(path: string): unknown;
  toBeGreaterThan(n: number): unknown;
  toBeGreaterThanOrEqual(n: number): unknown;
  toBeLessThan(n: number): unknown;
  toBeLessThanOrEqual(n: number): unknown;
}

export interface ContractExpectation extends ContractMatchers {
  readonly not: ContractMatchers;
  readonly resolves: ContractMatchers;
}

/** `expect` with the two asymmetric matchers the suite uses. */
export interface ContractExpect {
  (actual: unknown): ContractExpectation;
  any(type: unknown): unknown;
  stringMatching(pattern: string | RegExp): unknown;
}

/**
 * `describe`, `it`, `beforeEach`, `afterEach` and `expect` of your test runner. Method syntax on
 * purpose: the runners' own signatures are wider than what the suite calls.
 * @publicApi
 */
export interface ContractTestApi {
  describe(name: string, body: () => void): unknown;
  it(name: string, body: () => Promise<unknown> | void): unknown;
  beforeEach(body: () => Promise<unknown> | void): unknown;
  afterEach(body: () => Promise<unknown> | void): unknown;
  expect: ContractExpect;
}

const NAMES = ['describe', 'it', 'beforeEach', 'afterEach', 'expect'] as const;

/** The runner's globals (Jest, or Vitest with `globals: true`); a clear error when there are none. */
export function globalTestApi(): ContractTestApi {
  const scope = globalThis as Record<string, unknown>;
  const missing = NAMES.filter((n) => typeof scope[n] !== 'function');
  if (missing.length > 0) {
    throw new Error(
      `nestjs-jwt-session/testing: no global ${missing.join(', ')}. Run the suite under Jest (or Vitest with ` +
        '`globals: true`), or pass { describe, it, beforeEach, afterEach, expect } as the third argument.',
    );
  }
  return scope as unknown as ContractTestApi;
}
