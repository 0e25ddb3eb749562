/**
 * The contract between schedules and the worker: the helper workflow types
 * a Temporal Schedule (or a schedule_workflow_run step) starts, their
 * inputs, and the activities they call. None of them is a run: each starts
 * runs (`workflowRun`, trigger type `schedule`), as the API would.
 *
 * Sandbox-safe: imported by the workflow bundle.
 */
import type { ActionPolicy, Definition } from '../interpreter/runtime';
import type { TriggerType } from '../workflows/run-contract';

/** Starts one run of a workflow's live version, at once or not before a time. */
export const SCHEDULED_START_WORKFLOW_TYPE = 'scheduledStart';
/** A recurring trigger's firing: pages through the matching objects, a batch at a time. */
export const RECURRING_DISPATCH_WORKFLOW_TYPE = 'recurringDispatch';
/** One page of a recurring dispatch: starts a run per object. */
export const RECURRING_BATCH_WORKFLOW_TYPE = 'recurringBatch';

export interface ScheduledStartInput {
  /** Our workflow (definition) id. */
  workflowId: string;
  trigger: { type: TriggerType; payload: Record<string, unknown> };
  /** The run id to use; otherwise one is made. */
  runId?: string;
  /** ISO time: sleep until then first (schedule_workflow_run). */
  notBefore?: string;
  /**
   * Wait for the run to end, so that the schedule's overlap policy sees a
   * firing as running while its run does (a Temporal Schedule's firings).
   */
  waitForRun?: boolean;
  /** Start nothing unless the live version still has this trigger type (a schedule that fires after a publish changed it). */
  requireTrigger?: 'schedule';
  /** Set into the run's memo: who scheduled it (a run id, or the schedule id). */
  scheduledBy?: string;
}

export interface ScheduledStartResult {
  runId?: string;
  version?: number;
  /** Why no run was started. */
  skipped?: string;
  outcome?: 'completed' | 'failed' | 'cancelled';
}

export interface RecurringDispatchInput {
  workflowId: string;
  /** Fixed at the first execution: relative times in the filter count from here. */
  asOf?: string;
  /** The version every run of this dispatch uses, fixed at the first execution. */
  version?: number;
  /** Carried over continue-as-new: the last object id dispatched, runs started so far, batches run. */
  after?: string;
  started?: number;
  batches?: number;
  /** Names this dispatch's runs; fixed at the first execution. */
  dispatchKey?: string;
}

export interface RecurringDispatchResult {
  version?: number;
  runsStarted: number;
  batches: number;
  skipped?: string;
}

export interface RecurringBatchInput {
  workflowId: string;
  version: number;
  asOf: string;
  after?: string;
  dispatchKey: string;
  /** The schedule's firing time (ISO), handed to every run. */
  scheduledAt: string;
}

export interface RecurringBatchResult {
  started: number;
  /** The last object id of this page; absent when the page was empty. */
  last?: string;
  /** True when this was the last page. */
  done: boolean;
}

/** The live version a recurring dispatch runs, if it still has a recurring trigger. */
export interface RecurringPlan {
  version: number;
  batchSize: number;
}

/** One page of matching objects, with what a run of the pinned version needs. */
export interface RecurringPage {
  objectType: string;
  objects: { id: string; object: Record<string, unknown> }[];
  definition: Definition;
  actionPolicies: Record<string, ActionPolicy>;
  /** More objects may follow. */
  more: boolean;
  /** Where the runs' waits start counting (eventRunStartCursor, read with the page): their RunInput.eventCursor. */
  eventCursor: number;
}

export interface ScheduleActivities {
  planRecurringDispatch(request: { workflowId: string }): Promise<RecurringPlan | { skipped: string }>;
  recurringPage(request: { workflowId: string; version: number; asOf: string; after?: string }): Promise<RecurringPage>;
}
