/** test/security/header-transport.e2e-spec.ts on Fastify (run-on-fastify.ts). */
import './run-on-fastify.js';

await import('../security/header-transport.e2e-spec.js');
