/** test/ops/fail-closed.e2e-spec.ts on Fastify (run-on-fastify.ts). */
import './run-on-fastify.js';

await import('../ops/fail-closed.e2e-spec.js');
