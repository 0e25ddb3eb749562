/**
 * A for_each batch: a child execution that runs the loop's sub-graph for a
 * slice of its items, with its share of the loop's concurrency, and returns
 * their results in order. It stops at the first failed item when the loop
 * says `stop`. When its own history grows long it lets the items in flight
 * finish, then continues as new with what is left, so no execution's
 * history passes ~10k events however many items or retries there are.
 */
import { ApplicationFailure, allHandlersFinished, condition, continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import { RunData, buildProgram, getStep, loopGraphId, type Command } from '../interpreter/runtime';
import { EventInbox } from './event-inbox';
import { GraphRunner, itemFailed } from './graph-runner';
import { historyIsLong } from './history-limits';
import { deliverEventSignal, type ForEachBatchInput, type ForEachBatchResult, type ItemError } from './run-contract';

export async function forEachBatch(input: ForEachBatchInput): Promise<ForEachBatchResult> {
  const program = buildProgram(input.definition);
  const step = getStep(program, input.stepId);
  if (step.type !== 'for_each') throw ApplicationFailure.nonRetryable(`step "${input.stepId}" is not a for_each`, 'InvalidBatch');
  const inbox = new EventInbox(input.progress?.inbox ?? input.events);
  setHandler(deliverEventSignal, (event) => inbox.accept(event));
  const runner = new GraphRunner({
    program,
    runId: input.runId,
    executionId: workflowInfo().workflowId,
    actionPolicies: input.actionPolicies,
    inbox,
    showCurrent: () => undefined,
    continueAsNewAfterEvents: input.continueAsNewAfterEvents,
  });
  const command: Extract<Command, { kind: 'for_each' }> = {
    kind: 'for_each',
    stepId: step.id,
    items: input.items,
    as: input.as,
    concurrency: input.concurrency,
    onItemError: input.onItemError,
    graphId: loopGraphId(step.id),
    start: step.start ?? step.steps[0].id,
  };
  const outer = RunData.restore(input.data);
  const results: unknown[] = input.progress?.results ?? new Array<unknown>(input.items.length).fill(null);
  const errors: ItemError[] = input.progress?.errors ?? [];

  let draining = false;
  const next = await runner.pool(
    input.progress?.next ?? 0,
    input.items.length,
    input.concurrency,
    async (local) => {
      const index = input.offset + local;
      const outcome = await runner.runItem(outer, command, input.loopKey, index, input.items[local]);
      if (outcome.ok) {
        results[local] = outcome.result;
        return;
      }
      errors.push(outcome.error);
      if (input.onItemError === 'stop') {
        const failed = itemFailed(step.id, outcome.error);
        throw ApplicationFailure.create({ type: failed.type, message: failed.message, nonRetryable: true, details: [outcome.error] });
      }
    },
    // Between items: a long history stops new items; those in flight finish first.
    () => (draining ||= historyIsLong(input.continueAsNewAfterEvents)),
  );

  if (next < input.items.length) {
    await condition(allHandlersFinished);
    await continueAsNew<typeof forEachBatch>({
      ...input,
      progress: { next, results, errors, inbox: inbox.snapshot() },
    });
  }
  errors.sort((a, b) => a.index - b.index);
  return { results, errors };
}
