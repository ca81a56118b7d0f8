/**
 * For suites whose store matrix adds nothing on a second platform (the platform never talks to the
 * store): their Fastify run keeps the memory store only (test/e2e/helpers/store-matrix.ts). The
 * store-dependent answers on Fastify (503 + Retry-After on an outage) run on Redis in fail-closed.
 */
process.env.TEST_STORES = 'memory';
