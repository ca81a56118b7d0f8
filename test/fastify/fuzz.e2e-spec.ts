/** test/security/fuzz.e2e-spec.ts on Fastify (run-on-fastify.ts). */
import './run-on-fastify.js';

await import('../security/fuzz.e2e-spec.js');
