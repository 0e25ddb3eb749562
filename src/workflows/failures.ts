/**
 * Temporal failures as the run state shows them: a stable type and a
 * readable message, plus whether retrying could have helped (what a catch
 * route's `non_retryable` matches).
 */
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, TimeoutFailure } from '@temporalio/workflow';
import { FailureType, INTERPRETER_FAILURES, StepError, type StepFailure } from '../interpreter/runtime';

/** A failure as the run state shows it (kept exactly as runs before issue 9 reported it). */
export function describeFailure(err: unknown): StepFailure {
  if (err instanceof StepError) return { type: err.type, message: err.message };
  if (err instanceof ActivityFailure || err instanceof ChildWorkflowFailure) {
    const cause = err.cause;
    if (cause instanceof ApplicationFailure) return { type: cause.type ?? FailureType.ActionFailed, message: cause.message };
    if (cause instanceof TimeoutFailure) return { type: 'Timeout', message: `timed out (${String(cause.timeoutType)})` };
    return { type: FailureType.ActionFailed, message: cause?.message ?? err.message };
  }
  if (err instanceof ApplicationFailure) return { type: err.type ?? FailureType.ActionFailed, message: err.message };
  if (err instanceof Error) return { type: FailureType.ActionFailed, message: err.message };
  return { type: FailureType.ActionFailed, message: String(err) };
}

export interface AttemptFailure extends StepFailure {
  nonRetryable: boolean;
  /** How long the service asked us to wait (Retry-After), when it said. */
  retryAfterMs?: number;
  /** The step's overall deadline (schedule-to-close) passed: no retry can follow. */
  deadline: boolean;
}

/** Plain JavaScript errors thrown by an action say nothing stable: they are ActionFailed. */
const GENERIC_ERROR_NAMES = new Set(['Error', 'TypeError', 'RangeError', 'ReferenceError', 'SyntaxError', 'EvalError', 'URIError', 'AggregateError']);

const TIMEOUT_WORDS: Record<string, string> = {
  START_TO_CLOSE: 'the attempt ran longer than its timeout',
  SCHEDULE_TO_CLOSE: "the step's deadline passed",
  SCHEDULE_TO_START: 'no worker picked the attempt up in time',
  HEARTBEAT: 'the attempt stopped sending heartbeats',
};

/** One failed attempt of an action (workflow-driven retries). */
export function attemptFailure(err: unknown): AttemptFailure {
  if (err instanceof ActivityFailure) {
    const cause = err.cause;
    if (cause instanceof ApplicationFailure) {
      const type = cause.type && !GENERIC_ERROR_NAMES.has(cause.type) ? cause.type : FailureType.ActionFailed;
      const retryAfterMs = requestedDelayMs(cause);
      return { type, message: cause.message, nonRetryable: cause.nonRetryable || INTERPRETER_FAILURES.has(type), deadline: false, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
    }
    if (cause instanceof TimeoutFailure) {
      const deadline = cause.timeoutType === 'SCHEDULE_TO_CLOSE';
      return { type: FailureType.Timeout, message: TIMEOUT_WORDS[String(cause.timeoutType)] ?? 'timed out', nonRetryable: false, deadline };
    }
    return { type: FailureType.ActionFailed, message: cause?.message ?? err.message, nonRetryable: false, deadline: false };
  }
  const described = describeFailure(err);
  return { ...described, nonRetryable: INTERPRETER_FAILURES.has(described.type), deadline: false };
}

/**
 * The delay an action asked for before its next attempt: Temporal's
 * nextRetryDelay when it survives decoding, else the `retryAfterMs` our
 * actions repeat in the failure's first detail.
 */
function requestedDelayMs(failure: ApplicationFailure): number | undefined {
  const next = failure.nextRetryDelay;
  if (typeof next === 'number' && Number.isFinite(next) && next >= 0) return next;
  const detail = failure.details?.[0] as { retryAfterMs?: unknown } | undefined;
  const fromDetail = detail?.retryAfterMs;
  return typeof fromDetail === 'number' && Number.isFinite(fromDetail) && fromDetail >= 0 ? fromDetail : undefined;
}

/** Whether a step failure is one retrying could not have helped. */
export function isNonRetryable(err: StepError): boolean {
  return err.nonRetryable === true || INTERPRETER_FAILURES.has(err.type);
}

/** The step id an ApplicationFailure thrown for a failed step carries. */
export function failedStepId(err: unknown): string | undefined {
  return err instanceof ApplicationFailure ? (err.details?.[0] as { stepId?: string } | undefined)?.stepId : undefined;
}
