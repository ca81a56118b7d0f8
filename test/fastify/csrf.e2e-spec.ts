/** test/security/csrf.e2e-spec.ts on Fastify (run-on-fastify.ts). */
import './run-on-fastify.js';

await import('../security/csrf.e2e-spec.js');
