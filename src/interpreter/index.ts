/**
 * The pure interpreter: definition schema, validation, expressions, and
 * "given the graph and the data so far, what next". No Temporal, no I/O.
 *
 * This index is what the API and the worker's activities import. The
 * workflow bundle imports runtime.ts (the same without the definition's zod
 * schemas). The validator and JSON Schema helpers (ajv) are imported by path
 * from the API, so they stay out of both.
 */
export * from './runtime';
export * from './definition';
