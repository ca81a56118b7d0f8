/** test/security/allowed-origins.e2e-spec.ts on Fastify (run-on-fastify.ts). */
import './run-on-fastify.js';

await import('../security/allowed-origins.e2e-spec.js');
