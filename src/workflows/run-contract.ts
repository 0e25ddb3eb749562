/**
 * The contract of an interpreter run: its input and result, the signal that
 * delivers events to it, the query that returns its state, and the search
 * attributes it is indexed by. Shared by the workflow, the API and the worker.
 * Also the contracts of the helper workflows a run uses: for_each batches,
 * the per-key concurrency gate, and the request that cancels a run.
 */
import { defineSearchAttributeKey, SearchAttributeType, WorkflowIdReusePolicy, type SearchAttributePair } from '@temporalio/common';
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ActionPolicy, Definition, RunDataSnapshot, RunEvent, RunState, StepData, StepState } from '../interpreter/runtime';
import type { InboxSnapshot } from './event-inbox';
import { boundedObjectIds } from './object-ids';

export type TriggerType = 'api' | 'event' | 'schedule' | 'child' | 'manual';

export interface RunInput {
  /** Also the Temporal workflow id. */
  runId: string;
  /** Our workflow (definition) id and the version this run is pinned to. */
  workflowId: string;
  version: number;
  definition: Definition;
  /** Timeouts and retries of every action the definition uses, fixed at start. */
  actionPolicies: Record<string, ActionPolicy>;
  trigger: { type: TriggerType; payload: unknown };
  /**
   * The event log's position when the run began: its waits count only events
   * after it. An event-triggered run: its triggering event's position; any
   * other run: the log's delivered horizon when it was started (eventRunStartCursor). Absent (a run
   * started without one), the run reads it in its first task.
   */
  eventCursor?: number;
  /** Set when the run continues as new: where it was, carried into the next execution. */
  continued?: Continuation;
  /** A retry or restart of an earlier run: which, and how. */
  retryOf?: RetryLink;
  /** A retry from a failed step: the earlier run's results, and the step to start at. */
  resume?: ResumePoint;
  /**
   * Continue as new once the history has this many events (default 8,000).
   * The API never sets it; tests use a small value to see many executions quickly.
   */
  continueAsNewAfterEvents?: number;
}

/**
 * What a run carries from one Temporal execution to the next: its state as
 * the API shows it, its data, where the main graph goes on, the events it
 * holds, and the flow control it has set up (slot held, cancel subscriptions).
 */
export interface Continuation {
  nextStepId: string;
  state: RunState;
  data: RunDataSnapshot;
  /** The run's event cursors, the events it holds and the ids it consumed (see EventInbox). */
  inbox: InboxSnapshot;
  /** The concurrency gate whose slot the run holds. */
  gateId?: string;
  /** The object ids of flow.cancelOn, fixed when the run started. */
  cancelOnObjects?: (string | null)[];
}

export interface RetryLink {
  runId: string;
  from: 'failed_step' | 'start';
}

/**
 * Where a retried run starts: the failed step of the earlier run, with what
 * the earlier steps produced (their data for expressions, their state for the
 * API) so they are not done again.
 */
export interface ResumePoint {
  fromStepId: string;
  steps: Record<string, StepData>;
  vars: Record<string, unknown>;
  /** The earlier run's state of each carried step. */
  stepStates: StepState[];
}

export interface RunResult {
  outcome: 'succeeded';
  reason?: string;
  output?: unknown;
}

/** The Temporal workflow type of every run. */
export const RUN_WORKFLOW_TYPE = 'workflowRun';
/** Helper workflow types: not runs, so the API neither lists nor shows them. */
export const FOR_EACH_BATCH_WORKFLOW_TYPE = 'forEachBatch';
export const CONCURRENCY_GATE_WORKFLOW_TYPE = 'concurrencyGate';
export const CANCEL_RUN_WORKFLOW_TYPE = 'cancelRunRequest';

export const deliverEventSignal = defineSignal<[RunEvent]>('deliverEvent');
export const runStateQuery = defineQuery<RunState>('runState');
/** The run's data (trigger, steps' results, variables): what a retry from a failed step starts from. */
export const runDataQuery = defineQuery<RunDataSnapshot>('runData');

export const SearchAttributes = {
  workflowId: defineSearchAttributeKey('IdwWorkflowId', SearchAttributeType.KEYWORD),
  version: defineSearchAttributeKey('IdwWorkflowVersion', SearchAttributeType.INT),
  triggerType: defineSearchAttributeKey('IdwTriggerType', SearchAttributeType.KEYWORD),
  /** The identity objects the run touched: ids in its trigger and in its steps' results, added as they appear. */
  objectIds: defineSearchAttributeKey('IdwObjectIds', SearchAttributeType.KEYWORD_LIST),
  /** Set on a retry or restart: the run it retries. */
  retryOf: defineSearchAttributeKey('IdwRetryOf', SearchAttributeType.KEYWORD),
} as const;

/** For `temporal server start-dev --search-attribute` and for external servers (docker-compose). */
export const SEARCH_ATTRIBUTE_TYPES: Record<string, 'Keyword' | 'Int' | 'KeywordList'> = {
  IdwWorkflowId: 'Keyword',
  IdwWorkflowVersion: 'Int',
  IdwTriggerType: 'Keyword',
  IdwObjectIds: 'KeywordList',
  IdwRetryOf: 'Keyword',
};

/** Memo fields, so listing runs needs no query per run. */
export interface RunMemo {
  workflowId: string;
  version: number;
  triggerType: TriggerType;
  /** When the run began; the memo travels with continue-as-new, the execution's start time does not. */
  startedAt?: string;
  /** `rollout`: the run fell in a rollout's share of new runs. */
  versionVia?: 'live' | 'rollout';
  /** A retry or restart: the run it retries. */
  retryOf?: RetryLink;
}

/**
 * How every run is started, by the API or as a child: its run id as the
 * workflow id, never reused (an event redelivered after its run finished
 * starts nothing), its memo, and the search attributes runs are found by.
 */
export function runStart(input: RunInput, memo: RunMemo) {
  const searchAttributes: SearchAttributePair[] = [
    { key: SearchAttributes.workflowId, value: input.workflowId },
    { key: SearchAttributes.version, value: input.version },
    { key: SearchAttributes.triggerType, value: input.trigger.type },
  ];
  if (input.retryOf) searchAttributes.push({ key: SearchAttributes.retryOf, value: input.retryOf.runId });
  // The trigger's objects from the start: the run then upserts only for what its steps add (one history event fewer).
  const objectIds = input.continued ? [] : boundedObjectIds(input.trigger.payload);
  if (objectIds.length > 0) searchAttributes.push({ key: SearchAttributes.objectIds, value: objectIds });
  return {
    workflowId: input.runId,
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    args: [input] as [RunInput],
    memo: memo as unknown as Record<string, unknown>,
    typedSearchAttributes: searchAttributes,
  };
}

/** One failed item of a for_each. */
export interface ItemError {
  index: number;
  stepId?: string;
  type: string;
  message: string;
}

/**
 * A slice of a large for_each's items, run by a child execution so that no
 * execution's history grows past ~10k events. It runs the loop's sub-graph
 * for each of its items with its own share of the concurrency, and continues
 * as new between items when its own history grows long.
 */
export interface ForEachBatchInput {
  /** The run the loop belongs to (ids of what items start derive from it). */
  runId: string;
  definition: Definition;
  actionPolicies: Record<string, ActionPolicy>;
  stepId: string;
  /** The loop's key: `<step id>[-<round>]`, nested in an item's key when loops nest. */
  loopKey: string;
  as: string;
  items: unknown[];
  /** The index (in the whole list) of items[0]. */
  offset: number;
  concurrency: number;
  onItemError: 'stop' | 'continue';
  /** The run's data when the loop started. */
  data: RunDataSnapshot;
  /** The run's event cursors when the loop started: items' waits count events after them. */
  events: InboxSnapshot;
  /** The run's continue-as-new threshold (RunInput.continueAsNewAfterEvents), for the batch's own history. */
  continueAsNewAfterEvents?: number;
  /** Carried when the batch continues as new. */
  progress?: { next: number; results: unknown[]; errors: ItemError[]; inbox: InboxSnapshot };
}

export interface ForEachBatchResult {
  /** One per item of the batch, in order; null for a failed item. */
  results: unknown[];
  errors: ItemError[];
}

/** The gate of one concurrency key of one workflow: holders run, the queue waits, first come first served. */
export interface ConcurrencyGateInput {
  gateId: string;
  limit: number;
  holders: string[];
  queue: string[];
}
export interface ConcurrencyGateState {
  limit: number;
  holders: string[];
  queue: string[];
}
export const acquireSlotSignal = defineSignal<[{ runId: string; limit: number }]>('acquireSlot');
export const releaseSlotSignal = defineSignal<[{ runId: string }]>('releaseSlot');
export const slotGrantedSignal = defineSignal<[{ gateId: string }]>('slotGranted');
/** The gate checks that a holder still runs (a terminated run never releases its slot). */
export const gatePingSignal = defineSignal('gatePing');
export const gateStateQuery = defineQuery<ConcurrencyGateState>('gateState');

/**
 * What an action activity receives: its resolved params and the step it runs
 * for. The step travels in the input because a local activity's id is a
 * sequence number, not ours, and the idempotency key must be the step's.
 */
export interface ActionInput {
  params: Record<string, unknown>;
  /**
   * `attempt`: which attempt of the step this is, from 1. The workflow
   * retries a step attempt by attempt (each one a fresh activity, so
   * Temporal's own attempt counter stays at 1); the action's context should
   * take its attempt from here when it is present. Inside a for_each item
   * `id` is `<step id>@<item key>`.
   */
  step: { id: string; round: number; attempt?: number };
}

/** The internal activity that loads a run_workflow target's live version. */
export interface ChildRunPlan {
  workflowId: string;
  version: number;
  definition: Definition;
  actionPolicies: Record<string, ActionPolicy>;
  /** Where the child's waits start counting (eventRunStartCursor, read as it is planned): its RunInput.eventCursor. */
  eventCursor: number;
}
export interface WaitRegistration {
  /** The execution the router signals: the run, or a for_each batch. */
  runId: string;
  /** Step id, loop key and round: one subscription per wait. */
  waitKey: string;
  /** null: any object. */
  objectId: string | null;
  eventTypes: string[];
  /** Only events after this position count (the run's cursor for the object). */
  afterPosition: number;
  /** `wait_start`: move the cursor up to the log's high-water mark first (only events from now on count). */
  since?: 'wait_start';
  /** Events the wait has already passed over (its `match` said no): not returned again. */
  passedOver: string[];
  /**
   * `wait`: the router removes the subscription when it delivers an event
   * (a wait takes one). `standing`: it stays until the run ends (flow.cancelOn).
   */
  kind: 'wait' | 'standing';
  /** When the wait's default resolution time passes; the subscription is swept after it. */
  expiresAt?: string;
}
export interface WaitSubscribed {
  /** Stored events after the cursor that the wait may take, oldest first. */
  events: RunEvent[];
  /** The cursor the subscription holds (moved up for `since: wait_start`). */
  afterPosition: number;
  /** False when stored events were returned and the subscription was dropped at once (subscribe again to pass them over). */
  subscribed: boolean;
}
export interface InternalActivities {
  resolveChildRun(request: { workflowId: string; input: Record<string, unknown> }): Promise<ChildRunPlan>;
  /** Subscribe to the object's events (committed first), then return the stored ones after the cursor. */
  registerWait(registration: WaitRegistration): Promise<WaitSubscribed>;
  /** Drop a standing subscription (flow.cancelOn) as the run ends. */
  unregisterWait(request: { runId: string; waitKey: string }): Promise<void>;
  /** Where a run started without a cursor starts counting (eventRunStartCursor). */
  eventCursor(): Promise<number>;
}
