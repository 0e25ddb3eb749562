/**
 * Entry of an Evaluate Code worker thread (see code-pool.ts). Plain
 * CommonJS, so Node loads it the same way whatever runs the parent (tsx
 * under `npm start`, `node --import tsx` in the image, swc under jest);
 * tsx's CommonJS hook then loads the TypeScript worker itself.
 */
require('tsx/cjs/api').register();
require('./code-worker-main.ts');
