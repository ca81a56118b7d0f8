/** test/e2e/contract.e2e-spec.ts on Fastify (run-on-fastify.ts), memory store only (memory-only.ts). */
import './run-on-fastify.js';
import './memory-only.js';

await import('../e2e/contract.e2e-spec.js');
