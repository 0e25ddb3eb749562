/**
 * How user code run by Evaluate Code can fail. Each kind has a stable type
 * string that becomes the ApplicationFailure `type` the run state, the API
 * and the editor show; none of them is worth retrying (the same code with
 * the same inputs fails the same way).
 */
export const CodeFailureType = {
  /** The code ran past its deadline (an endless loop, a slow computation, promises that never settle in time). */
  Timeout: 'CodeTimeout',
  /** The code needed more memory than the step allows. */
  MemoryLimit: 'CodeMemoryLimit',
  /** The code threw (including a stack overflow from deep recursion). */
  Error: 'CodeError',
  /** The code does not parse. */
  SyntaxError: 'CodeSyntaxError',
  /** The returned value cannot be JSON: a function, a symbol, a BigInt, NaN or Infinity, a cycle. */
  ResultNotJson: 'CodeResultNotJson',
  /** The returned value, as JSON, is larger than the output limit. */
  OutputTooLarge: 'CodeOutputTooLarge',
} as const;
export type CodeFailureType = (typeof CodeFailureType)[keyof typeof CodeFailureType];

export const CODE_FAILURE_TYPES: CodeFailureType[] = Object.values(CodeFailureType);

/** A failure of the user's code, with the stable type the action reports. */
export class CodeFailure extends Error {
  constructor(
    readonly type: CodeFailureType,
    message: string,
  ) {
    super(message);
    this.name = 'CodeFailure';
  }
}
