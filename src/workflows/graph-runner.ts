/**
 * Running graphs of steps on Temporal. The main graph, parallel branches and
 * for_each items all go through runGraph: it asks the interpreter for the
 * next command and maps it onto Temporal (an action is an activity named
 * after it, a wait for an event is a signal awaited with a timeout, a wait
 * for time is a timer, a parallel step is Promise.all in a cancellation
 * scope, run_workflow is a child workflow, a for_each is a pool of items or
 * of batch child executions). Used by the run workflow and by for_each
 * batches alike.
 *
 * A failed step takes its first matching catch route, or fails its graph.
 * Everything that changes the commands of a definition that existed before
 * is gated by a patch, so recorded runs replay as they ran.
 */
import {
  ApplicationFailure,
  CancellationScope,
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  condition,
  isCancellation,
  patched,
  proxyLocalActivities,
  scheduleActivity,
  scheduleLocalActivity,
  sleep,
  startChild,
} from '@temporalio/workflow';
import type { Duration, RetryPolicy } from '@temporalio/common';
import {
  FailureType,
  ItemLedger,
  RunData,
  SET_VARIABLES_ACTION,
  StepError,
  assertNever,
  catchRouteFor,
  eventMatches,
  getStep,
  itemResult,
  itemScope,
  nextStepAfter,
  parseDuration,
  planForEach,
  planStep,
  dependencyRetryDelayMs,
  retryDelayMs,
  shouldRetry,
  stepRetryPolicy,
  type ActionPolicy,
  type ActionStep,
  type Command,
  type Program,
  type RunEvent,
  type StepFailure,
  type StepLedger,
} from '../interpreter/runtime';
import type { EventInbox } from './event-inbox';
import { attemptFailure, describeFailure, failedStepId, isNonRetryable } from './failures';
import {
  FOR_EACH_BATCH_WORKFLOW_TYPE,
  RUN_WORKFLOW_TYPE,
  runStart,
  type ActionInput,
  type ForEachBatchInput,
  type ForEachBatchResult,
  type InternalActivities,
  type ItemError,
  type RunInput,
  type RunMemo,
  type RunResult,
} from './run-contract';

/*
 * Behaviour changes of runs in flight are gated with `patched()`, listed in
 * the patch registry of ARCHITECTURE.md. Nothing is released yet, so the
 * registry is empty: every patch of the pre-release rounds was retired with
 * issue 12 (their fixtures re-recorded), and with it the marker every run
 * recorded at its start (two history events per run). The next change to
 * running behaviour asks for its patch in the run's first workflow task.
 */

/**
 * The run's own bookkeeping in PostgreSQL (wait subscriptions, a child's
 * definition). Retried for up to ten minutes, waits capped at 10 s, so a
 * database that restarts or fails over does not fail the runs that were
 * waiting on it: five attempts (about 15 s) failed a wait's branch in the
 * chaos run when PostgreSQL was down for 20 s. The options are not part of
 * history (a local activity's marker holds its outcome), so recorded runs
 * replay as before.
 */
export const internal = proxyLocalActivities<InternalActivities>({
  startToCloseTimeout: '10s',
  scheduleToCloseTimeout: '10m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', nonRetryableErrorTypes: [FailureType.ChildWorkflow] },
});

export type EndCommand = Extract<Command, { kind: 'end' }>;
type ForEachCommand = Extract<Command, { kind: 'for_each' }>;

export interface RunnerOptions {
  program: Program;
  /** The run's id (in a for_each batch too: ids of what items start derive from it). */
  runId: string;
  /** This execution's workflow id: the run, or a batch. Events for its waits are signalled here. */
  executionId: string;
  actionPolicies: Record<string, ActionPolicy>;
  inbox: EventInbox;
  /** Shows the current steps in the Temporal UI (the run's main ledger only). */
  showCurrent: () => void;
  /** Handed to for_each batches (RunInput.continueAsNewAfterEvents). */
  continueAsNewAfterEvents?: number;
  /** Told each completed step's result, for the objects the run touched (the run only; a batch's show in its step's result). */
  touchObjects?: (value: unknown) => void;
}

/** Where a graph runs: its data, its ledger, and its key (which ids of activities and children derive from). */
export interface GraphScope {
  data: RunData;
  ledger: StepLedger;
  /** '' for the main graph and its branches; inside a for_each item `<loop key>.<index>`. */
  key: string;
  /**
   * Other graphs run beside this one (a parallel branch, a for_each item).
   * Local activities are then scheduled as ordinary ones: when two local
   * activities resolve in one workflow task, replay may resolve them in
   * another order than they ran, and the commands that follow would differ.
   */
  concurrent?: boolean;
  /** The output of the last step the graph completed: an item's default result. */
  lastOutput?: unknown;
  /** Before each step: may continue as new there (the run's main graph only). Returns undefined when it has nothing to do. */
  boundary?: (nextStepId: string) => Promise<void> | undefined;
}

export type ItemOutcome = { ok: true; result: unknown } | { ok: false; error: ItemError };

const now = (): string => new Date().toISOString();

export class GraphRunner {
  constructor(private readonly o: RunnerOptions) {}

  get program(): Program {
    return this.o.program;
  }

  /** Run one graph from a step until it ends; an `end` step's command when one ended it. */
  async runGraph(scope: GraphScope, start: string): Promise<EndCommand | null> {
    const { program } = this.o;
    let stepId: string | null = start;
    while (stepId !== null) {
      const pause = scope.boundary?.(stepId);
      if (pause) await pause;
      let command: Command;
      try {
        command = planStep(program, stepId, scope.data, Date.now());
      } catch (err) {
        scope.ledger.start(stepId, now());
        if (err instanceof StepError) {
          stepId = this.stepFailed(scope, stepId, { type: err.type, message: err.message }, isNonRetryable(err));
          continue;
        }
        throw err;
      }
      const id = command.stepId;
      let output: unknown;
      try {
        switch (command.kind) {
          case 'action':
            scope.ledger.start(id, now());
            scope.ledger.input(id, command.params);
            this.o.showCurrent();
            output = await this.runAction(scope, command);
            if (command.action === SET_VARIABLES_ACTION && output && typeof output === 'object') scope.data.mergeVars(output as Record<string, unknown>);
            break;
          case 'condition':
            scope.ledger.start(id, now());
            output = { route: command.route, label: command.label, next: command.next };
            break;
          case 'parallel':
            scope.ledger.start(id, now());
            output = await this.withDeadline(id, () => this.runParallel(scope, command));
            break;
          case 'for_each':
            scope.ledger.start(id, now());
            this.o.showCurrent();
            output = await this.withDeadline(id, () => this.runForEach(scope, command));
            break;
          case 'wait_for_event':
            scope.ledger.start(id, now(), 'waiting', `${command.events.join(' or ')}${command.objectId ? ` on ${command.objectId}` : ''}`);
            scope.ledger.input(id, { events: command.events, objectId: command.objectId });
            this.o.showCurrent();
            output = await this.waitForEvent(scope, command);
            break;
          case 'wait_for_time':
            scope.ledger.start(id, now(), 'waiting', `the time ${command.until}`);
            scope.ledger.input(id, { until: command.until });
            this.o.showCurrent();
            if (command.delayMs > 0) await sleep(command.delayMs);
            output = { until: command.until };
            break;
          case 'run_workflow':
            scope.ledger.start(id, now(), command.wait ? 'waiting' : 'running', command.wait ? `child run of ${command.workflow}` : undefined);
            scope.ledger.input(id, { workflow: command.workflow, input: command.input });
            this.o.showCurrent();
            output = command.wait ? await this.withDeadline(id, () => this.runChild(scope, command)) : await this.runChild(scope, command);
            break;
          case 'end':
            scope.ledger.start(id, now());
            scope.ledger.complete(id, now(), { outcome: command.outcome, reason: command.reason, output: command.output });
            scope.data.setStep(id, { status: 'completed', output: { outcome: command.outcome, reason: command.reason } });
            return command;
          default:
            return assertNever(command);
        }
      } catch (err) {
        if (isCancellation(err)) {
          if (scope.ledger.isActive(id)) scope.ledger.cancel(id, now());
          throw err;
        }
        if (err instanceof StepError) {
          stepId = this.stepFailed(scope, id, { type: err.type, message: err.message }, isNonRetryable(err));
          continue;
        }
        throw err;
      }
      scope.ledger.complete(id, now(), output);
      scope.data.setStep(id, { status: 'completed', output });
      scope.lastOutput = output;
      this.o.touchObjects?.(output);
      this.o.showCurrent();
      stepId = nextStepAfter(program, command);
    }
    return null;
  }

  /**
   * Record a failed step; later steps (after a catch route, or a branch that
   * continues on error) read it as `steps.<id>.error`. Returns the catch
   * route's step, or throws: the failure fails the graph.
   */
  private stepFailed(scope: GraphScope, stepId: string, error: StepFailure, nonRetryable: boolean): string {
    const route = catchRouteFor(getStep(this.o.program, stepId), { type: error.type, nonRetryable });
    scope.ledger.fail(stepId, now(), error);
    scope.data.setStep(stepId, { status: 'failed', error });
    if (route) {
      scope.ledger.handled(stepId, route.next);
      this.o.showCurrent();
      return route.next;
    }
    this.o.showCurrent();
    throw ApplicationFailure.create({ type: error.type, message: `step "${stepId}" failed: ${error.message}`, nonRetryable: true, details: [{ stepId }] });
  }

  /**
   * A step's deadline (parallel, for_each, run_workflow): past it the step's
   * work is cancelled and the step fails with Timeout.
   */
  private async withDeadline<T>(stepId: string, work: () => Promise<T>): Promise<T> {
    const step = getStep(this.o.program, stepId);
    const deadline = 'deadline' in step ? step.deadline : undefined;
    const ms = deadline === undefined ? undefined : parseDuration(deadline);
    if (ms === undefined) return work();
    const scope = new CancellationScope();
    const timer = new CancellationScope();
    let passed = false;
    void timer
      .run(() => sleep(ms))
      .then(
        () => {
          passed = true;
          scope.cancel();
        },
        () => undefined,
      );
    try {
      return await scope.run(work);
    } catch (err) {
      if (passed && isCancellation(err)) throw new StepError(FailureType.Timeout, `the step did not finish within its deadline of ${deadline}`, stepId);
      throw err;
    } finally {
      timer.cancel();
    }
  }

  private activityId(scope: GraphScope, stepId: string): string {
    const runs = scope.ledger.runs(stepId);
    // Stable per step (and per round of a loop, and per item): the action's idempotency key.
    if (scope.key === '') return runs > 1 ? `${stepId}#${runs}` : stepId;
    return `${stepId}#${scope.key}${runs > 1 ? `.r${runs}` : ''}`;
  }

  private async runAction(scope: GraphScope, command: Extract<Command, { kind: 'action' }>): Promise<unknown> {
    const policy = this.o.actionPolicies[command.action];
    if (!policy) throw new StepError(FailureType.UnknownAction, `action "${command.action}" is not registered`, command.stepId, true);
    const step = this.o.program.steps.get(command.stepId)! as ActionStep;
    const activityId = this.activityId(scope, command.stepId);
    const summary = step.name ? `${command.stepId}: ${step.name}` : command.stepId;
    // The step travels with the params: its id and round make the action's idempotency key (a local
    // activity's id is a sequence number). An item of a for_each names its item too: `check@screen.7`.
    const actionInput: ActionInput = {
      params: command.params,
      step: { id: scope.key === '' ? command.stepId : `${command.stepId}@${scope.key}`, round: scope.ledger.runs(command.stepId) },
    };
    return this.runAttempts(scope, command, step, policy, actionInput, activityId, summary);
  }

  /**
   * Each attempt is one activity with no retries of its own; the workflow
   * waits between attempts. So the run state can show the attempt in
   * progress and the last error, and the step's deadline covers the waits.
   */
  private async runAttempts(
    scope: GraphScope,
    command: Extract<Command, { kind: 'action' }>,
    step: ActionStep,
    policy: ActionPolicy,
    actionInput: ActionInput,
    activityId: string,
    summary: string,
  ): Promise<unknown> {
    const retry = stepRetryPolicy(policy, step);
    const local = policy.local === true && !scope.concurrent;
    const startedMs = Date.now();
    let lastError: StepFailure | undefined;
    // Attempts the policy counts: failures while the database is away do not use them up.
    let counted = 0;
    let outageStartedMs: number | undefined;
    let outageFailures = 0;
    for (let attempt = 1; ; attempt++) {
      scope.ledger.attempt(command.stepId, attempt, lastError);
      const attemptInput: ActionInput = { ...actionInput, step: { ...actionInput.step, attempt } };
      const remaining = retry.scheduleToCloseMs === undefined ? undefined : retry.scheduleToCloseMs - (Date.now() - startedMs);
      const options = {
        activityId,
        summary,
        startToCloseTimeout: remaining === undefined ? retry.startToCloseMs : Math.max(1, Math.min(retry.startToCloseMs, remaining)),
        ...(remaining === undefined ? {} : { scheduleToCloseTimeout: Math.max(1, remaining) }),
        retry: { maximumAttempts: 1 },
      };
      try {
        return local ? await scheduleLocalActivity(command.action, [attemptInput], options) : await scheduleActivity(command.action, [attemptInput], options);
      } catch (err) {
        if (isCancellation(err)) throw err;
        const failure = attemptFailure(err);
        lastError = { type: failure.type, message: failure.message };
        scope.ledger.attempt(command.stepId, attempt, lastError);
        const deadlineText = step.deadline ?? '';
        if (failure.deadline) {
          throw new StepError(FailureType.Timeout, `the deadline of ${deadlineText} passed during attempt ${attempt}`, command.stepId);
        }
        let outageDelay: number | null = null;
        if (failure.type === FailureType.DependencyUnavailable && !failure.nonRetryable) {
          outageStartedMs ??= Date.now();
          outageDelay = dependencyRetryDelayMs(Date.now() - outageStartedMs, ++outageFailures);
          // An outage longer than that: from now on each failure uses up the policy's attempts.
          if (outageDelay === null) counted++;
        } else {
          outageStartedMs = undefined;
          outageFailures = 0;
          counted++;
        }
        if (outageDelay === null && !shouldRetry(retry, failure, counted)) {
          const why = failure.nonRetryable || retry.nonRetryableErrorTypes.includes(failure.type) ? '' : attempt > 1 ? ` (after ${attempt} attempts)` : '';
          throw new StepError(failure.type, `${failure.message}${why}`, command.stepId, failure.nonRetryable || retry.nonRetryableErrorTypes.includes(failure.type));
        }
        // A service that said when to come back (Retry-After) is believed over the backoff.
        const delay = outageDelay ?? failure.retryAfterMs ?? retryDelayMs(retry, Math.max(1, counted));
        if (retry.scheduleToCloseMs !== undefined && Date.now() - startedMs + delay >= retry.scheduleToCloseMs) {
          throw new StepError(FailureType.Timeout, `the deadline of ${deadlineText} leaves no time for attempt ${attempt + 1}; last error: ${failure.message}`, command.stepId);
        }
        await sleep(delay);
      }
    }
  }

  /**
   * A wait on an object's events: the first matching event recorded after the
   * run's cursor for the object (its start, or the last event a wait of the
   * run consumed there) that the run has not consumed. It subscribes once;
   * the router removes the subscription as it delivers, so nothing is left to
   * undo when it ends. It subscribes again only when the subscription may be
   * gone while the wait goes on: it passed an event over (its `match` said
   * no), or another wait of the run consumed an event it could have taken.
   */
  private async waitForEvent(scope: GraphScope, command: Extract<Command, { kind: 'wait_for_event' }>): Promise<unknown> {
    const runs = scope.ledger.runs(command.stepId);
    const waitKey = scope.key === '' ? `${command.stepId}#${runs}` : `${command.stepId}#${scope.key}#${runs}`;
    try {
      return await this.awaitEvent(scope, command, waitKey);
    } catch (err) {
      // Cancelled while it waited (flow.cancelOn, a deadline, the run cancelled): nobody will take a
      // delivery any more, so its subscription goes now rather than when its time would have passed.
      if (isCancellation(err)) await CancellationScope.nonCancellable(() => internal.unregisterWait({ runId: this.o.executionId, waitKey }));
      throw err;
    }
  }

  private async awaitEvent(scope: GraphScope, command: Extract<Command, { kind: 'wait_for_event' }>, waitKey: string): Promise<unknown> {
    const inbox = this.o.inbox;
    const wait = { objectId: command.objectId, types: command.events };
    const deadlineMs = Date.now() + command.timeoutMs;
    const passedOver = new Set<string>();
    let after = inbox.after(command.objectId);
    let since: 'wait_start' | undefined = command.since === 'wait_start' ? 'wait_start' : undefined;
    let matched: RunEvent | undefined;
    let matchError: unknown;
    for (;;) {
      const mark = inbox.mark();
      const subscription = await internal.registerWait({
        runId: this.o.executionId,
        waitKey,
        objectId: command.objectId,
        eventTypes: command.events,
        afterPosition: after,
        ...(since ? { since } : {}),
        passedOver: [...passedOver],
        kind: 'wait',
        expiresAt: new Date(deadlineMs).toISOString(),
      });
      after = subscription.afterPosition;
      since = undefined;
      for (const event of subscription.events) inbox.accept(event);
      let resubscribe = false;
      const remaining = Math.max(1, deadlineMs - Date.now());
      const arrived = await condition(() => {
        if (matched || matchError || resubscribe) return true;
        for (const event of inbox.candidates(wait, after)) {
          if (passedOver.has(event.id)) continue;
          try {
            if (eventMatches(this.o.program, command, scope.data, event)) {
              // Taken here, inside the condition: two waits woken together never take the same event.
              inbox.consume(event, wait);
              matched = event;
              return true;
            }
          } catch (err) {
            matchError = err;
            return true;
          }
          passedOver.add(event.id);
          resubscribe = true;
        }
        if (!resubscribe && inbox.consumedSince(mark, wait, after)) resubscribe = true;
        return resubscribe;
      }, remaining);
      if (matchError) throw matchError;
      if (matched) {
        scope.ledger.resolved(command.stepId, matched);
        return { timedOut: false, event: matched };
      }
      if (!arrived || !resubscribe) break;
    }
    if (command.onTimeout === 'fail') {
      throw new StepError(FailureType.WaitTimedOut, `no ${command.events.join(' or ')} event within the default resolution time`, command.stepId);
    }
    return { timedOut: true };
  }

  private async runChild(scope: GraphScope, command: Extract<Command, { kind: 'run_workflow' }>): Promise<unknown> {
    let plan;
    try {
      plan = await internal.resolveChildRun({ workflowId: command.workflow, input: command.input });
    } catch (err) {
      const failure = describeFailure(err);
      throw new StepError(failure.type, failure.message, command.stepId, failure.type === FailureType.ChildWorkflow);
    }
    const runs = scope.ledger.runs(command.stepId);
    const childRunId =
      scope.key === ''
        ? `${this.o.runId}-${command.stepId}${runs > 1 ? `-${runs}` : ''}`
        : `${this.o.runId}-${command.stepId}-${scope.key}${runs > 1 ? `-r${runs}` : ''}`;
    const memo: RunMemo = { workflowId: plan.workflowId, version: plan.version, triggerType: 'child' };
    const childInput: RunInput = {
      runId: childRunId,
      workflowId: plan.workflowId,
      version: plan.version,
      definition: plan.definition,
      actionPolicies: plan.actionPolicies,
      trigger: { type: 'child', payload: command.input },
      eventCursor: plan.eventCursor,
    };
    const handle = await startChild(RUN_WORKFLOW_TYPE, {
      ...runStart(childInput, memo),
      // A child we do not wait for is its own run: it outlives this one.
      parentClosePolicy: command.wait ? ParentClosePolicy.TERMINATE : ParentClosePolicy.ABANDON,
    });
    if (!command.wait) return { runId: childRunId, workflowId: plan.workflowId, version: plan.version };
    try {
      const result = (await handle.result()) as RunResult;
      return { runId: childRunId, outcome: result.outcome, reason: result.reason, output: result.output };
    } catch (err) {
      // A child cancelled by someone else (or by its own cancelOn) is this step's failure, not this run's cancellation.
      if (isCancellation(err) && CancellationScope.current().consideredCancelled) throw err;
      const cause = isCancellation(err) ? { message: 'it was cancelled' } : describeFailure(err);
      throw new StepError(FailureType.ChildRunFailed, `child run ${childRunId} failed: ${cause.message}`, command.stepId);
    }
  }

  private async runParallel(scope: GraphScope, command: Extract<Command, { kind: 'parallel' }>): Promise<unknown> {
    const outcomes = new Map<string, { status: 'completed' | 'failed'; error?: StepFailure }>();
    const branchScope = new CancellationScope();
    await branchScope.run(() =>
      Promise.all(
        command.branches.map(async (branch) => {
          try {
            await this.runGraph({ data: scope.data, ledger: scope.ledger, key: scope.key, concurrent: true }, branch.start);
            outcomes.set(branch.id, { status: 'completed' });
          } catch (err) {
            if (isCancellation(err)) throw err;
            const error = describeFailure(err);
            outcomes.set(branch.id, { status: 'failed', error });
            if (branch.continueOnError) return;
            // One failing branch fails the step: stop the others.
            branchScope.cancel();
            throw new StepError(FailureType.BranchFailed, `branch "${branch.id}" failed: ${error.message}`, command.stepId);
          }
        }),
      ),
    );
    const branches: Record<string, unknown> = {};
    for (const b of command.branches) branches[b.id] = outcomes.get(b.id);
    return { branches };
  }

  /**
   * A for_each: its items in order of the list, at most `concurrency` at
   * once, each in a scope of its own; few cheap items run here, many run in
   * batch child executions. Output: every item's result in list order (null
   * for a failed item) and the failed items' errors.
   */
  private async runForEach(scope: GraphScope, command: ForEachCommand): Promise<unknown> {
    const id = command.stepId;
    const total = command.items.length;
    const round = scope.ledger.runs(id);
    const loopKey = `${scope.key === '' ? '' : `${scope.key}/`}${id}${round > 1 ? `-${round}` : ''}`;
    const results: unknown[] = new Array<unknown>(total).fill(null);
    const errors: ItemError[] = [];
    const progress = { total, completed: 0, failed: 0 };
    const report = (): void => scope.ledger.progress(id, { ...progress });
    report();
    if (total === 0) return { results, errors, count: 0, failed: 0 };

    const plan = planForEach(this.o.program, id, total, command.concurrency);
    if (plan.mode === 'in_process') {
      await this.pool(0, total, plan.concurrency, async (index) => {
        const outcome = await this.runItem(scope.data, command, loopKey, index, command.items[index]);
        if (outcome.ok) {
          results[index] = outcome.result;
          progress.completed++;
        } else {
          errors.push(outcome.error);
          progress.failed++;
        }
        report();
        if (!outcome.ok && command.onItemError === 'stop') throw itemFailed(id, outcome.error);
      });
    } else {
      await this.pool(0, plan.batches, plan.lanes, async (batch) => {
        const offset = batch * plan.batchSize;
        const items = command.items.slice(offset, offset + plan.batchSize);
        const input: ForEachBatchInput = {
          runId: this.o.runId,
          definition: this.o.program.definition,
          actionPolicies: this.o.actionPolicies,
          stepId: id,
          loopKey,
          as: command.as,
          items,
          offset,
          concurrency: plan.laneConcurrency,
          onItemError: command.onItemError,
          data: scope.data.snapshot(),
          // Cursors only: the batch's waits read what is stored after them (the events held here stay here).
          events: { ...this.o.inbox.snapshot(), held: [] },
          ...(this.o.continueAsNewAfterEvents === undefined ? {} : { continueAsNewAfterEvents: this.o.continueAsNewAfterEvents }),
        };
        const handle = await startChild(FOR_EACH_BATCH_WORKFLOW_TYPE, {
          workflowId: `${this.o.runId}-${loopKey.replace(/\//g, '-')}-batch${batch}`,
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          args: [input],
          staticSummary: `${id}: items ${offset}-${offset + items.length - 1} of ${total}`,
        });
        let result: ForEachBatchResult;
        try {
          result = (await handle.result()) as ForEachBatchResult;
        } catch (err) {
          if (isCancellation(err)) throw err;
          // The batch stopped at its first failed item (onItemError: stop), or broke.
          throw new StepError(FailureType.ItemFailed, describeFailure(err).message, id);
        }
        result.results.forEach((r, j) => (results[offset + j] = r));
        errors.push(...result.errors);
        progress.failed += result.errors.length;
        progress.completed += items.length - result.errors.length;
        report();
      });
    }
    errors.sort((a, b) => a.index - b.index);
    return { results, errors, count: total, failed: errors.length };
  }

  /** One item: its own data (the item bound under its name) and ledger; never throws for the item's own failure. */
  async runItem(outer: RunData, command: ForEachCommand, loopKey: string, index: number, item: unknown): Promise<ItemOutcome> {
    const scope: GraphScope = { data: outer.fork(itemScope(command, item, index)), ledger: new ItemLedger(), key: `${loopKey}.${index}`, concurrent: true };
    try {
      await this.runGraph(scope, command.start);
      return { ok: true, result: itemResult(this.o.program, command.stepId, scope.data, scope.lastOutput) };
    } catch (err) {
      if (isCancellation(err)) throw err;
      const failure = describeFailure(err);
      return { ok: false, error: { index, stepId: err instanceof StepError ? err.stepId : failedStepId(err), type: failure.type, message: failure.message } };
    }
  }

  /**
   * Run `work` for indexes from..count-1, at most `lanes` at once, in index
   * order (deterministic: the same on replay). A thrown error cancels the
   * rest and is what the pool throws. `stop` is asked before each index:
   * true leaves the rest unstarted (a batch draining before it continues as
   * new). Returns the first index not started.
   */
  async pool(from: number, count: number, lanes: number, work: (index: number) => Promise<void>, stop?: () => boolean): Promise<number> {
    let next = from;
    let failure: unknown;
    const scope = new CancellationScope();
    try {
      await scope.run(() =>
        Promise.all(
          Array.from({ length: Math.max(0, Math.min(lanes, count - from)) }, async () => {
            while (next < count && failure === undefined && !stop?.()) {
              const index = next++;
              try {
                await work(index);
              } catch (err) {
                if (failure === undefined && !isCancellation(err)) {
                  failure = err;
                  scope.cancel();
                }
                throw err;
              }
            }
          }),
        ),
      );
    } catch (err) {
      if (failure !== undefined && !CancellationScope.current().consideredCancelled) throw failure;
      throw err;
    }
    return next;
  }
}

export function itemFailed(stepId: string, error: ItemError): StepError {
  return new StepError(FailureType.ItemFailed, `item ${error.index} failed: ${error.message}`, stepId);
}
