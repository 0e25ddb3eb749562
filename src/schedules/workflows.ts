/**
 * The helper workflows behind schedules. They start runs; they are not runs
 * (the API neither lists nor shows them):
 *
 * - `scheduledStart`: what a schedule trigger's Temporal Schedule starts, and
 *   what a schedule_workflow_run step leaves behind (sleeping until its time).
 *   It resolves the workflow's live version when it fires, so a run started
 *   90 days later runs what is live then, and starts the run as a child with
 *   the run's own id, memo and search attributes (`runStart`), as the API does.
 * - `recurringDispatch`: a recurring trigger's firing. It pins the version and
 *   the time the filter is measured from, then runs `recurringBatch` children
 *   one after another, each a page of matching objects (keyset order by id),
 *   continuing as new every 100 batches. History per execution stays small
 *   however many objects match.
 * - `recurringBatch`: reads one page and starts one run per object (abandoned
 *   children: each run is its own run and outlives the batch).
 *
 * Sandbox code: deterministic, no I/O (activities do the reading).
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ParentClosePolicy,
  continueAsNew,
  executeChild,
  isCancellation,
  log,
  proxyActivities,
  proxyLocalActivities,
  sleep,
  startChild,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import { SearchAttributeType, WorkflowExecutionAlreadyStartedError, defineSearchAttributeKey } from '@temporalio/common';
import { FailureType } from '../interpreter/runtime';
import { RUN_WORKFLOW_TYPE, runStart, type InternalActivities, type RunInput, type RunMemo } from '../workflows/run-contract';
import {
  RECURRING_BATCH_WORKFLOW_TYPE,
  type RecurringBatchInput,
  type RecurringBatchResult,
  type RecurringDispatchInput,
  type RecurringDispatchResult,
  type ScheduleActivities,
  type ScheduledStartInput,
  type ScheduledStartResult,
} from './contract';

/** Batches per dispatch execution before it continues as new (~10 events each). */
export const BATCHES_PER_EXECUTION = 100;

// A database outage must not lose a firing or a run scheduled months ago: retry for a long while.
const internal = proxyLocalActivities<InternalActivities>({
  startToCloseTimeout: '10s',
  scheduleToCloseTimeout: '2h',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', nonRetryableErrorTypes: [FailureType.ChildWorkflow] },
});
const scheduleActivities = proxyActivities<ScheduleActivities>({
  startToCloseTimeout: '1m',
  scheduleToCloseTimeout: '2h',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', nonRetryableErrorTypes: [FailureType.ChildWorkflow] },
});

const scheduledStartTimeKey = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

/** When the Temporal Schedule meant this firing to happen; the start time otherwise. */
function firingTime(): Date {
  const info = workflowInfo();
  const scheduled = info.typedSearchAttributes.get(scheduledStartTimeKey);
  return scheduled instanceof Date ? scheduled : info.startTime;
}

/** A non-retryable failure's message ("not published"), or undefined for anything else. */
function refusal(err: unknown): string | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure && cause.type === FailureType.ChildWorkflow ? cause.message : undefined;
}

const compactUuid = (): string => uuid4().replace(/-/g, '');

export async function scheduledStart(input: ScheduledStartInput): Promise<ScheduledStartResult> {
  if (input.notBefore !== undefined) {
    const wait = Date.parse(input.notBefore) - Date.now();
    if (wait > 0) await sleep(wait);
  }
  const payload = input.requireTrigger ? { ...input.trigger.payload, scheduledAt: firingTime().toISOString() } : input.trigger.payload;
  let plan;
  try {
    plan = await internal.resolveChildRun({ workflowId: input.workflowId, input: payload });
  } catch (err) {
    const reason = refusal(err);
    if (reason === undefined) throw err;
    log.warn('scheduled run not started', { workflowId: input.workflowId, reason });
    return { skipped: reason };
  }
  if (input.requireTrigger && plan.definition.trigger.type !== input.requireTrigger) {
    return { version: plan.version, skipped: `${plan.workflowId} v${plan.version} has a ${plan.definition.trigger.type} trigger now` };
  }
  const runId = input.runId ?? `run_${compactUuid()}`;
  const runInput: RunInput = {
    runId,
    workflowId: plan.workflowId,
    version: plan.version,
    definition: plan.definition,
    actionPolicies: plan.actionPolicies,
    trigger: { type: input.trigger.type, payload },
    eventCursor: plan.eventCursor,
  };
  const memo: RunMemo & { scheduledBy?: string } = {
    workflowId: plan.workflowId,
    version: plan.version,
    triggerType: input.trigger.type,
    startedAt: new Date(Date.now()).toISOString(),
    ...(input.scheduledBy ? { scheduledBy: input.scheduledBy } : {}),
  };
  let handle;
  try {
    handle = await startChild(RUN_WORKFLOW_TYPE, {
      ...runStart(runInput, memo),
      staticSummary: `${plan.workflowId} v${plan.version} (${input.trigger.type})`,
      // A schedule's firing lasts as long as its run, so that the overlap policy applies to runs;
      // cancel_other / terminate_other then reach the run. A delayed start leaves its run alone.
      parentClosePolicy: input.waitForRun ? ParentClosePolicy.REQUEST_CANCEL : ParentClosePolicy.ABANDON,
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { runId, version: plan.version, skipped: `run ${runId} was already started` };
    throw err;
  }
  if (!input.waitForRun) return { runId, version: plan.version };
  try {
    await handle.result();
    return { runId, version: plan.version, outcome: 'completed' };
  } catch (err) {
    // This firing cancelled (cancel_other): end as cancelled; the run was asked to cancel with it.
    if (isCancellation(err) && CancellationScope.current().consideredCancelled) throw err;
    return { runId, version: plan.version, outcome: isCancellation(err) ? 'cancelled' : 'failed' };
  }
}

export async function recurringDispatch(input: RecurringDispatchInput): Promise<RecurringDispatchResult> {
  let { version, asOf, dispatchKey } = input;
  if (version === undefined || asOf === undefined || dispatchKey === undefined) {
    const plan = await scheduleActivities.planRecurringDispatch({ workflowId: input.workflowId });
    if ('skipped' in plan) {
      log.warn('recurring dispatch skipped', { workflowId: input.workflowId, reason: plan.skipped });
      return { runsStarted: 0, batches: 0, skipped: plan.skipped };
    }
    version = plan.version;
    asOf = firingTime().toISOString();
    dispatchKey = compactUuid().slice(0, 16);
  }
  let after = input.after;
  let started = input.started ?? 0;
  let batches = input.batches ?? 0;
  for (let inThisExecution = 0; ; inThisExecution++) {
    if (inThisExecution >= BATCHES_PER_EXECUTION) {
      return continueAsNew<typeof recurringDispatch>({ workflowId: input.workflowId, version, asOf, dispatchKey, after, started, batches });
    }
    const batchInput: RecurringBatchInput = { workflowId: input.workflowId, version, asOf, after, dispatchKey, scheduledAt: asOf };
    const result: RecurringBatchResult = await executeChild(RECURRING_BATCH_WORKFLOW_TYPE, {
      workflowId: `${workflowInfo().workflowId}-batch-${batches + 1}`,
      args: [batchInput],
      staticSummary: `${input.workflowId} v${version}: batch ${batches + 1}`,
    });
    batches++;
    started += result.started;
    if (result.done || result.last === undefined) break;
    after = result.last;
  }
  return { version, runsStarted: started, batches };
}

export async function recurringBatch(input: RecurringBatchInput): Promise<RecurringBatchResult> {
  const page = await scheduleActivities.recurringPage({ workflowId: input.workflowId, version: input.version, asOf: input.asOf, after: input.after });
  const startedAt = new Date(Date.now()).toISOString();
  let started = 0;
  await Promise.all(
    page.objects.map(async ({ id, object }) => {
      const runInput: RunInput = {
        // Per dispatch and object: a batch that is run again starts no second run for an object.
        runId: `run_r${input.dispatchKey}_${id}`,
        workflowId: input.workflowId,
        version: input.version,
        definition: page.definition,
        actionPolicies: page.actionPolicies,
        trigger: { type: 'schedule', payload: { objectType: page.objectType, objectId: id, object, scheduledAt: input.scheduledAt } },
        eventCursor: page.eventCursor,
      };
      const memo: RunMemo = { workflowId: input.workflowId, version: input.version, triggerType: 'schedule', startedAt };
      try {
        await startChild(RUN_WORKFLOW_TYPE, {
          ...runStart(runInput, memo),
          staticSummary: `${input.workflowId} v${input.version} (recurring: ${id})`,
          parentClosePolicy: ParentClosePolicy.ABANDON,
        });
        started++;
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
    }),
  );
  const last = page.objects.length > 0 ? page.objects[page.objects.length - 1].id : undefined;
  return { started, last, done: !page.more };
}
