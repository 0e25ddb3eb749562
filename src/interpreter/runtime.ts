/**
 * What the workflow bundle imports from the interpreter: everything in
 * index.ts but the definition's zod schemas (their types only). The Temporal
 * SDK evaluates the bundle's modules afresh for every new workflow execution,
 * and building those schemas was about a quarter of the workflow thread's
 * CPU under load (a profile of `npm run bench -- events`). The API and the
 * validator import index.ts.
 */
export * from './actions';
export * from './cel';
export type * from './definition';
export * from './duration';
export * from './errors';
export * from './liquid';
export * from './planner';
export * from './program';
export * from './run-data';
export * from './run-state';
export * from './values';
export * from './failures';
export * from './flow';
export * from './limits';
export * from './for-each-plan';
export * from './steps';
