/**
 * From `POST /v1/events` to the waiting run's next step starting: runs wait
 * on their own case; each case's `case.resolved` is posted in turn and timed
 * until the step after the wait has started (its start time as the run
 * records it, on Temporal's clock; same machine). Warm-up events excluded.
 */
import { runStateQuery } from '../src/workflows/run-contract';
import { stats, type Stack } from './stack';

export async function eventLatency(stack: Stack, count: number, warmup: number) {
  await stack.publish('bench_wait', {
    trigger: { type: 'api', inputSchema: { type: 'object', required: ['caseId'], properties: { caseId: { type: 'string' } } } },
    steps: [
      { id: 'await_case', type: 'wait_for_event', events: ['case.resolved'], object: 'trigger.caseId', timeout: '1h', next: 'after' },
      { id: 'after', type: 'action', action: 'set_variables', params: { variables: { done: true } } },
    ],
  });
  const total = count + warmup;
  const runIds: string[] = [];
  for (let i = 0; i < total; i++) runIds.push(String((await stack.post('/v1/workflows/bench_wait/runs', { caseId: `case_bench_${i}` })).runId));
  // Every run must be subscribed before its event is posted.
  for (const runId of runIds) {
    for (;;) {
      const state = await stack.client.workflow.getHandle(runId).query(runStateQuery);
      if (state.steps.find((s) => s.id === 'await_case')?.status === 'waiting') break;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const samples: number[] = [];
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const postedAt = Date.now();
    await stack.postEvent({ id: `evt_bench_${i}`, type: 'case.resolved', objectType: 'case', objectId: `case_bench_${i}` });
    await stack.client.workflow.getHandle(runIds[i]).result();
    const state = await stack.client.workflow.getHandle(runIds[i]).query(runStateQuery);
    const after = state.steps.find((s) => s.id === 'after')!;
    if (i >= warmup) samples.push(Date.parse(after.startedAt!) - postedAt);
  }
  const elapsed = (performance.now() - started) / 1000;
  return { ...stats(samples), eventsPerSecondSequential: total / elapsed };
}
