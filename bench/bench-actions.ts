/** Actions only the benchmark registers. */
import { z } from 'zod';
import { defineAction, type ActionDefinition } from '../src/activities/action-definition';

/** The trivial activity of the interpreter-overhead shapes: returns its input. */
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

export function benchActions(): ActionDefinition<never>[] {
  return [benchNoop];
}
