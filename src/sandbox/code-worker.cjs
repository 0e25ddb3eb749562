/**
 * Entry of an Evaluate Code worker thread (see code-pool.ts). Plain
 * CommonJS, so Node loads it the same way whatever runs the parent (tsx
 * under `npm start`, `node --import tsx` in the image, swc under jest);
 * tsx's CommonJS hook then loads the TypeScript worker itself.
 */
// A lower CPU priority for this thread only (on Linux each thread has its own nice value), from
// the start: loading the TypeScript and the WASM engine is work too. On a busy machine the threads
// serving requests and running workflows go first. Not the lowest (19): under heavy load such a
// thread gets almost no CPU, so honest code would miss its wall-clock deadline and a terminated
// thread would take minutes to wind down.
try {
  require('node:os').setPriority(10);
} catch {
  // Not permitted or not supported here: the deadline still holds.
}
require('tsx/cjs/api').register();
require('./code-worker-main.ts');
