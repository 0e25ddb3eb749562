/**
 * CEL's cost limits: the evaluation budget (counted in work, so the same on
 * every replay) and the save-time check that refuses nested comprehensions
 * and expressions estimated to exceed it, with the path of the expression.
 */
import { ActionRegistry } from '../../src/activities/registry';
import { CEL_LIMITS, CelBudgetError, CelEvaluationError, celComplexity, evaluateCel, toCel } from '../../src/interpreter/cel';
import { validateDefinition } from '../../src/interpreter/validate';

const catalog = new ActionRegistry().catalog;
const list = (n: number): string => `[${Array.from({ length: n }, (_, i) => i).join(',')}]`;

/** The filter from the review: three nested maps over literal lists of 100 (7 million steps), and one more level (700 million). */
const HOSTILE = `${list(100)}.map(a, ${list(100)}.map(b, ${list(100)}.map(c, a + b + c)))`;
const event = (data: unknown) => ({ event: toCel({ id: 'evt_1', type: 'inquiry.created', data }), object: null });

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('CEL evaluation budget', () => {
  it('stops nested comprehensions over literal lists with a CelBudgetError (an evaluation error)', () => {
    const err = thrownBy(() => evaluateCel(HOSTILE, {}));
    expect(err).toBeInstanceOf(CelBudgetError);
    expect(err).toBeInstanceOf(CelEvaluationError);
    expect((err as Error).message).toMatch(/budget of 100000 evaluation steps/);
  });

  it('stops nested comprehensions over the event\'s own lists, whatever their size', () => {
    const items = Array.from({ length: 400 }, (_, i) => i);
    const filter = 'event.data.items.exists(a, event.data.items.exists(b, a * b < 0))';
    expect(thrownBy(() => evaluateCel(filter, event({ items })))).toBeInstanceOf(CelBudgetError);
    // The same expression over a small list is fine.
    expect(evaluateCel(filter, event({ items: items.slice(0, 20) }))).toBe(false);
  });

  it('is not fooled by a quantifier that swallows the errors of single items', () => {
    // `exists` ignores an item whose predicate errs when another item is true: the budget must still win.
    const items = Array.from({ length: 400 }, (_, i) => i);
    const filter = 'event.data.items.exists(a, a == 399 || event.data.items.exists(b, b < 0))';
    expect(thrownBy(() => evaluateCel(filter, event({ items })))).toBeInstanceOf(CelBudgetError);
  });

  it('stops a list or a string that doubles itself through cel.bind', () => {
    // 30 doublings: a thousand million elements, from a few dozen AST nodes.
    const doubling = Array.from({ length: 30 }, (_, i) => i + 1).reduceRight((body, i) => `cel.bind(l${i}, l${i - 1} + l${i - 1}, ${body})`, 'l30.size()');
    expect(thrownBy(() => evaluateCel(`cel.bind(l0, [1, 2], ${doubling})`, {}))).toBeInstanceOf(CelBudgetError);
    expect(thrownBy(() => evaluateCel(`cel.bind(l0, "ab", ${doubling})`, {}))).toBeInstanceOf(CelBudgetError);
  });

  it('gives the same verdict at the same place every time (it counts work, not time)', () => {
    const items = Array.from({ length: 400 }, (_, i) => i);
    const filter = 'event.data.items.exists(a, event.data.items.exists(b, a * b < 0))';
    const messages = [1, 2, 3].map(() => (thrownBy(() => evaluateCel(filter, event({ items }))) as Error).message);
    expect(new Set(messages).size).toBe(1);
    // Within a budget that is just big enough, the answer is the answer.
    expect(evaluateCel('[1, 2, 3].map(x, x * 2)', {}, 20)).toEqual([2, 4, 6]);
    expect(thrownBy(() => evaluateCel('[1, 2, 3].map(x, x * 2)', {}, 5))).toBeInstanceOf(CelBudgetError);
  });

  it('leaves ordinary expressions alone, including one comprehension over a thousand items', () => {
    const items = Array.from({ length: 1000 }, (_, i) => ({ score: i / 1000 }));
    expect(evaluateCel('event.data.items.exists(i, i.score > 0.998)', event({ items }))).toBe(true);
    expect(evaluateCel('event.data.items.filter(i, i.score < 0.01).size()', event({ items }))).toBe(10);
  });
});

describe('CEL cost at save time', () => {
  const withFilter = (filter: string) =>
    validateDefinition(
      { trigger: { type: 'event', event: 'inquiry.created', filter }, steps: [{ id: 'done', type: 'end' }] },
      catalog,
    );

  it('refuses the hostile filter with expression_too_costly at /trigger/filter', () => {
    const result = withFilter(HOSTILE);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([
      expect.objectContaining({ code: 'expression_too_costly', path: '/trigger/filter', message: expect.stringMatching(/estimated to need about \d+ evaluation steps; the budget is 20000/) }),
    ]);
  });

  it('refuses comprehensions nested deeper than the limit, even over tiny lists', () => {
    const nested = '[1].all(a, [1].all(b, [1].all(c, [1].all(d, a + b + c + d > 0))))';
    expect(celComplexity(nested).nesting).toBe(4);
    const result = withFilter(nested);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems[0]).toMatchObject({ code: 'expression_too_costly', path: '/trigger/filter', message: expect.stringContaining(`nested 4 deep; at most ${CEL_LIMITS.maxComprehensionNesting}`) });
  });

  it('refuses a costly condition inside a step with the step\'s path', () => {
    const result = validateDefinition(
      {
        trigger: { type: 'api' },
        steps: [
          { id: 'check', type: 'condition', routes: [{ when: 'trigger.a.exists(x, trigger.a.exists(y, trigger.a.exists(z, x + y + z == 0)))', next: 'done' }], default: 'done' },
          { id: 'done', type: 'end' },
        ],
      },
      catalog,
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems[0]).toMatchObject({ code: 'expression_too_costly', path: '/steps/0/routes/0/when', stepId: 'check' });
  });

  it('accepts ordinary filters, and two levels of comprehension over run data in a step (a filter has the smaller budget)', () => {
    expect(withFilter('event.data.tags.exists(t, t == "vip")').ok).toBe(true);
    const twoLevels = 'a.flags.exists(f, f == "ok")';
    expect(withFilter(`event.data.accounts.all(a, ${twoLevels})`).ok).toBe(false);
    const inStep = validateDefinition(
      {
        trigger: { type: 'api' },
        steps: [
          { id: 'check', type: 'condition', routes: [{ when: `trigger.accounts.all(a, ${twoLevels})`, next: 'done' }], default: 'done' },
          { id: 'done', type: 'end' },
        ],
      },
      catalog,
    );
    expect(inStep.ok).toBe(true);
  });
});
