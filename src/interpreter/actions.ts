/**
 * What the interpreter and validator know about an action: its name, its
 * parameter schema (zod), and how Temporal should run it (timeouts, retries,
 * local or not). Implementations live in src/activities; this is only the
 * catalog, handed in by whoever builds the validator or starts a run.
 */
import type { z } from 'zod';

export interface RetryPolicySpec {
  maximumAttempts: number;
  initialInterval: string;
  backoffCoefficient: number;
  maximumInterval: string;
  nonRetryableErrorTypes?: string[];
}

export interface ActionPolicy {
  /** Longest one attempt may take, e.g. "30s". */
  startToCloseTimeout: string;
  retry: RetryPolicySpec;
  /** Short database writes and pure computations run as local activities. */
  local?: boolean;
}

export interface ActionSpec {
  name: string;
  title: string;
  description: string;
  params: z.ZodType;
  policy: ActionPolicy;
  /**
   * The stable failure types the action raises (ApplicationFailure `type`),
   * besides those in its policy's nonRetryableErrorTypes: what a step's
   * `catch` and `retry.nonRetryable` may name.
   */
  errorTypes?: readonly string[];
}

export type ActionCatalog = ReadonlyMap<string, ActionSpec>;

/** The one action whose output the interpreter also merges into `vars`. */
export const SET_VARIABLES_ACTION = 'set_variables';
