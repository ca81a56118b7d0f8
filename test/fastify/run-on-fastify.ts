/**
 * Imported first by each file in test/fastify/: the suite it then imports starts every app on
 * Fastify (test/utils/http-adapter.ts). Static imports run before the file's own code, so the
 * variable is set before the suite's first app starts.
 */
process.env.TEST_HTTP_ADAPTER = 'fastify';
