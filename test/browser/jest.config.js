/**
 * `npm run test:browser`: the real-browser test, kept out of `npm test` (whose testRegex never
 * matches `*.browser.ts`) so that `npm test` needs no browser. Same transform as the main config.
 */
import base from '../../jest.config.js';

export default {
  ...base,
  rootDir: '../..',
  roots: ['<rootDir>/test/browser'],
  testRegex: '\\.browser\\.ts$',
  testTimeout: 90000,
};
