/**
 * An action as the worker runs it: the catalog entry (name, parameter schema,
 * policy) plus the function that does the work. `defineAction` keeps the
 * params type and the schema in step.
 */
import type { z } from 'zod';
import type { ActionSpec } from '../interpreter';

export interface ActionContext {
  /** Stable across retries of the same step of the same run: hand it to targets that deduplicate. */
  idempotencyKey: string;
  runId: string;
  stepId: string;
  attempt: number;
  log: (message: string, fields?: Record<string, unknown>) => void;
  /** Aborted when Temporal cancels the activity or the worker shuts down. */
  signal: AbortSignal;
}

export interface ActionDefinition<P = unknown> extends ActionSpec {
  run(params: P, context: ActionContext): Promise<unknown>;
}

export function defineAction<S extends z.ZodType>(
  spec: Omit<ActionSpec, 'params'> & { params: S; run(params: z.output<S>, context: ActionContext): Promise<unknown> },
): ActionDefinition<z.output<S>> {
  return spec;
}
