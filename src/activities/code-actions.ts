/**
 * Evaluate Code: the user's JavaScript in QuickJS with hard limits
 * (src/sandbox). The step's `code` is the body of `function (inputs) { ... }`;
 * whatever it returns, as JSON, is the step's output. Every way the code
 * can fail is a non-retryable ApplicationFailure with a stable type
 * (CodeFailureType): the same code on the same inputs fails the same way.
 *
 * It runs as a local activity: it is pure computation, and its deadline
 * (at most 5 s) is far inside the activity's timeout. The code runs on a
 * worker thread of the process's pool (src/sandbox/code-pool.ts), which is
 * terminated at the deadline, never on the event loop the worker and the
 * API serve others from.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { FailureType, type ActionPolicy } from '../interpreter';
import { CODE_FAILURE_TYPES, CodeFailure } from '../sandbox/errors';
import { sharedCodePool, type CodeRunner } from '../sandbox/code-pool';
import { CODE_LIMITS } from '../sandbox/quickjs-sandbox';
import { defineAction, type ActionDefinition } from './action-definition';
import type { ActionDeps } from './index';

export const EVALUATE_CODE_POLICY: ActionPolicy = {
  startToCloseTimeout: '15s',
  local: true,
  // A second attempt only for the host's own trouble (the WASM module failing to load).
  retry: { maximumAttempts: 2, initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '1s', nonRetryableErrorTypes: [FailureType.InvalidParams, ...CODE_FAILURE_TYPES] },
};

export const evaluateCodeParams = z.strictObject({
  /** The body of `function (inputs) { ... }`: use `return` to give the step's output. */
  code: z.string().min(1).max(100_000),
  /** Available to the code as `inputs`; usually `$cel` values taken from the run. */
  inputs: z.record(z.string(), z.unknown()).default({}),
  timeoutMs: z.number().int().min(1).max(CODE_LIMITS.maxTimeoutMs).default(CODE_LIMITS.defaultTimeoutMs),
  memoryMb: z.number().int().min(CODE_LIMITS.minMemoryMb).max(CODE_LIMITS.maxMemoryMb).default(CODE_LIMITS.defaultMemoryMb),
});

export function codeActions(_deps: ActionDeps, sandbox: CodeRunner = sharedCodePool()): ActionDefinition<never>[] {
  const evaluateCode = defineAction({
    name: 'evaluate_code',
    title: 'Evaluate code',
    description:
      'Run JavaScript (the body of `function (inputs) { ... }`) in a QuickJS sandbox with no host access, and make its return value (JSON) the step output. ' +
      `Limits: timeoutMs (default ${CODE_LIMITS.defaultTimeoutMs}, at most ${CODE_LIMITS.maxTimeoutMs}), memoryMb (default ${CODE_LIMITS.defaultMemoryMb}, ${CODE_LIMITS.minMemoryMb} to ${CODE_LIMITS.maxMemoryMb}), ` +
      `output at most ${CODE_LIMITS.maxOutputBytes / 1024} KB of JSON. Failures (not retried): CodeTimeout, CodeMemoryLimit, CodeError, CodeSyntaxError, CodeResultNotJson, CodeOutputTooLarge.`,
    params: evaluateCodeParams,
    policy: EVALUATE_CODE_POLICY,
    async run(params) {
      try {
        return await sandbox.evaluate(params.code, params.inputs, { timeoutMs: params.timeoutMs, memoryMb: params.memoryMb });
      } catch (err) {
        if (err instanceof CodeFailure) throw ApplicationFailure.create({ type: err.type, message: err.message, nonRetryable: true });
        throw err;
      }
    },
  });
  return [evaluateCode as ActionDefinition<never>];
}
