/**
 * Stable failure types that the API, the run state and the editor show.
 * Errors crossing the workflow/activity boundary carry one of these as their
 * ApplicationFailure `type`; the interpreter throws StepError locally.
 */
export const FailureType = {
  /** A CEL expression or Liquid template failed while the run evaluated it. */
  Expression: 'ExpressionError',
  /** Resolved parameters did not satisfy the action's schema. */
  InvalidParams: 'InvalidActionParams',
  /** The action is not in this worker's registry. */
  UnknownAction: 'UnknownAction',
  /** An action failed in a way retrying cannot fix. */
  ActionFailed: 'ActionFailed',
  /** An attempt ran out of time with no retries left, or a step passed its deadline. */
  Timeout: 'Timeout',
  /** An item of a for_each with onItemError: stop failed. */
  ItemFailed: 'ItemFailed',
  /** A wait for an event reached its default resolution time with onTimeout: fail. */
  WaitTimedOut: 'WaitTimedOut',
  /** The run reached an end step with outcome failed. */
  EndedFailed: 'RunEndedFailed',
  /** A parallel branch failed. */
  BranchFailed: 'BranchFailed',
  /** A run_workflow target is missing, unpublished, or got input its schema rejects. */
  ChildWorkflow: 'ChildWorkflowError',
  /** A child run failed. */
  ChildRunFailed: 'ChildRunFailed',
  /** The run was cancelled. */
  Cancelled: 'Cancelled',
  /**
   * The database (or another part of the service itself) could not be
   * reached. Not the action's fault: retried through an outage of up to
   * ten minutes, beyond the action's own attempts.
   */
  DependencyUnavailable: 'DependencyUnavailable',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];

/** A failure of one step, decided by the interpreter or the workflow (not retried). */
export class StepError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly stepId?: string,
    /** Retrying could not have helped (catch's `non_retryable`); expression errors always count as such. */
    readonly nonRetryable?: boolean,
  ) {
    super(message);
    this.name = 'StepError';
  }
}
