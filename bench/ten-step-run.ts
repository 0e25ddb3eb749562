/**
 * The time of a 10-step run, end to end through the HTTP API trigger. Two
 * shapes: 10 ordinary activities, and 10 local-activity steps
 * (set_variables). Warm-up runs excluded; each figure from several runs.
 */
import { z } from 'zod';
import { defineAction, type ActionDefinition } from '../src/activities/action-definition';
import { stats, type Stack } from './stack';

export const benchNoop = defineAction({
  name: 'bench_noop',
  title: 'No-op (benchmark)',
  description: 'Returns its input.',
  params: z.strictObject({ n: z.number() }),
  policy: { startToCloseTimeout: '10s', retry: { maximumAttempts: 3, initialInterval: '100ms', backoffCoefficient: 2, maximumInterval: '1s' } },
  async run(params) {
    return { n: params.n };
  },
}) as ActionDefinition<never>;

function chain(action: string, params: (i: number) => Record<string, unknown>) {
  return {
    trigger: { type: 'api' },
    steps: Array.from({ length: 10 }, (_, i) => ({ id: `step_${i + 1}`, type: 'action', action, params: params(i), ...(i < 9 ? { next: `step_${i + 2}` } : {}) })),
  };
}

export async function tenStepRuns(stack: Stack, runs: number, warmup: number) {
  const shapes = {
    activities: chain('bench_noop', (i) => ({ n: i })),
    'local activities': chain('set_variables', (i) => ({ variables: { [`v${i}`]: i } })),
  };
  const results: Record<string, ReturnType<typeof stats> & { historyEvents: number }> = {};
  for (const [name, definition] of Object.entries(shapes)) {
    const id = `bench_${name.replace(/\W+/g, '_')}`;
    await stack.publish(id, definition);
    const samples: number[] = [];
    let historyEvents = 0;
    for (let i = 0; i < warmup + runs; i++) {
      const t0 = performance.now();
      const { runId } = (await stack.post(`/v1/workflows/${id}/runs`, {})) as { runId: string };
      await stack.client.workflow.getHandle(runId).result();
      if (i >= warmup) samples.push(performance.now() - t0);
      if (i === warmup) historyEvents = (await stack.client.workflow.getHandle(runId).fetchHistory()).events?.length ?? 0;
    }
    results[name] = { ...stats(samples), historyEvents };
  }
  return results;
}
