/**
 * `nestjs-jwt-session/testing`: the contract suite every `SessionRepository` must pass. Run it
 * against your own repository from a Jest (or Vitest) test file.
 */
export { type ContractFixture, describeRepositoryContract } from './repository-contract.js';
export type { ContractExpect, ContractExpectation, ContractMatchers, ContractTestApi } from './test-api.js';
