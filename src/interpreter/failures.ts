/**
 * Step failures as the interpreter decides about them: which catch route a
 * failure takes, which error names a step can raise (for the validator), and
 * an action step's retry policy (its action's, overridden field by field by
 * the step) with the wait before each retry.
 *
 * Pure: the workflow hands in what happened; nothing here reads a clock.
 */
import type { ActionCatalog, ActionPolicy } from './actions';
import type { ActionStep, CatchRoute, Step } from './definition';
import { parseDuration } from './duration';
import { FailureType } from './errors';

/** Names in `catch.errors` that stand for a kind of failure rather than one type. */
export const ERROR_KEYWORDS = ['timeout', 'non_retryable'] as const;

/** What a catch route looks at: the failure's type, and whether retrying could have helped. */
export interface FailureFacts {
  type: string;
  /** Failed without using up its retries: marked non-retryable, or an error no retry can fix. */
  nonRetryable: boolean;
}

export function errorNameMatches(name: string, failure: FailureFacts): boolean {
  if (name === 'timeout') return failure.type === FailureType.Timeout;
  if (name === 'non_retryable') return failure.nonRetryable;
  return name === failure.type;
}

/** The first catch route that takes this failure (no `errors`: any), or null: the failure stands. */
export function catchRouteFor(step: Step, failure: FailureFacts): (CatchRoute & { index: number }) | null {
  if (!('catch' in step) || !step.catch) return null;
  for (let index = 0; index < step.catch.length; index++) {
    const route = step.catch[index];
    if (route.errors === undefined || route.errors.some((name) => errorNameMatches(name, failure))) return { ...route, index };
  }
  return null;
}

/** Failures the interpreter itself decides: retrying them cannot help. */
export const INTERPRETER_FAILURES: ReadonlySet<string> = new Set([FailureType.Expression, FailureType.InvalidParams, FailureType.UnknownAction, FailureType.ChildWorkflow]);

/**
 * The error types a step can fail with, for checking `catch` and
 * `retry.nonRetryable` when a definition is saved; null when the action is
 * unknown (that is reported on its own).
 */
export function knownErrorTypes(step: Step, catalog: ActionCatalog): Set<string> | null {
  const types = new Set<string>([FailureType.Expression]);
  switch (step.type) {
    case 'action': {
      const spec = catalog.get(step.action);
      if (!spec) return null;
      for (const t of [FailureType.Timeout, FailureType.ActionFailed, FailureType.InvalidParams, FailureType.UnknownAction]) types.add(t);
      for (const t of spec.policy.retry.nonRetryableErrorTypes ?? []) types.add(t);
      for (const t of spec.errorTypes ?? []) types.add(t);
      return types;
    }
    case 'parallel':
      types.add(FailureType.BranchFailed);
      types.add(FailureType.Timeout);
      return types;
    case 'for_each':
      types.add(FailureType.ItemFailed);
      types.add(FailureType.Timeout);
      return types;
    case 'run_workflow':
      types.add(FailureType.ChildWorkflow);
      types.add(FailureType.ChildRunFailed);
      types.add(FailureType.Timeout);
      return types;
    default:
      return types;
  }
}

/** At most this many attempts per step: each one is a few events in the run's history. */
export const MAX_STEP_ATTEMPTS = 100;

export interface EffectiveRetryPolicy {
  maximumAttempts: number;
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
  nonRetryableErrorTypes: string[];
  /** One attempt's limit (start-to-close). */
  startToCloseMs: number;
  /** The whole step's limit, retries included (schedule-to-close). */
  scheduleToCloseMs?: number;
}

const ms = (text: string | undefined, fallback: number): number => (text === undefined ? fallback : parseDuration(text) ?? fallback);

/** The action's policy with the step's `retry`, `timeout` and `deadline` laid over it. */
export function stepRetryPolicy(action: ActionPolicy, step: Pick<ActionStep, 'retry' | 'timeout' | 'deadline'>): EffectiveRetryPolicy {
  const base = action.retry;
  const own = step.retry ?? {};
  const initialIntervalMs = ms(own.initialInterval, ms(base.initialInterval, 1000));
  // Temporal's 0 means "no limit"; a step keeps to MAX_STEP_ATTEMPTS.
  const attempts = own.attempts ?? base.maximumAttempts;
  return {
    maximumAttempts: attempts > 0 ? Math.min(attempts, MAX_STEP_ATTEMPTS) : MAX_STEP_ATTEMPTS,
    initialIntervalMs,
    backoffCoefficient: own.backoff ?? base.backoffCoefficient ?? 2,
    maximumIntervalMs: ms(own.maximumInterval, ms(base.maximumInterval, initialIntervalMs * 100)),
    nonRetryableErrorTypes: [...new Set([...(base.nonRetryableErrorTypes ?? []), ...(own.nonRetryable ?? [])])],
    startToCloseMs: ms(step.timeout, ms(action.startToCloseTimeout, 60_000)),
    scheduleToCloseMs: step.deadline === undefined ? undefined : parseDuration(step.deadline),
  };
}

/** The wait after the n-th attempt failed (n from 1): initial × backoff^(n-1), at most the maximum. */
export function retryDelayMs(policy: EffectiveRetryPolicy, failedAttempt: number): number {
  const delay = policy.initialIntervalMs * Math.pow(policy.backoffCoefficient, Math.max(0, failedAttempt - 1));
  return Math.round(Math.min(delay, policy.maximumIntervalMs));
}

/** Whether a failed attempt is tried again (attempts left, retryable, and the deadline leaves room). */
export function shouldRetry(policy: EffectiveRetryPolicy, failure: FailureFacts, failedAttempt: number): boolean {
  if (failure.nonRetryable || policy.nonRetryableErrorTypes.includes(failure.type)) return false;
  return failedAttempt < policy.maximumAttempts;
}

/** How long a step rides out its dependencies being unavailable (the database restarting or failing over). */
export const DEPENDENCY_OUTAGE_MS = 10 * 60_000;
const DEPENDENCY_RETRY_FIRST_MS = 500;
const DEPENDENCY_RETRY_MAX_MS = 5_000;

/**
 * The wait before trying again after the n-th failure (from 1) of an outage
 * that began `outageElapsedMs` ago, or null once the outage has lasted too
 * long. These failures do not use up the action's attempts: a database
 * away for a minute must not fail every run at its next object action.
 */
export function dependencyRetryDelayMs(outageElapsedMs: number, outageFailures: number): number | null {
  if (outageElapsedMs >= DEPENDENCY_OUTAGE_MS) return null;
  return Math.min(DEPENDENCY_RETRY_FIRST_MS * Math.pow(2, Math.max(0, outageFailures - 1)), DEPENDENCY_RETRY_MAX_MS);
}
