/**
 * RunStateTracker as a table: each row is the sequence of calls the workflow
 * makes (a second apart) and the run state that must come out: the run's
 * status, the steps current now, and the state of the steps that matter.
 */
import { definitionSchema } from '../../src/interpreter/definition';
import { ItemLedger, RunStateTracker, initialRunState, type RunStatus, type StepFailure, type StepState } from '../../src/interpreter/run-state';

const definition = definitionSchema.parse({
  trigger: { type: 'api' },
  steps: [
    { id: 'collect', type: 'action', action: 'set_variables', params: { variables: {} }, next: 'checks' },
    {
      id: 'checks',
      type: 'parallel',
      branches: [
        {
          id: 'watchlist',
          steps: [
            { id: 'screen', type: 'action', action: 'log_message', params: { message: 'screening' }, next: 'wait_report' },
            { id: 'wait_report', type: 'wait_for_event', events: ['report/watchlist.ready'], timeout: '1d' },
          ],
        },
        { id: 'cooldown', steps: [{ id: 'pause', type: 'wait_for_time', duration: '1h' }] },
      ],
      next: 'review',
    },
    { id: 'review', type: 'run_workflow', workflow: 'manual_review', next: 'done' },
    { id: 'done', type: 'end' },
  ],
});

const START = Date.parse('2024-05-01T12:00:00.000Z');
/** The time of the i-th call in a row. */
const at = (i: number): string => new Date(START + i * 1000).toISOString();

type Call =
  | { start: string; waitingFor?: string }
  | { complete: string; output?: unknown }
  | { fail: string; error: StepFailure }
  | { cancel: string }
  | { attempt: string; n: number; lastError?: StepFailure }
  | { handled: string; next: string }
  | { progress: string; total: number; completed: number; failed: number }
  | { queue: string }
  | { dequeue: true }
  | { close: 'completed' | 'failed' | 'cancelled' };

function play(calls: Call[]): RunStateTracker {
  const tracker = new RunStateTracker(initialRunState('run_01', 'kyc_review', 3, definition, at(0)));
  calls.forEach((call, i) => {
    const when = at(i + 1);
    if ('start' in call) {
      if (call.waitingFor !== undefined) tracker.start(call.start, when, 'waiting', call.waitingFor);
      else tracker.start(call.start, when);
    } else if ('complete' in call) tracker.complete(call.complete, when, call.output);
    else if ('fail' in call) tracker.fail(call.fail, when, call.error);
    else if ('cancel' in call) tracker.cancel(call.cancel, when);
    else if ('attempt' in call) tracker.attempt(call.attempt, call.n, call.lastError);
    else if ('handled' in call) tracker.handled(call.handled, call.next);
    else if ('progress' in call) tracker.progress(call.progress, { total: call.total, completed: call.completed, failed: call.failed });
    else if ('queue' in call) tracker.queue(call.queue);
    else if ('dequeue' in call) tracker.dequeue();
    else tracker.close(when, call.close);
  });
  return tracker;
}

const timeout: StepFailure = { type: 'ActionFailed', message: 'smtp down' };

interface Row {
  name: string;
  calls: Call[];
  status: RunStatus;
  current: string[];
  steps: Record<string, Partial<StepState>>;
  endedAt?: string;
}

const rows: Row[] = [
  {
    name: 'nothing has happened yet',
    calls: [],
    status: 'running',
    current: [],
    steps: { collect: { status: 'pending', runs: 0 }, wait_report: { status: 'pending', runs: 0 }, done: { status: 'pending', runs: 0 } },
  },
  {
    name: 'a step starts',
    calls: [{ start: 'collect' }],
    status: 'running',
    current: ['collect'],
    steps: { collect: { status: 'running', runs: 1, startedAt: at(1), endedAt: undefined } },
  },
  {
    name: 'a step completes with its output',
    calls: [{ start: 'collect' }, { complete: 'collect', output: { tier: 'gold' } }],
    status: 'running',
    current: [],
    steps: { collect: { status: 'completed', runs: 1, startedAt: at(1), endedAt: at(2), output: { tier: 'gold' } } },
  },
  {
    name: 'a step fails with its error',
    calls: [{ start: 'collect' }, { fail: 'collect', error: timeout }],
    status: 'running',
    current: [],
    steps: { collect: { status: 'failed', endedAt: at(2), error: timeout, output: undefined } },
  },
  {
    name: 'a step is cancelled',
    calls: [{ start: 'collect' }, { cancel: 'collect' }],
    status: 'running',
    current: [],
    steps: { collect: { status: 'cancelled', endedAt: at(2) } },
  },
  {
    name: 'the only current step waits, so the run waits',
    calls: [{ start: 'collect' }, { complete: 'collect' }, { start: 'review', waitingFor: 'child run of manual_review' }],
    status: 'waiting',
    current: ['review'],
    steps: { review: { status: 'waiting', runs: 1, waitingFor: 'child run of manual_review' } },
  },
  {
    name: 'the run runs again once its wait is over',
    calls: [{ start: 'review', waitingFor: 'child run of manual_review' }, { complete: 'review', output: { approved: true } }, { start: 'done' }],
    status: 'running',
    current: ['done'],
    steps: { review: { status: 'completed', waitingFor: undefined, output: { approved: true } } },
  },
  {
    name: 'one branch waits while another runs, so the run runs',
    calls: [{ start: 'checks' }, { start: 'screen' }, { start: 'pause', waitingFor: 'the time 2024-05-01T13:00:00.000Z' }],
    status: 'running',
    current: ['checks', 'screen', 'pause'],
    steps: { checks: { status: 'running' }, screen: { status: 'running' }, pause: { status: 'waiting' } },
  },
  {
    name: 'every branch of a parallel step waits, so the run waits',
    calls: [
      { start: 'checks' },
      { start: 'screen' },
      { start: 'pause', waitingFor: 'the time 2024-05-01T13:00:00.000Z' },
      { complete: 'screen' },
      { start: 'wait_report', waitingFor: 'report/watchlist.ready' },
    ],
    status: 'waiting',
    current: ['checks', 'pause', 'wait_report'],
    steps: { screen: { status: 'completed' }, pause: { status: 'waiting' }, wait_report: { status: 'waiting', waitingFor: 'report/watchlist.ready' } },
  },
  {
    name: 'a parallel step with only its finished branches left runs on',
    calls: [{ start: 'checks' }, { start: 'pause', waitingFor: 'the time' }, { complete: 'pause' }],
    status: 'running',
    current: ['checks'],
    steps: { checks: { status: 'running' }, pause: { status: 'completed' } },
  },
  {
    name: 'a step run again in a loop starts afresh and counts its runs',
    calls: [{ start: 'collect' }, { fail: 'collect', error: timeout }, { start: 'collect' }],
    status: 'running',
    current: ['collect'],
    steps: { collect: { status: 'running', runs: 2, startedAt: at(3), endedAt: undefined, error: undefined } },
  },
  {
    name: 'closing skips steps never reached and cancels steps in flight',
    calls: [
      { start: 'collect' },
      { complete: 'collect', output: { tier: 'gold' } },
      { start: 'checks' },
      { start: 'screen' },
      { start: 'pause', waitingFor: 'the time 2024-05-01T13:00:00.000Z' },
      { close: 'cancelled' },
    ],
    status: 'cancelled',
    current: [],
    endedAt: at(6),
    steps: {
      collect: { status: 'completed', endedAt: at(2), output: { tier: 'gold' } },
      checks: { status: 'cancelled', endedAt: at(6) },
      screen: { status: 'cancelled', endedAt: at(6) },
      pause: { status: 'cancelled', endedAt: at(6), waitingFor: undefined },
      wait_report: { status: 'skipped', runs: 0, endedAt: undefined },
      review: { status: 'skipped', runs: 0 },
      done: { status: 'skipped', runs: 0 },
    },
  },
  {
    name: 'closing keeps failed and completed steps as they were',
    calls: [{ start: 'collect' }, { complete: 'collect' }, { start: 'checks' }, { start: 'screen' }, { fail: 'screen', error: timeout }, { fail: 'checks', error: timeout }, { close: 'failed' }],
    status: 'failed',
    current: [],
    endedAt: at(7),
    steps: { collect: { status: 'completed', endedAt: at(2) }, screen: { status: 'failed', endedAt: at(5), error: timeout }, checks: { status: 'failed', endedAt: at(6) }, pause: { status: 'skipped' } },
  },
  {
    name: 'an action retried twice shows its attempt and the error before it',
    calls: [{ start: 'collect' }, { attempt: 'collect', n: 1 }, { attempt: 'collect', n: 2, lastError: timeout }, { attempt: 'collect', n: 3, lastError: timeout }, { complete: 'collect', output: { ok: true } }],
    status: 'running',
    current: [],
    steps: { collect: { status: 'completed', attempts: 3, lastError: timeout, output: { ok: true } } },
  },
  {
    name: "a new round of a step forgets the last round's attempts, error route and progress",
    calls: [{ start: 'collect' }, { attempt: 'collect', n: 2, lastError: timeout }, { fail: 'collect', error: timeout }, { handled: 'collect', next: 'done' }, { start: 'collect' }],
    status: 'running',
    current: ['collect'],
    steps: { collect: { status: 'running', runs: 2, attempts: undefined, lastError: undefined, handledBy: undefined, error: undefined } },
  },
  {
    name: 'a failed step whose catch route was taken says where the run went',
    calls: [{ start: 'review', waitingFor: 'child run of manual_review' }, { fail: 'review', error: timeout }, { handled: 'review', next: 'done' }, { start: 'done' }],
    status: 'running',
    current: ['done'],
    steps: { review: { status: 'failed', error: timeout, handledBy: 'done' } },
  },
  {
    name: 'a for_each shows its progress',
    calls: [{ start: 'collect' }, { progress: 'collect', total: 10, completed: 4, failed: 1 }],
    status: 'running',
    current: ['collect'],
    steps: { collect: { status: 'running', progress: { total: 10, completed: 4, failed: 1 } } },
  },
  {
    name: 'a run queued for its concurrency key stays queued, then runs',
    calls: [{ queue: 'a free slot of concurrency key "acc_1"' }],
    status: 'queued',
    current: [],
    steps: { collect: { status: 'pending' } },
  },
  {
    name: 'a dequeued run runs its first step',
    calls: [{ queue: 'a slot' }, { dequeue: true }, { start: 'collect' }],
    status: 'running',
    current: ['collect'],
    steps: { collect: { status: 'running' } },
  },
  {
    name: 'a run cancelled while queued',
    calls: [{ queue: 'a slot' }, { close: 'cancelled' }],
    status: 'cancelled',
    current: [],
    endedAt: at(2),
    steps: { collect: { status: 'skipped' }, done: { status: 'skipped' } },
  },
  {
    // Cancellation closes the run, then reaches the steps that were waiting.
    name: 'a closed run keeps its status when a step is cancelled after it',
    calls: [{ start: 'review', waitingFor: 'child run of manual_review' }, { close: 'cancelled' }, { cancel: 'review' }],
    status: 'cancelled',
    current: [],
    endedAt: at(2),
    steps: { review: { status: 'cancelled', waitingFor: undefined }, done: { status: 'skipped' } },
  },
];

describe('RunStateTracker', () => {
  test('the initial state lists every step, branches included, in definition order', () => {
    const state = initialRunState('run_01', 'kyc_review', 3, definition, at(0));
    expect(state).toEqual({
      runId: 'run_01',
      workflowId: 'kyc_review',
      version: 3,
      status: 'running',
      startedAt: at(0),
      current: [],
      steps: [
        { id: 'collect', type: 'action', action: 'set_variables', status: 'pending', runs: 0 },
        { id: 'checks', type: 'parallel', status: 'pending', runs: 0 },
        { id: 'screen', type: 'action', action: 'log_message', status: 'pending', runs: 0 },
        { id: 'wait_report', type: 'wait_for_event', status: 'pending', runs: 0 },
        { id: 'pause', type: 'wait_for_time', status: 'pending', runs: 0 },
        { id: 'review', type: 'run_workflow', status: 'pending', runs: 0 },
        { id: 'done', type: 'end', status: 'pending', runs: 0 },
      ],
    });
  });

  test.each(rows)('$name', ({ calls, status, current, steps, endedAt }) => {
    const tracker = play(calls);
    expect(tracker.state.status).toBe(status);
    expect(tracker.state.current).toEqual(current);
    expect(tracker.state.endedAt).toBe(endedAt);
    for (const [id, expected] of Object.entries(steps)) {
      const actual = tracker.step(id);
      // toMatchObject skips keys whose expected value is undefined, so check those by hand.
      expect(actual).toMatchObject(Object.fromEntries(Object.entries(expected).filter(([, v]) => v !== undefined)));
      for (const [key, value] of Object.entries(expected)) if (value === undefined) expect(actual[key as keyof StepState]).toBeUndefined();
    }
  });

  test('asking for a step the run does not have throws', () => {
    expect(() => play([]).step('ghost')).toThrow('no step ghost');
  });

  test('queuedFor is shown while queued and gone once the run runs or ends', () => {
    expect(play([{ queue: 'a slot' }]).state.queuedFor).toBe('a slot');
    expect(play([{ queue: 'a slot' }, { dequeue: true }]).state.queuedFor).toBeUndefined();
    expect(play([{ queue: 'a slot' }, { close: 'cancelled' }]).state.queuedFor).toBeUndefined();
  });

  test('steps inside a for_each are not listed: the loop shows them as progress', () => {
    const withLoop = definitionSchema.parse({
      trigger: { type: 'api' },
      steps: [
        { id: 'each', type: 'for_each', items: '[1]', concurrency: 1, steps: [{ id: 'inner', type: 'action', action: 'log_message', params: { message: 'x' } }], next: 'done' },
        { id: 'done', type: 'end' },
      ],
    });
    expect(initialRunState('run_01', 'w', 1, withLoop, at(0)).steps.map((s) => s.id)).toEqual(['each', 'done']);
  });
});

describe('ItemLedger', () => {
  test('counts rounds and activity per step of one item, and shows nothing', () => {
    const ledger = new ItemLedger();
    expect(ledger.runs('check')).toBe(0);
    ledger.start('check', at(1));
    expect(ledger.isActive('check')).toBe(true);
    expect(ledger.startedAt('check')).toBe(at(1));
    ledger.complete('check');
    expect(ledger.isActive('check')).toBe(false);
    ledger.start('check', at(2));
    ledger.fail('check');
    expect(ledger.runs('check')).toBe(2);
    expect(ledger.startedAt('check')).toBe(at(2));
  });
});
