/**
 * A long run: a loop of (wait_for_event, set_variables, condition) that goes
 * round until the run has taken `steps` steps; the benchmark signals each
 * round's event once the run waits for it (its wait subscription is there).
 * (A wait_for_time loop would measure the dev server's timers, which fire
 * at a resolution of about a second.) It must finish by continuing
 * as new, each execution's history under 10,000 events. Reported: how long
 * it took, its executions and their history lengths, and the service
 * process's memory (after a forced GC) before and after.
 */
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { RUN_WORKFLOW_TYPE, runStart, type RunMemo } from '../src/workflows/run-contract';
import type { Stack } from './stack';
import { sleep } from './stats';

export interface LongRunOptions {
  steps: number;
  /** Continue as new at this many events instead of the default (quick runs see it sooner). */
  continueAsNewAfterEvents?: number;
}

export interface LongRunResult {
  steps: number;
  continueAsNewAfterEvents?: number;
  seconds: number;
  executions: number;
  historyEvents: number[];
  maxHistoryEvents: number;
  under10k: boolean;
  memory: { rssBeforeMb: number; rssAfterMb: number; heapBeforeMb: number; heapAfterMb: number };
}

type History = temporal.api.history.v1.IHistory;

/** Each execution's history length, following continue-as-new from the first. */
async function executionHistories(client: Client, workflowId: string, firstRunId: string): Promise<number[]> {
  const lengths: number[] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const history: History = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    lengths.push(events.length);
    const last = events[events.length - 1];
    runId = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return lengths;
}

const mb = (bytes: number) => bytes / 1024 / 1024;

export async function longRunSection(stack: Stack, o: LongRunOptions): Promise<LongRunResult> {
  const { client, service } = stack;
  // init + 3 steps a round + done.
  const rounds = Math.max(1, Math.ceil((o.steps - 2) / 3));
  const workflowId = 'bench_long_run';
  await service.publish(workflowId, {
    trigger: { type: 'api' },
    steps: [
      { id: 'init', type: 'action', action: 'set_variables', params: { variables: { i: 0 } }, next: 'tick' },
      { id: 'tick', type: 'wait_for_event', events: ['bench.tick'], object: 'trigger.key', timeout: '1h', next: 'count' },
      { id: 'count', type: 'action', action: 'set_variables', params: { variables: { i: { $cel: 'vars.i + 1' } } }, next: 'again' },
      { id: 'again', type: 'condition', routes: [{ when: `vars.i < ${rounds}`, next: 'tick' }], default: 'done' },
      { id: 'done', type: 'end', outcome: 'succeeded', reason: '{{ vars.i }} rounds' },
    ],
  });
  const runId = `run_bench_long_${Date.now().toString(36)}`;
  const key = `obj_${runId}`;
  const template = await service.runInput(workflowId, runId, { key });
  if (o.continueAsNewAfterEvents) template.continueAsNewAfterEvents = o.continueAsNewAfterEvents;
  const before = await service.usage(true);
  const t0 = performance.now();
  const memo: RunMemo = { workflowId, version: template.version, triggerType: 'api', startedAt: new Date().toISOString() };
  const handle = await client.workflow.start(RUN_WORKFLOW_TYPE, { taskQueue: service.taskQueue, ...runStart(template, memo) });
  for (let round = 1; round <= rounds; round++) {
    while ((await service.count(`SELECT count(*) AS n FROM wait_subscriptions WHERE run_id = '${runId}' AND wait_key = 'tick#${round}'`)) === 0) await sleep(2);
    await handle.signal('deliverEvent', { id: `evt_${runId}_${round}`, type: 'bench.tick', objectId: key });
  }
  await handle.result();
  const seconds = (performance.now() - t0) / 1000;
  const after = await service.usage(true);
  const historyEvents = await executionHistories(client, runId, handle.firstExecutionRunId);
  const maxHistoryEvents = Math.max(...historyEvents);
  return {
    steps: 2 + 3 * rounds,
    continueAsNewAfterEvents: o.continueAsNewAfterEvents,
    seconds,
    executions: historyEvents.length,
    historyEvents,
    maxHistoryEvents,
    under10k: maxHistoryEvents < 10_000,
    memory: { rssBeforeMb: mb(before.rss), rssAfterMb: mb(after.rss), heapBeforeMb: mb(before.heapUsed), heapAfterMb: mb(after.heapUsed) },
  };
}
