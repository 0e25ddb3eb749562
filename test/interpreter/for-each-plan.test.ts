/**
 * How a for_each runs its items, as a table: few cheap items inside the
 * run's execution; many, costly or looping items in batch executions sized
 * so that each batch's history stays small, with lanes × items per lane
 * never above the step's concurrency.
 */
import { definitionSchema } from '../../src/interpreter/definition';
import { graphHasCycle, itemEventEstimate, planForEach } from '../../src/interpreter/for-each-plan';
import { buildProgram } from '../../src/interpreter/program';

const action = (id: string, next?: string) => ({ id, type: 'action', action: 'log_message', params: { message: 'x' }, ...(next ? { next } : {}) });

function loopOf(steps: unknown[]) {
  return buildProgram(definitionSchema.parse({ trigger: { type: 'api' }, steps: [{ id: 'each', type: 'for_each', items: 'trigger.items', concurrency: 1, steps }] }));
}

const oneAction = loopOf([action('call')]);
const fiveActions = loopOf([action('a', 'b'), action('b', 'c'), action('c', 'd'), action('d', 'e'), action('e')]);
const looping = loopOf([action('poll', 'pause'), { id: 'pause', type: 'wait_for_time', duration: '1m', next: 'poll' }]);

describe('planForEach', () => {
  test.each([
    { name: '50 items of one action, 5 at once: inside the run', program: oneAction, items: 50, concurrency: 5, plan: { mode: 'in_process', concurrency: 5 } },
    { name: '100 items of one action: still inside', program: oneAction, items: 100, concurrency: 10, plan: { mode: 'in_process', concurrency: 10 } },
    { name: '101 items: batches', program: oneAction, items: 101, concurrency: 10, plan: { mode: 'batches', batchSize: 500, batches: 1, lanes: 1, laneConcurrency: 10 } },
    { name: '60 items of five actions each (too many events): batches', program: fiveActions, items: 60, concurrency: 4, plan: { mode: 'batches', batchSize: 100, batches: 1, lanes: 1, laneConcurrency: 4 } },
    { name: '10,000 items, 20 at once: 20 batches, 2 at a time with 10 items each', program: oneAction, items: 10_000, concurrency: 20, plan: { mode: 'batches', batchSize: 500, batches: 20, lanes: 2, laneConcurrency: 10 } },
    { name: '10,000 items, 5 at once: one batch at a time with 5 items', program: oneAction, items: 10_000, concurrency: 5, plan: { mode: 'batches', batchSize: 500, batches: 20, lanes: 1, laneConcurrency: 5 } },
    { name: '10,000 items, 25 at once: 3 lanes of 8 (never more than 25)', program: oneAction, items: 10_000, concurrency: 25, plan: { mode: 'batches', batchSize: 500, batches: 20, lanes: 3, laneConcurrency: 8 } },
    { name: 'a few items whose steps loop: batches (a loop has no bound)', program: looping, items: 3, concurrency: 3, plan: { mode: 'batches', batchSize: 28, batches: 1, lanes: 1, laneConcurrency: 3 } },
  ])('$name', ({ program, items, concurrency, plan }) => {
    const planned = planForEach(program, 'each', items, concurrency);
    expect(planned).toEqual(plan);
    if (planned.mode === 'batches') {
      expect(planned.lanes * planned.laneConcurrency).toBeLessThanOrEqual(concurrency);
      expect(planned.batches * planned.batchSize).toBeGreaterThanOrEqual(items);
    }
  });
});

describe('itemEventEstimate and graphHasCycle', () => {
  test('an action is about eight events; a loop counts ten times', () => {
    expect(itemEventEstimate(oneAction, 'each.each')).toBe(8);
    expect(itemEventEstimate(fiveActions, 'each.each')).toBe(40);
    expect(itemEventEstimate(looping, 'each.each')).toBe(140);
  });
  test('cycles through next and through catch routes', () => {
    expect(graphHasCycle(oneAction, 'each.each')).toBe(false);
    expect(graphHasCycle(looping, 'each.each')).toBe(true);
    const viaCatch = loopOf([{ ...action('call', 'pause'), catch: [{ next: 'pause' }] }, { id: 'pause', type: 'wait_for_time', duration: '1s', next: 'call' }]);
    expect(graphHasCycle(viaCatch, 'each.each')).toBe(true);
  });
});
