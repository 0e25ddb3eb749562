/**
 * The limits of the language that the validator checks and the interpreter
 * keeps to, in one place (docs/definitions.md quotes them).
 */

/** Items of one for_each that may run at once. */
export const MAX_FOR_EACH_CONCURRENCY = 100;
/** Items one for_each may go through. Their results travel in one payload. */
export const MAX_FOR_EACH_ITEMS = 10_000;
/** Runs with one concurrency key that may run at once. */
export const MAX_FLOW_CONCURRENCY_LIMIT = 1000;

/** Steps in one definition, those inside parallel branches and for_each loops included. */
export const MAX_DEFINITION_STEPS = 1000;
/** parallel and for_each steps inside one another. */
export const MAX_STEP_NESTING = 8;
/** Characters of one expression: a CEL field, a `$cel` value or a Liquid template. */
export const MAX_EXPRESSION_LENGTH = 4000;
