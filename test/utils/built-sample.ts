import { fileURLToPath } from 'node:url';

/**
 * Entry of the built sample (`npm run build:sample` → dist-sample/, the sample's own build beside the
 * library's dist/), run as `npm run start:prod` runs it. `npm test` builds first.
 */
export const SAMPLE_MAIN = fileURLToPath(new URL('../../dist-sample/sample/main.js', import.meta.url));
