/**
 * The planner as a table: each row is a step, the data of the run so far
 * (trigger payload, earlier steps' results, variables) and the clock, and
 * the command planStep must give for it, or the StepError it must throw,
 * plus where nextStepAfter goes once that command is done.
 */
import { definitionSchema } from '../../src/interpreter/definition';
import { FailureType, StepError } from '../../src/interpreter/errors';
import { eventMatches, itemResult, itemScope, nextStepAfter, planStep, type Command, type RunEvent } from '../../src/interpreter/planner';
import { buildProgram, type Program } from '../../src/interpreter/program';
import { RunData, type StepData } from '../../src/interpreter/run-data';

const NOW = Date.parse('2024-05-01T12:00:00.000Z');
const HOUR = 60 * 60 * 1000;

const RUN_META = { id: 'run_01', workflowId: 'kyc_review', version: 3, triggerType: 'api', startedAt: '2024-05-01T11:00:00.000Z' };

/** The planner reads only the shape of a definition, so rows hold the steps under test and nothing else. */
function programOf(steps: unknown[]): Program {
  return buildProgram(definitionSchema.parse({ trigger: { type: 'api' }, steps }));
}

interface RunSoFar {
  trigger?: unknown;
  steps?: Record<string, StepData>;
  vars?: Record<string, unknown>;
}

function runData({ trigger = {}, steps = {}, vars }: RunSoFar): RunData {
  const data = new RunData(trigger, RUN_META);
  for (const [id, step] of Object.entries(steps)) data.setStep(id, step);
  if (vars) data.mergeVars(vars);
  return data;
}

const applicant = {
  user: { id: 'usr_7', name: 'Ann Lee', email: 'ann@example.com' },
  count: 2,
  score: 0.72,
  inquiryId: 'inq_42',
  deadline: '2024-05-02T12:00:00Z',
  signedUpAt: '2024-04-30T00:00:00Z',
};

interface PlanRow {
  name: string;
  /** The step under test comes first; later ones only give it somewhere to go. */
  steps: unknown[];
  run?: RunSoFar;
  /** Plan inside a for_each item: the item's name, value and index are bound. */
  item?: { name: string; value: unknown; index: number };
  nowMs?: number;
  command: Command;
  next: string | null;
}

const planned: PlanRow[] = [
  // Actions: every kind of value, resolved.
  {
    name: 'action params from $cel, Liquid, $literal and plain JSON, nested in arrays and objects',
    steps: [
      {
        id: 'notify',
        type: 'action',
        action: 'send_email',
        params: {
          to: ['{{ trigger.user.email }}', { $cel: 'vars.manager' }],
          subject: 'Review {{ trigger.user.name }} ({{ steps.lookup.output.hits | size }} hits)',
          attempt: { $cel: 'trigger.count + 1' },
          body: { $literal: 'Use {{ name }} in the template' },
          raw: { $literal: { $cel: 'not evaluated' } },
          details: { score: { $cel: 'steps.lookup.output.score' }, hits: { $cel: 'steps.lookup.output.hits.map(h, h.list)' }, fixed: 7, urgent: true, note: null },
        },
        next: 'done',
      },
    ],
    run: {
      trigger: applicant,
      steps: { lookup: { status: 'completed', output: { score: 0.91, hits: [{ list: 'ofac' }, { list: 'pep' }] } } },
      vars: { manager: 'lead@example.com' },
    },
    command: {
      kind: 'action',
      stepId: 'notify',
      action: 'send_email',
      params: {
        to: ['ann@example.com', 'lead@example.com'],
        subject: 'Review Ann Lee (2 hits)',
        attempt: 3,
        body: 'Use {{ name }} in the template',
        raw: { $cel: 'not evaluated' },
        details: { score: 0.91, hits: ['ofac', 'pep'], fixed: 7, urgent: true, note: null },
      },
    },
    next: 'done',
  },
  {
    name: 'action params reading a failed step and the run itself',
    steps: [
      {
        id: 'report',
        type: 'action',
        action: 'log_message',
        params: { message: '{{ run.workflowId }} v{{ run.version }}: lookup {{ steps.lookup.status }}', level: { $cel: 'steps.lookup.error.type == "Timeout" ? "warn" : "error"' } },
      },
    ],
    run: { steps: { lookup: { status: 'failed', error: { type: 'Timeout', message: 'took too long' } } } },
    command: { kind: 'action', stepId: 'report', action: 'log_message', params: { message: 'kyc_review v3: lookup failed', level: 'warn' } },
    next: null,
  },

  // Conditions: decided here, in order.
  ...[
    { score: 0.95, route: 0 as const, label: 'sanctioned', next: 'decline' },
    { score: 0.72, route: 1 as const, label: 'risky', next: 'review' },
    { score: 0.1, route: 'default' as const, label: undefined, next: 'approve' },
  ].map(({ score, route, label, next }) => ({
    name: `a condition with score ${score} takes ${route === 'default' ? 'the default' : `route ${route}`} (the first true route wins)`,
    steps: [
      {
        id: 'route',
        type: 'condition',
        routes: [
          { when: 'trigger.score > 0.9 && vars.sanctions_checked', next: 'decline', label: 'sanctioned' },
          { when: 'trigger.score > 0.5', next: 'review', label: 'risky' },
          { when: 'trigger.score > 0.25', next: 'review', label: 'borderline' },
        ],
        default: 'approve',
      },
    ],
    run: { trigger: { score }, vars: { sanctions_checked: true } },
    command: { kind: 'condition' as const, stepId: 'route', route, label, next },
    next,
  })),
  {
    name: 'a condition comparing an int field with a double and reading earlier output',
    steps: [{ id: 'route', type: 'condition', routes: [{ when: 'steps.lookup.output.hits.size() >= 2 && trigger.count < 2.5', next: 'review' }], default: 'approve' }],
    run: { trigger: applicant, steps: { lookup: { status: 'completed', output: { hits: ['ofac', 'pep'] } } } },
    command: { kind: 'condition', stepId: 'route', route: 0, next: 'review' },
    next: 'review',
  },

  // Parallel: one branch record each, starts filled in.
  {
    name: 'a parallel step lists its branches with their graphs and starts',
    steps: [
      {
        id: 'checks',
        type: 'parallel',
        branches: [
          { id: 'watchlist', steps: [{ id: 'screen', type: 'action', action: 'screen', params: {} }] },
          {
            id: 'documents',
            continueOnError: true,
            start: 'verify_doc',
            steps: [
              { id: 'fetch_doc', type: 'action', action: 'fetch', params: {} },
              { id: 'verify_doc', type: 'action', action: 'verify', params: {}, next: 'fetch_doc' },
            ],
          },
        ],
        next: 'decide',
      },
    ],
    command: {
      kind: 'parallel',
      stepId: 'checks',
      branches: [
        { id: 'watchlist', graphId: 'checks.watchlist', start: 'screen', continueOnError: false },
        { id: 'documents', graphId: 'checks.documents', start: 'verify_doc', continueOnError: true },
      ],
    },
    next: 'decide',
  },

  // for_each: the list is evaluated once, defaults filled in.
  {
    name: 'a for_each over a list an earlier step gave, with its item name and concurrency',
    steps: [
      {
        id: 'screen_accounts',
        type: 'for_each',
        items: 'steps.lookup.output.accounts.map(a, a.id)',
        as: 'account',
        concurrency: 5,
        onItemError: 'continue',
        steps: [{ id: 'screen', type: 'action', action: 'screen', params: { account: { $cel: 'account' } } }],
        next: 'decide',
      },
    ],
    run: { steps: { lookup: { status: 'completed', output: { accounts: [{ id: 'acc_1' }, { id: 'acc_2' }] } } } },
    command: { kind: 'for_each', stepId: 'screen_accounts', items: ['acc_1', 'acc_2'], as: 'account', concurrency: 5, onItemError: 'continue', graphId: 'screen_accounts.each', start: 'screen' },
    next: 'decide',
  },
  {
    name: 'a for_each over a list literal: item is the default name, stop the default rule, an explicit start',
    steps: [
      {
        id: 'each',
        type: 'for_each',
        items: '[1, 2, 3]',
        concurrency: 1,
        start: 'second',
        steps: [
          { id: 'first', type: 'action', action: 'a', params: {} },
          { id: 'second', type: 'action', action: 'b', params: {}, next: 'first' },
        ],
      },
    ],
    command: { kind: 'for_each', stepId: 'each', items: [1, 2, 3], as: 'item', concurrency: 1, onItemError: 'stop', graphId: 'each.each', start: 'second' },
    next: null,
  },
  {
    name: 'a step inside a for_each item reads the item, its index and what ran before the loop',
    steps: [{ id: 'screen', type: 'action', action: 'screen', params: { who: '{{ account.name }} #{{ account_index }}', tier: { $cel: 'vars.tier' }, first: { $cel: 'account_index == 0' } } }],
    run: { vars: { tier: 'gold' } },
    item: { name: 'account', value: { name: 'Ann' }, index: 0 },
    command: { kind: 'action', stepId: 'screen', action: 'screen', params: { who: 'Ann #0', tier: 'gold', first: true } },
    next: null,
  },

  // Waits for events.
  {
    name: 'a wait for an event about the object an earlier step created',
    steps: [{ id: 'wait_inquiry', type: 'wait_for_event', events: ['inquiry.completed', 'inquiry.expired'], object: 'steps.create_inquiry.output.id', timeout: '7d', next: 'route' }],
    run: { steps: { create_inquiry: { status: 'completed', output: { id: 'inq_99' } } } },
    command: { kind: 'wait_for_event', stepId: 'wait_inquiry', events: ['inquiry.completed', 'inquiry.expired'], objectId: 'inq_99', timeoutMs: 7 * 24 * HOUR, onTimeout: 'continue', since: 'run_start' },
    next: 'route',
  },
  {
    name: 'a wait for an event about any object, failing on timeout',
    steps: [{ id: 'wait_any', type: 'wait_for_event', events: ['report/watchlist.ready'], timeout: '90s', onTimeout: 'fail' }],
    command: { kind: 'wait_for_event', stepId: 'wait_any', events: ['report/watchlist.ready'], objectId: null, timeoutMs: 90_000, onTimeout: 'fail', since: 'run_start' },
    next: null,
  },

  // Waits for time: the clock comes in as nowMs.
  {
    name: 'a wait for a duration counts from now',
    steps: [{ id: 'cool_off', type: 'wait_for_time', duration: '15m', next: 'retry' }],
    nowMs: NOW,
    command: { kind: 'wait_for_time', stepId: 'cool_off', delayMs: 15 * 60 * 1000, until: '2024-05-01T12:15:00.000Z' },
    next: 'retry',
  },
  {
    name: 'a wait until a timestamp string from the trigger',
    steps: [{ id: 'until_deadline', type: 'wait_for_time', until: 'trigger.deadline' }],
    run: { trigger: applicant },
    nowMs: NOW,
    command: { kind: 'wait_for_time', stepId: 'until_deadline', delayMs: 24 * HOUR, until: '2024-05-02T12:00:00.000Z' },
    next: null,
  },
  {
    name: 'a wait until a CEL timestamp computed from the trigger',
    steps: [{ id: 'grace', type: 'wait_for_time', until: 'timestamp(trigger.signedUpAt) + duration("72h")' }],
    run: { trigger: applicant },
    nowMs: NOW,
    command: { kind: 'wait_for_time', stepId: 'grace', delayMs: 36 * HOUR, until: '2024-05-03T00:00:00.000Z' },
    next: null,
  },
  {
    name: 'a wait until a time already past does not wait at all',
    steps: [{ id: 'late', type: 'wait_for_time', until: 'trigger.signedUpAt' }],
    run: { trigger: applicant },
    nowMs: NOW,
    command: { kind: 'wait_for_time', stepId: 'late', delayMs: 0, until: '2024-04-30T00:00:00.000Z' },
    next: null,
  },

  // Child runs.
  {
    name: 'a child run gets its input resolved and waits by default',
    steps: [{ id: 'manual', type: 'run_workflow', workflow: 'manual_review', input: { userId: { $cel: 'trigger.user.id' }, note: 'from {{ run.workflowId }}', tags: ['kyc', { $cel: 'vars.tier' }] }, next: 'route' }],
    run: { trigger: applicant, vars: { tier: 'gold' } },
    command: { kind: 'run_workflow', stepId: 'manual', workflow: 'manual_review', input: { userId: 'usr_7', note: 'from kyc_review', tags: ['kyc', 'gold'] }, wait: true },
    next: 'route',
  },
  {
    name: 'a child run started without waiting',
    steps: [{ id: 'audit', type: 'run_workflow', workflow: 'audit_trail', input: {}, wait: false }],
    command: { kind: 'run_workflow', stepId: 'audit', workflow: 'audit_trail', input: {}, wait: false },
    next: null,
  },

  // Ends.
  {
    name: 'an end renders its reason and resolves its output',
    steps: [
      {
        id: 'decline',
        type: 'end',
        outcome: 'failed',
        reason: 'declined {{ trigger.user.name }}: score {{ trigger.score }}',
        output: { decision: 'decline', score: { $cel: 'trigger.score' }, reviewer: { $cel: 'steps.manual.output.reviewer' } },
      },
    ],
    run: { trigger: applicant, steps: { manual: { status: 'completed', output: { reviewer: 'rita' } } } },
    command: { kind: 'end', stepId: 'decline', outcome: 'failed', reason: 'declined Ann Lee: score 0.72', output: { decision: 'decline', score: 0.72, reviewer: 'rita' } },
    next: null,
  },
  {
    name: 'a bare end succeeds with no reason and no output',
    steps: [{ id: 'done', type: 'end' }],
    command: { kind: 'end', stepId: 'done', outcome: 'succeeded' },
    next: null,
  },
];

describe('planStep and nextStepAfter', () => {
  test.each(planned)('$name', ({ steps, run = {}, item, nowMs = NOW, command, next }) => {
    const program = programOf(steps);
    const stepId = (steps[0] as { id: string }).id;
    const data = item ? runData(run).fork({ [item.name]: item.value, [`${item.name}_index`]: item.index }) : runData(run);
    const actual = planStep(program, stepId, data, nowMs);
    expect(actual).toEqual(command);
    expect(nextStepAfter(program, actual)).toBe(next);
  });
});

interface FailureRow {
  name: string;
  steps: unknown[];
  stepId?: string;
  run?: RunSoFar;
  message: RegExp;
}

const failures: FailureRow[] = [
  {
    name: 'a condition that gives a string instead of a bool',
    steps: [{ id: 'route', type: 'condition', routes: [{ when: 'trigger.score > 0.9', next: 'decline' }, { when: 'trigger.tier', next: 'review' }], default: 'approve' }],
    run: { trigger: { score: 0.2, tier: 'gold' } },
    message: /routes\[1\]\.when must be true or false, got "gold"/,
  },
  {
    name: 'a condition reading a key the trigger lacks',
    steps: [{ id: 'route', type: 'condition', routes: [{ when: 'trigger.country == "DE"', next: 'review' }], default: 'approve' }],
    run: { trigger: { score: 0.2 } },
    message: /routes\[0\]\.when: No such key: country/,
  },
  {
    name: 'a $cel param reading a step that has not run',
    steps: [{ id: 'notify', type: 'action', action: 'log_message', params: { message: { $cel: 'steps.lookup.output.summary' } } }],
    message: /^params: No such key: lookup/,
  },
  {
    name: 'a $cel param adding a double to an int',
    steps: [{ id: 'bump', type: 'action', action: 'set_variables', params: { variables: { next: { $cel: 'trigger.score + 1' } } } }],
    run: { trigger: { score: 0.5 } },
    message: /^params: no such overload/,
  },
  {
    name: 'a child input dividing by zero',
    steps: [{ id: 'child', type: 'run_workflow', workflow: 'x', input: { ratio: { $cel: 'trigger.count / 0' } } }],
    run: { trigger: { count: 3 } },
    message: /^input: division by zero/,
  },
  {
    name: 'an end output reading a missing variable',
    steps: [{ id: 'done', type: 'end', output: { tier: { $cel: 'vars.tier' } } }],
    message: /^output: No such key: tier/,
  },
  {
    name: 'a wait whose object is not a string',
    steps: [{ id: 'wait_inquiry', type: 'wait_for_event', events: ['inquiry.completed'], object: 'trigger.count', timeout: '1d' }],
    run: { trigger: { count: 2 } },
    message: /object must give an object id \(a string\), got 2/,
  },
  {
    name: 'a wait whose object is an empty string',
    steps: [{ id: 'wait_inquiry', type: 'wait_for_event', events: ['inquiry.completed'], object: 'trigger.inquiryId', timeout: '1d' }],
    run: { trigger: { inquiryId: '' } },
    message: /object must give an object id/,
  },
  {
    name: 'a wait until something that is not a timestamp',
    steps: [{ id: 'later', type: 'wait_for_time', until: 'trigger.when' }],
    run: { trigger: { when: 'next tuesday-ish' } },
    message: /until must give a timestamp, got "next tuesday-ish"/,
  },
  {
    name: 'for_each items that are not a list',
    steps: [{ id: 'each', type: 'for_each', items: 'trigger.accounts', concurrency: 2, steps: [{ id: 'x', type: 'action', action: 'a', params: {} }] }],
    run: { trigger: { accounts: 'acc_1' } },
    message: /items must give a list, got "acc_1"/,
  },
  {
    name: 'for_each items over the limit',
    steps: [{ id: 'each', type: 'for_each', items: 'trigger.ids', concurrency: 2, steps: [{ id: 'x', type: 'action', action: 'a', params: {} }] }],
    run: { trigger: { ids: Array.from({ length: 10_001 }, (_, i) => i) } },
    message: /items gave 10001 items; a for_each takes at most 10000/,
  },
  {
    name: 'a step that is not in the definition',
    steps: [{ id: 'done', type: 'end' }],
    stepId: 'ghost',
    message: /no step "ghost"/,
  },
];

describe('for_each items', () => {
  const program = programOf([
    {
      id: 'each',
      type: 'for_each',
      items: 'trigger.accounts',
      as: 'account',
      concurrency: 2,
      steps: [{ id: 'screen', type: 'action', action: 'set_variables', params: { variables: {} } }],
      result: { id: { $cel: 'account.id' }, at: { $cel: 'account_index' }, hits: { $cel: 'steps.screen.output.hits' } },
    },
    { id: 'plain', type: 'for_each', items: 'trigger.accounts', concurrency: 2, steps: [{ id: 'plain_step', type: 'action', action: 'set_variables', params: { variables: {} } }] },
  ]);
  const command = planStep(program, 'each', runData({ trigger: { accounts: [{ id: 'acc_1' }, { id: 'acc_2' }] } }), NOW) as Extract<Command, { kind: 'for_each' }>;

  test('an item is bound under the loop’s name, with its index', () => {
    expect(itemScope(command, { id: 'acc_2' }, 1)).toEqual({ account: { id: 'acc_2' }, account_index: 1 });
  });

  test('an item’s result is the loop’s result value, resolved in the item’s scope', () => {
    const data = runData({}).fork(itemScope(command, { id: 'acc_2' }, 1));
    data.setStep('screen', { status: 'completed', output: { hits: 3 } });
    expect(itemResult(program, 'each', data, { ignored: true })).toEqual({ id: 'acc_2', at: 1, hits: 3 });
  });

  test('without a result value, an item’s result is its last step’s output (null when there is none)', () => {
    expect(itemResult(program, 'plain', runData({}), { hits: 1 })).toEqual({ hits: 1 });
    expect(itemResult(program, 'plain', runData({}), undefined)).toBeNull();
  });

  test('what an item does stays in the item: its steps and variables do not reach the run or other items', () => {
    const run = runData({ vars: { tier: 'gold' }, steps: { lookup: { status: 'completed', output: { n: 1 } } } });
    const first = run.fork({ item: 1, item_index: 0 });
    const second = run.fork({ item: 2, item_index: 1 });
    first.setStep('screen', { status: 'completed', output: { mine: true } });
    first.mergeVars({ tier: 'silver' });
    expect(second.scope().json).toMatchObject({ item: 2, vars: { tier: 'gold' }, steps: { lookup: { status: 'completed' } } });
    expect(second.scope().json.steps).not.toHaveProperty('screen');
    expect(run.scope().json).not.toHaveProperty('item');
    expect(run.scope().json.vars).toEqual({ tier: 'gold' });
  });

  test('a snapshot restores to the same data, an item’s names included', () => {
    const item = runData({ trigger: { a: 1 }, vars: { v: 2.5 }, steps: { s: { status: 'failed', error: { type: 'X', message: 'm' } } } }).fork({ item: { n: 3 }, item_index: 4 });
    const restored = RunData.restore(JSON.parse(JSON.stringify(item.snapshot())));
    expect(restored.scope().json).toEqual(item.scope().json);
    const program2 = programOf([{ id: 'echo', type: 'end', output: { $cel: 'item.n + item_index + trigger.a' } }]);
    expect(planStep(program2, 'echo', restored, NOW)).toMatchObject({ output: 8 });
  });
});

describe('RunData', () => {
  test('later variables override earlier ones, for CEL and Liquid alike', () => {
    const program = programOf([{ id: 'echo', type: 'action', action: 'set_variables', params: { variables: { tier: { $cel: 'vars.tier' }, both: '{{ vars.first }}+{{ vars.tier }}', n: { $cel: 'vars.n + 1' } } } }]);
    const data = runData({});
    data.mergeVars({ tier: 'basic', first: 'a', n: 1 });
    data.mergeVars({ tier: 'gold', n: 41 });
    expect(planStep(program, 'echo', data, NOW)).toEqual({ kind: 'action', stepId: 'echo', action: 'set_variables', params: { variables: { tier: 'gold', both: 'a+gold', n: 42 } } });
  });

  test('a step run again replaces its earlier result', () => {
    const program = programOf([{ id: 'echo', type: 'end', output: { $cel: 'steps.poll.output.round' }, reason: 'round {{ steps.poll.output.round }}' }]);
    const data = runData({ steps: { poll: { status: 'completed', output: { round: 1 } } } });
    data.setStep('poll', { status: 'completed', output: { round: 2 } });
    expect(planStep(program, 'echo', data, NOW)).toEqual({ kind: 'end', stepId: 'echo', outcome: 'succeeded', reason: 'round 2', output: 2 });
  });
});

describe('planStep failures', () => {
  test.each(failures)('$name is an ExpressionError of that step', ({ steps, stepId, run = {}, message }) => {
    const program = programOf(steps);
    const id = stepId ?? (steps[0] as { id: string }).id;
    let thrown: unknown;
    try {
      planStep(program, id, runData(run), NOW);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(StepError);
    expect(thrown).toMatchObject({ type: FailureType.Expression, stepId: id });
    expect((thrown as StepError).message).toMatch(message);
  });
});

describe('eventMatches', () => {
  const waitSteps = [
    {
      id: 'wait_inquiry',
      type: 'wait_for_event',
      events: ['inquiry.completed', 'inquiry.expired'],
      object: 'trigger.inquiryId',
      match: 'event.type == "inquiry.expired" || (event.data.status == "approved" && event.data.reviewer != vars.requester)',
      timeout: '7d',
    },
    { id: 'wait_any', type: 'wait_for_event', events: ['report/watchlist.ready'], timeout: '1h' },
    { id: 'wait_status', type: 'wait_for_event', events: ['inquiry.completed'], match: 'event.data.status', timeout: '1h' },
  ];
  const program = programOf(waitSteps);
  const run: RunSoFar = { trigger: { inquiryId: 'inq_42' }, vars: { requester: 'sam' } };

  const event = (overrides: Partial<RunEvent>): RunEvent => ({
    id: 'evt_1',
    type: 'inquiry.completed',
    objectId: 'inq_42',
    objectType: 'inquiry',
    data: { status: 'approved', reviewer: 'rita' },
    ...overrides,
  });

  const rows: { name: string; stepId: string; event: RunEvent; matches: boolean }[] = [
    { name: 'the right type, object and data', stepId: 'wait_inquiry', event: event({}), matches: true },
    { name: 'the other listed type, whatever the data', stepId: 'wait_inquiry', event: event({ type: 'inquiry.expired', data: {} }), matches: true },
    { name: 'a type the wait does not list', stepId: 'wait_inquiry', event: event({ type: 'inquiry.created' }), matches: false },
    { name: 'another object', stepId: 'wait_inquiry', event: event({ objectId: 'inq_43' }), matches: false },
    { name: 'no object at all', stepId: 'wait_inquiry', event: event({ objectId: undefined }), matches: false },
    { name: 'data the match rejects', stepId: 'wait_inquiry', event: event({ data: { status: 'declined', reviewer: 'rita' } }), matches: false },
    { name: 'a match that reads run variables', stepId: 'wait_inquiry', event: event({ data: { status: 'approved', reviewer: 'sam' } }), matches: false },
    { name: 'any object when the wait names none', stepId: 'wait_any', event: event({ type: 'report/watchlist.ready', objectId: 'rep_1' }), matches: true },
    { name: 'a type mismatch when the wait names no object', stepId: 'wait_any', event: event({ type: 'report/watchlist.failed' }), matches: false },
    { name: 'a match that is not a bool counts as no match', stepId: 'wait_status', event: event({}), matches: false },
  ];

  test.each(rows)('$name: $matches', ({ stepId, event: incoming, matches }) => {
    const data = runData(run);
    const command = planStep(program, stepId, data, NOW);
    if (command.kind !== 'wait_for_event') throw new Error(`expected a wait, got ${command.kind}`);
    expect(eventMatches(program, command, data, incoming)).toBe(matches);
  });

  test('a match that fails to evaluate is an ExpressionError of the wait', () => {
    const data = runData(run);
    const command = planStep(program, 'wait_inquiry', data, NOW) as Extract<Command, { kind: 'wait_for_event', since: 'run_start' }>;
    expect(() => eventMatches(program, command, data, event({ data: { reviewer: 'rita' } }))).toThrow(
      expect.objectContaining({ name: 'StepError', type: FailureType.Expression, stepId: 'wait_inquiry', message: expect.stringMatching(/^match: No such key: status/) }),
    );
  });

  test('the event is seen only by the match, not by later steps', () => {
    const data = runData(run);
    const command = planStep(program, 'wait_inquiry', data, NOW) as Extract<Command, { kind: 'wait_for_event', since: 'run_start' }>;
    expect(eventMatches(program, command, data, event({}))).toBe(true);
    expect(data.scope().json).not.toHaveProperty('event');
    expect(data.scope().cel).not.toHaveProperty('event');
  });
});
