/** test/e2e/contract.e2e-spec.ts on Fastify (run-on-fastify.ts). */
import './run-on-fastify.js';

await import('../e2e/contract.e2e-spec.js');
