import { definitionSchema } from '../../src/interpreter/definition';
import { planStep } from '../../src/interpreter/planner';
import { buildProgram } from '../../src/interpreter/program';
import { RunData } from '../../src/interpreter/run-data';
/**
 * The two expression languages on their own: CEL's numbers and its results
 * as JSON, which steps an expression reads, Liquid rendering, and how value
 * fields mark their expressions.
 */
import { CelEvaluationError, CelSyntaxError, celReferences, compileCel, evaluateCel, fromCel, toCel } from '../../src/interpreter/cel';
import { LiquidSyntaxError, compileLiquid, isLiquidTemplate, liquidStepReferences, renderLiquid } from '../../src/interpreter/liquid';
import { embeddedExpressions, isDynamicValue } from '../../src/interpreter/values';

const data = {
  trigger: {
    n: 41,
    score: 0.75,
    whole: 2.0,
    big: 2 ** 53 + 2,
    at: '2024-05-01T12:00:00Z',
    name: 'Ann Lee',
    items: [1, 2, 3],
    zero: 0,
    user: { name: 'Ann', email: 'ann@example.com' },
  },
  steps: {
    lookup: { status: 'completed', output: { hits: [{ list: 'ofac' }, { list: 'pep' }] } },
    notify: { status: 'failed', error: { type: 'ActionFailed', message: 'smtp down' } },
  },
  vars: { tier: 'gold' },
};
const celData = toCel(data) as Record<string, unknown>;

describe('CEL evaluation', () => {
  const rows: { expr: string; result: unknown }[] = [
    // Whole JSON numbers are ints, the rest doubles.
    { expr: 'trigger.n + 1', result: 42 },
    { expr: 'trigger.n / 2', result: 20 },
    { expr: 'trigger.n % 5', result: 1 },
    { expr: '-trigger.n', result: -41 },
    { expr: 'trigger.whole * 3', result: 6 },
    { expr: 'trigger.score * 2.0', result: 1.5 },
    { expr: 'double(trigger.n) / 2.0', result: 20.5 },
    { expr: 'int(trigger.score * 100.0)', result: 75 },
    // Doubles and ints compare with each other.
    { expr: 'trigger.score > 0.5', result: true },
    { expr: 'trigger.n == 41.0', result: true },
    { expr: 'trigger.n > 40.5', result: true },
    { expr: 'trigger.score < trigger.n', result: true },
    // An unsafe JSON integer stays a double; a CEL int beyond 2^53 comes back as exact text.
    { expr: 'trigger.big', result: 2 ** 53 + 2 },
    { expr: '9223372036854775807', result: '9223372036854775807' },
    // Results come back as JSON.
    { expr: 'trigger.items.map(i, i * 10)', result: [10, 20, 30] },
    { expr: '{"total": trigger.n, "ratio": trigger.score, "lists": steps.lookup.output.hits.map(h, h.list)}', result: { total: 41, ratio: 0.75, lists: ['ofac', 'pep'] } },
    { expr: 'timestamp(trigger.at)', result: '2024-05-01T12:00:00.000Z' },
    { expr: 'timestamp("2024-05-01T12:00:00+02:00") + duration("90m")', result: '2024-05-01T11:30:00.000Z' },
    { expr: 'duration("90m")', result: '5400s' },
    { expr: 'b"hi"', result: [104, 105] },
    { expr: 'string(trigger.n) + " " + trigger.name', result: '41 Ann Lee' },
    { expr: 'steps.notify.status == "failed" && steps.notify.error.type == "ActionFailed"', result: true },
    { expr: 'has(trigger.user.phone) ? trigger.user.phone : vars.tier', result: 'gold' },
  ];

  test.each(rows)('$expr', ({ expr, result }) => {
    expect(evaluateCel(expr, celData)).toEqual(result);
  });

  const failures: { expr: string; error: typeof CelSyntaxError | typeof CelEvaluationError; message: RegExp }[] = [
    { expr: 'trigger.score + 1', error: CelEvaluationError, message: /no such overload/ },
    { expr: 'trigger.country', error: CelEvaluationError, message: /No such key: country/ },
    { expr: 'trigger.n / 0', error: CelEvaluationError, message: /division by zero/ },
    { expr: 'trigger.', error: CelSyntaxError, message: /Expected IDENTIFIER/ },
    { expr: 'trigger.n ==', error: CelSyntaxError, message: /Unexpected token/ },
    { expr: 'step.lookup.status', error: CelSyntaxError, message: /Unknown variable: step/ },
  ];

  test.each(failures)('$expr throws $error.name', ({ expr, error, message }) => {
    let thrown: unknown;
    try {
      evaluateCel(expr, celData);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(error);
    expect(thrown).toMatchObject({ source: expr });
    expect((thrown as Error).message).toMatch(message);
    // Only the first line: the caret diagram is for terminals.
    expect((thrown as Error).message).not.toContain('\n');
  });

  test('compiling caches: the same source gives the same compiled expression', () => {
    expect(compileCel('trigger.n + 1')).toBe(compileCel('trigger.n + 1'));
  });
});

describe('JSON <-> CEL values', () => {
  test('toCel makes safe whole numbers bigints, deeply, and leaves the rest', () => {
    expect(toCel({ a: 1, b: 1.5, c: [2, -3, 'x'], d: { e: null, f: true }, g: 2 ** 53 + 2 })).toEqual({
      a: 1n,
      b: 1.5,
      c: [2n, -3n, 'x'],
      d: { e: null, f: true },
      g: 2 ** 53 + 2,
    });
  });

  const rows: { name: string; cel: unknown; json: unknown }[] = [
    { name: 'a safe bigint', cel: 42n, json: 42 },
    { name: 'an unsafe bigint', cel: 9007199254740993n, json: '9007199254740993' },
    { name: 'a date', cel: new Date('2024-05-01T12:00:00Z'), json: '2024-05-01T12:00:00.000Z' },
    { name: 'bytes', cel: new Uint8Array([1, 2]), json: [1, 2] },
    { name: 'a map with bigint values', cel: new Map<unknown, unknown>([['a', 1n], [2n, [3n]]]), json: { a: 1, 2: [3] } },
    { name: 'nested objects and arrays', cel: { a: [1n, { b: 2.5 }], c: null }, json: { a: [1, { b: 2.5 }], c: null } },
  ];

  test.each(rows)('fromCel: $name', ({ cel, json }) => {
    expect(fromCel(cel)).toEqual(json);
  });

  test('fromCel(toCel(x)) is x for any JSON', () => {
    const json = { id: 'usr_7', count: 3, ratio: 0.25, tags: ['a', 'b'], nested: { ok: true, none: null, list: [1, [2, 3]] } };
    expect(fromCel(toCel(json))).toEqual(json);
  });
});

describe('celReferences', () => {
  const rows: { expr: string; variables: string[]; steps: string[] }[] = [
    { expr: 'steps.lookup.output.id', variables: ['steps'], steps: ['lookup'] },
    { expr: 'steps["notify"].status == "failed"', variables: ['steps'], steps: ['notify'] },
    { expr: 'steps.a.output + steps["b"].output', variables: ['steps'], steps: ['a', 'b'] },
    { expr: 'has(steps.c.output) && vars.tier == "gold"', variables: ['steps', 'vars'], steps: ['c'] },
    { expr: '[steps.d.status, trigger.n][0]', variables: ['steps', 'trigger'], steps: ['d'] },
    // Only the root `steps` names steps.
    { expr: 'steps.a.output.steps.b', variables: ['steps'], steps: ['a'] },
    { expr: 'trigger.steps.x', variables: ['trigger'], steps: [] },
    // A computed key names no step the validator could check.
    { expr: 'steps[trigger.key].status', variables: ['steps', 'trigger'], steps: [] },
    { expr: 'event.data.id == object.id', variables: ['event', 'object'], steps: [] },
    // Loop and bind variables are local, and shadow the roots.
    { expr: 'trigger.items.exists(i, i > steps.limit.output)', variables: ['trigger', 'steps'], steps: ['limit'] },
    { expr: 'trigger.items.map(i, i > 1, i * 2)', variables: ['trigger'], steps: [] },
    { expr: '[1].all(steps, steps > 0)', variables: [], steps: [] },
    { expr: 'cel.bind(s, steps.score.output, s > 1 && trigger.n > s)', variables: ['steps', 'trigger'], steps: ['score'] },
  ];

  test.each(rows)('$expr', ({ expr, variables, steps }) => {
    const refs = celReferences(expr);
    expect([...refs.variables].sort()).toEqual([...variables].sort());
    expect([...refs.steps].sort()).toEqual([...steps].sort());
  });
});

describe('Liquid rendering', () => {
  const rows: { template: string; text: string }[] = [
    { template: 'Hello {{ trigger.user.name }}', text: 'Hello Ann' },
    { template: '{{ trigger.user.name | upcase }} <{{ trigger.user.email }}>', text: 'ANN <ann@example.com>' },
    { template: '{{ trigger.items | join: ", " }} ({{ trigger.items | size }})', text: '1, 2, 3 (3)' },
    { template: '{{ trigger.score | times: 100 }}%', text: '75%' },
    { template: '{% for h in steps.lookup.output.hits %}{{ h.list }};{% endfor %}', text: 'ofac;pep;' },
    { template: '{% if steps.notify.status == "failed" %}retry: {{ steps["notify"].error.message }}{% else %}sent{% endif %}', text: 'retry: smtp down' },
    // Missing values render as nothing rather than failing.
    { template: '[{{ trigger.nope }}]', text: '[]' },
    // Liquid truthiness, not JavaScript's: 0 is true.
    { template: '{% if trigger.zero %}set{% else %}unset{% endif %}', text: 'set' },
    // Only own properties: no prototype reaching.
    { template: '[{{ trigger.user.constructor }}]', text: '[]' },
    { template: '{% raw %}{{ kept }}{% endraw %}', text: '{{ kept }}' },
  ];

  test.each(rows)('$template', ({ template, text }) => {
    expect(renderLiquid(template, data)).toBe(text);
  });

  const syntaxErrors: { template: string; message: RegExp }[] = [
    { template: 'Hello {{ trigger.user.name', message: /not closed/ },
    { template: '{% if trigger.zero %}never closed', message: /not closed/ },
    { template: '{{ trigger.user.name | shout }}', message: /undefined filter: shout/ },
  ];

  test.each(syntaxErrors)('$template is a LiquidSyntaxError', ({ template, message }) => {
    expect(() => compileLiquid(template)).toThrow(LiquidSyntaxError);
    expect(() => renderLiquid(template, data)).toThrow(message);
  });

  test.each([
    { text: 'plain words', template: false },
    { text: 'a { brace } or {{', template: true },
    { text: '{% if x %}y{% endif %}', template: true },
    { text: '{ {not} }', template: false },
  ])('isLiquidTemplate($text) is $template', ({ text, template }) => {
    expect(isLiquidTemplate(text)).toBe(template);
  });
});

describe('liquidStepReferences', () => {
  const rows: { template: string; steps: string[] }[] = [
    { template: '{{ steps.a.output }}', steps: ['a'] },
    { template: '{{ steps["b"].status }} and {{ steps[\'c\'].status }}', steps: ['b', 'c'] },
    { template: '{% if steps.d.status == "failed" %}{{ vars.x }}{% endif %}', steps: ['d'] },
    { template: '{% for h in steps.e.output.hits %}{{ h.list }}{% endfor %}', steps: ['e'] },
    { template: '{{ trigger.x | default: steps.f.output }}', steps: ['f'] },
    { template: '{{ trigger.steps.g }} {{ vars.steps }}', steps: [] },
    // A template's own `steps` variable is not the run's steps.
    { template: '{% assign steps = trigger.fake %}{{ steps.h }}', steps: [] },
    { template: 'no markup at all', steps: [] },
  ];

  test.each(rows)('$template', ({ template, steps }) => {
    expect([...liquidStepReferences(template)].sort()).toEqual(steps);
  });
});

describe('expressions inside value fields', () => {
  const value = {
    to: ['{{ trigger.user.email }}', 'fixed@example.com'],
    level: { $cel: 'vars.level' },
    body: { $literal: '{{ shown as is }}' },
    meta: { count: 3, note: 'no markup', ask: { $cel: 'steps.a.output' } },
  };

  test('embeddedExpressions lists every CEL and Liquid source with its path', () => {
    expect(embeddedExpressions(value, ['params'])).toEqual([
      { kind: 'liquid', source: '{{ trigger.user.email }}', path: ['params', 'to', 0] },
      { kind: 'cel', source: 'vars.level', path: ['params', 'level', '$cel'] },
      { kind: 'cel', source: 'steps.a.output', path: ['params', 'meta', 'ask', '$cel'] },
    ]);
  });

  test.each([
    { name: 'a $cel object', value: { $cel: 'trigger.n' }, dynamic: true },
    { name: 'a Liquid string', value: 'Hi {{ trigger.name }}', dynamic: true },
    { name: 'a $literal holding a template', value: { $literal: '{{ x }}' }, dynamic: false },
    { name: 'an object with $cel beside another key (a plain object)', value: { $cel: 'x', other: 1 }, dynamic: false },
    { name: 'an array with one template inside', value: [1, ['a', '{{ b }}']], dynamic: true },
    { name: 'plain JSON', value: { a: [1, 'b', null, true] }, dynamic: false },
  ])('isDynamicValue: $name is $dynamic', ({ value: v, dynamic }) => {
    expect(isDynamicValue(v)).toBe(dynamic);
  });
});

describe('age() and now', () => {
  const at = '2026-11-26T10:00:00.000Z';
  it.each([
    ['2008-11-26', 18],
    ['2008-11-27', 17],
    ['1990-02-28', 36],
    ['2026-01-01', 0],
  ])('age("%s", now) is %i', (birthdate, expected) => {
    expect(evaluateCel('age(trigger.birthdate, now)', { trigger: { birthdate }, now: at })).toBe(expected);
  });

  it('accepts a timestamp birthdate and refuses text that is not a date', () => {
    expect(evaluateCel('age(timestamp("2000-06-15T00:00:00Z"), timestamp(now)) >= 18', { now: at })).toBe(true);
    expect(evaluateCel('timestamp(now) > timestamp("2026-01-01T00:00:00Z")', { now: at })).toBe(true);
    expect(() => evaluateCel('age("not a date", now)', { now: at })).toThrow(/not a date/);
  });

  it('is available to steps through the planner, from the workflow clock', () => {
    const definition = definitionSchema.parse({
      trigger: { type: 'api' },
      steps: [{ id: 'check', type: 'condition', routes: [{ when: 'age(trigger.birthdate, now) < 18', next: 'minor' }], default: 'adult' }, { id: 'minor', type: 'end' }, { id: 'adult', type: 'end' }],
    });
    const program = buildProgram(definition);
    const data = new RunData({ birthdate: '2010-05-01' }, { id: 'run_x', workflowId: 'w', version: 1, triggerType: 'api', startedAt: at });
    expect(planStep(program, 'check', data, Date.parse(at))).toMatchObject({ kind: 'condition', next: 'minor' });
    expect(planStep(program, 'check', data, Date.parse('2030-05-01T00:00:00Z'))).toMatchObject({ kind: 'condition', next: 'adult' });
  });
});
