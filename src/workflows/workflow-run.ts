/**
 * The one generic Temporal workflow that runs every definition.
 *
 * It sets up the run's flow control (a slot of its concurrency key, the
 * subscriptions that cancel it on events), runs the main graph through the
 * GraphRunner (which maps each interpreter command onto Temporal), and
 * closes the run's state. Between steps of the main graph, when the history
 * has grown long and no branch or loop is in flight, it continues as new:
 * the run id (Temporal workflow id) stays, and the state, data, events held
 * and flow control travel into the next execution, which answers the
 * `runState` query from then on.
 */
import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowCancellationType,
  ContinueAsNew,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  patched,
  setCurrentDetails,
  setHandler,
  sleep,
  startChild,
} from '@temporalio/workflow';
import {
  FailureType,
  MAIN_GRAPH,
  RunData,
  RunStateTracker,
  buildProgram,
  cancelOnObjects as cancelOnObjectsOf,
  cancellingEntry,
  concurrencyGateId,
  concurrencyKeyOf,
  initialRunState,
  type RunEvent,
} from '../interpreter/runtime';
import { EventInbox } from './event-inbox';
import { describeFailure, failedStepId } from './failures';
import { GraphRunner, internal, type EndCommand } from './graph-runner';
import { CONTINUE_AS_NEW_AFTER_STEPS, historyIsLong } from './history-limits';
import { TouchedObjects } from './object-ids';
import {
  CANCEL_RUN_WORKFLOW_TYPE,
  CONCURRENCY_GATE_WORKFLOW_TYPE,
  acquireSlotSignal,
  deliverEventSignal,
  gatePingSignal,
  releaseSlotSignal,
  runDataQuery,
  runStateQuery,
  slotGrantedSignal,
  type ConcurrencyGateInput,
  type Continuation,
  type RunInput,
  type RunResult,
} from './run-contract';

/** A queued run says again that it waits this often (in case its gate was restarted). */
const REACQUIRE_MS = 5 * 60_000;
/** How long a run cancelled by an event waits for its own cancellation request to arrive. */
const SELF_CANCEL_WAIT_MS = 60_000;

export async function workflowRun(input: RunInput): Promise<RunResult> {
  const touched = new TouchedObjects(true);
  const program = buildProgram(input.definition);
  const continued = input.continued;
  // A retry from a failed step: the earlier run's results stand in for its steps before the failed one.
  const resume = continued ? undefined : input.resume;
  const flow = input.definition.flow;
  const now = (): string => new Date().toISOString();
  const tracker = new RunStateTracker(continued?.state ?? initialRunState(input.runId, input.workflowId, input.version, input.definition, now()));
  if (continued) tracker.state.executions = (tracker.state.executions ?? 1) + 1;
  if (!continued && input.retryOf) tracker.state.retryOf = input.retryOf;
  if (resume) for (const earlier of resume.stepStates) tracker.carry(earlier, input.retryOf?.runId ?? '');
  const data = continued
    ? RunData.restore(continued.data)
    : new RunData(input.trigger.payload, {
        id: input.runId,
        workflowId: input.workflowId,
        version: input.version,
        triggerType: input.trigger.type,
        startedAt: tracker.state.startedAt,
      });
  if (resume) {
    for (const [id, step] of Object.entries(resume.steps)) data.setStep(id, step);
    data.mergeVars(resume.vars);
  }
  // The run's event cursor: where its waits start counting. A run started without one reads it
  // now (before any handler can run, so no signal arrives before the inbox exists).
  const inbox = continued ? new EventInbox(continued.inbox) : EventInbox.startingAt(input.eventCursor ?? (await internal.eventCursor()));

  // flow.cancelOn: a matching event cancels whatever the graph is doing.
  const graphScope = new CancellationScope();
  let cancelOnObjects = continued?.cancelOnObjects;
  let cancelledBy: RunEvent | undefined;
  let settled = false;
  const onEvent = (event: RunEvent): void => {
    if (flow?.cancelOn && cancelOnObjects && !cancelledBy && !settled && inbox.isNew(event) && cancellingEntry(flow.cancelOn, cancelOnObjects, data, event) >= 0) {
      cancelledBy = event;
      tracker.state.cancelledBy = { id: event.id, type: event.type, objectId: event.objectId };
      graphScope.cancel();
    }
    inbox.accept(event);
  };
  setHandler(deliverEventSignal, onEvent);
  setHandler(runStateQuery, () => tracker.state);
  setHandler(runDataQuery, () => data.snapshot());
  if (!continued) {
    touched.touch(input.trigger.payload);
    if (resume) touched.touch(resume.steps);
  }

  // flow.concurrency: the gate's grant arrives as a signal.
  let gateId = continued?.gateId;
  let granted = false;
  if (flow?.concurrency) {
    setHandler(slotGrantedSignal, (grant) => {
      if (grant.gateId === gateId) granted = true;
    });
    setHandler(gatePingSignal, () => undefined);
  }

  const showCurrent = (): void => {
    const parts = tracker.state.current.map((id) => {
      const s = tracker.step(id);
      return s.waitingFor ? `${id}: waiting for ${s.waitingFor}` : `${id}: running`;
    });
    setCurrentDetails(parts.length > 0 ? parts.join('\n') : '');
  };

  const runner = new GraphRunner({
    program,
    runId: input.runId,
    executionId: input.runId,
    actionPolicies: input.actionPolicies,
    inbox,
    showCurrent,
    continueAsNewAfterEvents: input.continueAsNewAfterEvents,
    touchObjects: (value) => touched.touch(value),
  });

  /** Between two steps of the main graph: continue as new when the history is long. */
  let stepsThisExecution = 0;
  const boundary = (nextStepId: string): Promise<void> | undefined => {
    stepsThisExecution++;
    const long = historyIsLong(input.continueAsNewAfterEvents) || stepsThisExecution > CONTINUE_AS_NEW_AFTER_STEPS;
    if (!long) return undefined;
    return (async () => {
      await condition(allHandlersFinished);
      const carried: Continuation = {
        nextStepId,
        state: tracker.state,
        data: data.snapshot(),
        inbox: inbox.snapshot(),
        gateId,
        cancelOnObjects,
      };
      await continueAsNew<typeof workflowRun>({ ...input, resume: undefined, continued: carried });
    })();
  };

  async function acquireSlot(gate: string, key: string, limit: number): Promise<void> {
    tracker.queue(`a free slot of concurrency key ${JSON.stringify(key)} (at most ${limit} at once)`);
    const request = { runId: input.runId, limit };
    const announce = async (): Promise<void> => {
      for (let tries = 0; tries < 5; tries++) {
        try {
          await getExternalWorkflowHandle(gate).signal(acquireSlotSignal, request);
          return;
        } catch (err) {
          if (isCancellation(err)) throw err;
        }
        // No gate runs for this key: start it, queued with this run. Another
        // run may start it at the same moment; then signal that one.
        try {
          const gateInput: ConcurrencyGateInput = { gateId: gate, limit, holders: [], queue: [input.runId] };
          await CancellationScope.nonCancellable(() =>
            startChild(CONCURRENCY_GATE_WORKFLOW_TYPE, {
              workflowId: gate,
              args: [gateInput],
              parentClosePolicy: ParentClosePolicy.ABANDON,
              cancellationType: ChildWorkflowCancellationType.ABANDON,
              staticSummary: `concurrency gate of ${input.workflowId}`,
            }),
          );
          return;
        } catch (err) {
          if (isCancellation(err)) throw err;
        }
      }
      throw ApplicationFailure.create({ type: 'ConcurrencyGateError', message: `could not reach the concurrency gate ${gate}`, nonRetryable: true });
    };
    await announce();
    while (!(await condition(() => granted, REACQUIRE_MS))) await announce();
    tracker.dequeue();
  }

  async function setUpFlow(): Promise<void> {
    if (!flow) return;
    if (flow.cancelOn) {
      const entries = flow.cancelOn;
      cancelOnObjects = cancelOnObjectsOf(flow, data);
      for (let i = 0; i < entries.length; i++) {
        // Subscribe, then take what arrived since the run began: no event slips between.
        const { events } = await internal.registerWait({
          runId: input.runId,
          waitKey: `cancelOn#${i}`,
          objectId: cancelOnObjects[i],
          eventTypes: [entries[i].event],
          afterPosition: inbox.after(null),
          passedOver: [],
          kind: 'standing',
        });
        for (const event of events) onEvent(event);
      }
    }
    if (flow.concurrency) {
      const key = concurrencyKeyOf(flow, data)!;
      gateId = concurrencyGateId(input.workflowId, key);
      await acquireSlot(gateId, key, flow.concurrency.limit);
    }
  }

  /** Give back the slot and drop the cancel subscriptions, whatever ended the run. */
  async function releaseFlow(): Promise<void> {
    await CancellationScope.nonCancellable(async () => {
      if (gateId) {
        try {
          await getExternalWorkflowHandle(gateId).signal(releaseSlotSignal, { runId: input.runId });
        } catch {
          // No gate: nothing holds the slot any more.
        }
      }
      if (flow?.cancelOn && cancelOnObjects) {
        for (let i = 0; i < flow.cancelOn.length; i++) await internal.unregisterWait({ runId: input.runId, waitKey: `cancelOn#${i}` }).catch(() => undefined);
      }
    });
  }

  const start = continued?.nextStepId ?? resume?.fromStepId ?? program.graphs.get(MAIN_GRAPH)!.start;
  let ended: EndCommand | null;
  try {
    const body = async (): Promise<EndCommand | null> => {
      if (!continued) await setUpFlow();
      return runner.runGraph({ data, ledger: tracker, key: '', boundary }, start);
    };
    ended = flow?.cancelOn ? await graphScope.run(body) : await body();
    settled = true;
  } catch (err) {
    settled = true;
    if (err instanceof ContinueAsNew) throw err;
    if (flow) await releaseFlow();
    if (isCancellation(err)) {
      tracker.close(now(), 'cancelled');
      tracker.state.outcome = 'cancelled';
      if (cancelledBy) {
        tracker.state.reason = `cancelled by ${cancelledBy.type}${cancelledBy.objectId ? ` on ${cancelledBy.objectId}` : ''} (event ${cancelledBy.id})`;
        if (!CancellationScope.current().consideredCancelled) await endAsCancelled(input.runId);
      }
      throw err;
    }
    const failure = describeFailure(err);
    const stepId = failedStepId(err);
    tracker.close(now(), 'failed');
    tracker.state.outcome = 'failed';
    tracker.state.error = { ...failure, stepId };
    if (err instanceof ApplicationFailure) throw err;
    throw ApplicationFailure.create({ type: failure.type, message: failure.message, nonRetryable: true });
  }
  if (flow) await releaseFlow();
  setCurrentDetails('');
  if (ended?.outcome === 'failed') {
    tracker.close(now(), 'failed');
    tracker.state.outcome = 'failed';
    tracker.state.reason = ended.reason;
    tracker.state.output = ended.output;
    tracker.state.error = { type: FailureType.EndedFailed, message: ended.reason ?? `the run ended at "${ended.stepId}" with outcome failed`, stepId: ended.stepId };
    throw ApplicationFailure.create({ type: FailureType.EndedFailed, message: tracker.state.error.message, nonRetryable: true, details: [{ stepId: ended.stepId }] });
  }
  tracker.close(now(), 'completed');
  tracker.state.outcome = 'succeeded';
  tracker.state.reason = ended?.reason;
  tracker.state.output = ended?.output;
  return { outcome: 'succeeded', reason: ended?.reason, output: ended?.output };
}

/**
 * End a run that an event cancelled with Temporal status Canceled, as an API
 * cancellation would: a helper asks Temporal to cancel this run (a run may
 * not ask for itself), and the request arrives here as the run's own.
 */
async function endAsCancelled(runId: string): Promise<void> {
  await CancellationScope.nonCancellable(() =>
    startChild(CANCEL_RUN_WORKFLOW_TYPE, {
      workflowId: `${runId}-cancel`,
      args: [{ runId }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      cancellationType: ChildWorkflowCancellationType.ABANDON,
    }),
  );
  try {
    await Promise.race([CancellationScope.current().cancelRequested, sleep(SELF_CANCEL_WAIT_MS)]);
  } catch (err) {
    if (isCancellation(err)) throw err;
  }
}
