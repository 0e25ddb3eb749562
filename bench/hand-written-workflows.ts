/**
 * The benchmark's yardstick: the shapes the interpreter runs in
 * bench/shapes.ts, written by hand as ordinary Temporal workflows that call
 * the same activities with the same inputs (an ActionInput per step). Bundled
 * with src/workflows into the benchmark worker (bench/workflows.ts), so both
 * run on the same worker with the same options.
 */
import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';

interface ActionInput {
  params: Record<string, unknown>;
  step: { id: string; round: number };
}
type Activity = (input: ActionInput) => Promise<Record<string, unknown>>;

// The same timeouts and retries as the actions' policies (bench/shapes.ts, src/activities/object-actions.ts).
const acts = proxyActivities<{ bench_noop: Activity; tag_object: Activity }>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 3, initialInterval: '100ms', backoffCoefficient: 2, maximumInterval: '1s' },
});

const step = (id: string, params: Record<string, unknown>): ActionInput => ({ params, step: { id, round: 1 } });

/** Ten bench_noop activities, one after another. */
export async function handTenSteps(): Promise<void> {
  for (let i = 0; i < 10; i++) await acts.bench_noop(step(`step_${i + 1}`, { n: i }));
}

/** One activity, a branch on its output, one of two activities, a last one. */
export async function handCondition(input: { n: number }): Promise<void> {
  const first = await acts.bench_noop(step('first', { n: input.n }));
  if ((first.n as number) > 5) await acts.bench_noop(step('high', { n: 1 }));
  else await acts.bench_noop(step('low', { n: 0 }));
  await acts.bench_noop(step('last', { n: 2 }));
}

/** Four branches of one activity each, at once, then one activity. */
export async function handParallel(): Promise<void> {
  await Promise.all([0, 1, 2, 3].map((b) => acts.bench_noop(step(`b${b}_work`, { n: b }))));
  await acts.bench_noop(step('after', { n: 4 }));
}

export const benchEventSignal = defineSignal<[{ id: string; type: string; objectId?: string }]>('deliverEvent');

/** One activity, a wait for an event on its object (signalled), one activity. */
export async function handWait(input: { key: string }): Promise<void> {
  let arrived = false;
  setHandler(benchEventSignal, (event) => {
    if (event.type === 'bench.go' && event.objectId === input.key) arrived = true;
  });
  await acts.bench_noop(step('before', { n: 0 }));
  await condition(() => arrived, '1h');
  await acts.bench_noop(step('after', { n: 1 }));
}

/** Ten tag_object calls on one inquiry (object updates), each an ordinary activity. */
export async function handObjectUpdates(input: { inquiryId: string }): Promise<void> {
  for (let i = 0; i < 10; i++) await acts.tag_object(step(`tag_${i + 1}`, { objectId: input.inquiryId, tag: `t${i + 1}` }));
}

/** Parks in a wait until signalled (worker memory per cached run). */
export async function handParked(input: { key: string }): Promise<void> {
  let arrived = false;
  setHandler(benchEventSignal, (event) => {
    if (event.objectId === input.key) arrived = true;
  });
  await condition(() => arrived, '1h');
}
