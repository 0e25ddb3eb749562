/**
 * Failure handling as tables: which catch route a failure takes, which
 * error names a step can be caught by, an action step's effective retry
 * policy (the action's, overridden by the step), and the waits between
 * attempts.
 */
import { definitionSchema, type ActionStep, type Step } from '../../src/interpreter/definition';
import { FailureType } from '../../src/interpreter/errors';
import { catchRouteFor, errorNameMatches, knownErrorTypes, retryDelayMs, shouldRetry, stepRetryPolicy, type FailureFacts } from '../../src/interpreter/failures';
import type { ActionPolicy } from '../../src/interpreter/actions';
import { ActionRegistry } from '../../src/activities/registry';

const step = (raw: unknown): Step => definitionSchema.parse({ trigger: { type: 'api' }, steps: [raw] }).steps[0];

const vendorCall = step({
  id: 'call_vendor',
  type: 'action',
  action: 'log_message',
  params: { message: 'x' },
  catch: [
    { errors: ['timeout'], next: 'too_slow' },
    { errors: ['non_retryable'], next: 'refused' },
    { errors: ['VendorBusy', 'ActionFailed'], next: 'vendor_problem' },
    { next: 'anything_else' },
  ],
});

describe('catchRouteFor', () => {
  const rows: { name: string; failure: FailureFacts; next: string | null; index?: number }[] = [
    { name: 'a timeout takes the timeout route', failure: { type: FailureType.Timeout, nonRetryable: false }, next: 'too_slow', index: 0 },
    { name: 'a non-retryable error takes the non_retryable route, whatever its type', failure: { type: 'VendorBusy', nonRetryable: true }, next: 'refused', index: 1 },
    { name: 'an error by its type', failure: { type: 'VendorBusy', nonRetryable: false }, next: 'vendor_problem', index: 2 },
    { name: 'the second type of a route', failure: { type: 'ActionFailed', nonRetryable: false }, next: 'vendor_problem', index: 2 },
    { name: 'any other error takes the route without errors', failure: { type: 'ExpressionError', nonRetryable: false }, next: 'anything_else', index: 3 },
  ];
  test.each(rows)('$name', ({ failure, next, index }) => {
    const route = catchRouteFor(vendorCall, failure);
    expect(route?.next ?? null).toBe(next);
    if (index !== undefined) expect(route?.index).toBe(index);
  });

  test('a step without catch routes: the failure stands', () => {
    expect(catchRouteFor(step({ id: 'a', type: 'action', action: 'log_message', params: { message: 'x' } }), { type: 'X', nonRetryable: true })).toBeNull();
  });

  test('no route matches: the failure stands', () => {
    const narrow = step({ id: 'a', type: 'run_workflow', workflow: 'w', catch: [{ errors: ['timeout'], next: 'b' }] });
    expect(catchRouteFor(narrow, { type: FailureType.ChildRunFailed, nonRetryable: false })).toBeNull();
  });

  test.each([
    ['timeout', { type: 'Timeout', nonRetryable: false }, true],
    ['timeout', { type: 'WaitTimedOut', nonRetryable: false }, false],
    ['non_retryable', { type: 'ObjectNotFound', nonRetryable: true }, true],
    ['non_retryable', { type: 'Timeout', nonRetryable: false }, false],
    ['ObjectNotFound', { type: 'ObjectNotFound', nonRetryable: true }, true],
    ['objectnotfound', { type: 'ObjectNotFound', nonRetryable: true }, false],
  ] as const)('errorNameMatches(%s, %j) is %s', (name, failure, expected) => {
    expect(errorNameMatches(name, failure)).toBe(expected);
  });
});

describe('knownErrorTypes', () => {
  const catalog = new ActionRegistry().catalog;
  test.each([
    ['an action: the built-in types and its non-retryable ones', { id: 'a', type: 'action', action: 'log_message', params: { message: 'x' } }, ['ActionFailed', 'ExpressionError', 'InvalidActionParams', 'Timeout', 'UnknownAction']],
    ['a parallel step', { id: 'p', type: 'parallel', branches: [{ id: 'x', steps: [{ id: 'x1', type: 'wait_for_time', duration: '1s' }] }, { id: 'y', steps: [{ id: 'y1', type: 'wait_for_time', duration: '1s' }] }] }, ['BranchFailed', 'ExpressionError', 'Timeout']],
    ['a for_each', { id: 'f', type: 'for_each', items: '[]', concurrency: 1, steps: [{ id: 'f1', type: 'wait_for_time', duration: '1s' }] }, ['ExpressionError', 'ItemFailed', 'Timeout']],
    ['a run_workflow step', { id: 'r', type: 'run_workflow', workflow: 'w' }, ['ChildRunFailed', 'ChildWorkflowError', 'ExpressionError', 'Timeout']],
  ])('%s', (_name, raw, expected) => {
    expect([...knownErrorTypes(step(raw), catalog)!].sort()).toEqual(expected);
  });

  test('an action that declares its own error types', () => {
    const registry = ActionRegistry.with([
      {
        name: 'call_vendor',
        title: 't',
        description: 'd',
        params: definitionSchema,
        policy: { startToCloseTimeout: '5s', retry: { maximumAttempts: 3, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', nonRetryableErrorTypes: ['VendorRejected'] } },
        errorTypes: ['VendorBusy'],
        run: async () => undefined,
      },
    ]);
    const known = knownErrorTypes(step({ id: 'a', type: 'action', action: 'call_vendor' }), registry.catalog)!;
    expect(known.has('VendorRejected')).toBe(true);
    expect(known.has('VendorBusy')).toBe(true);
  });

  test('an unknown action: null (reported as unknown_action instead)', () => {
    expect(knownErrorTypes(step({ id: 'a', type: 'action', action: 'send_fax' }), catalog)).toBeNull();
  });
});

describe('stepRetryPolicy and the waits between attempts', () => {
  const action: ActionPolicy = {
    startToCloseTimeout: '30s',
    retry: { maximumAttempts: 5, initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '2s', nonRetryableErrorTypes: ['InvalidActionParams'] },
  };
  const actionStep = (overrides: Partial<ActionStep>): ActionStep => ({ id: 'a', type: 'action', action: 'x', params: {}, ...overrides });

  test.each([
    {
      name: "the action's policy when the step says nothing",
      step: {},
      policy: { maximumAttempts: 5, initialIntervalMs: 200, backoffCoefficient: 2, maximumIntervalMs: 2000, nonRetryableErrorTypes: ['InvalidActionParams'], startToCloseMs: 30_000, scheduleToCloseMs: undefined },
    },
    {
      name: 'the step overrides field by field; its non-retryable types add to the action’s',
      step: { retry: { attempts: 3, backoff: 1, nonRetryable: ['VendorRejected'] }, timeout: '5s', deadline: '1m' },
      policy: { maximumAttempts: 3, initialIntervalMs: 200, backoffCoefficient: 1, maximumIntervalMs: 2000, nonRetryableErrorTypes: ['InvalidActionParams', 'VendorRejected'], startToCloseMs: 5000, scheduleToCloseMs: 60_000 },
    },
    {
      name: 'intervals from the step',
      step: { retry: { initialInterval: '1s', maximumInterval: '1m' } },
      policy: { initialIntervalMs: 1000, maximumIntervalMs: 60_000 },
    },
  ])('$name', ({ step: overrides, policy }) => {
    expect(stepRetryPolicy(action, actionStep(overrides))).toMatchObject(policy);
  });

  test("Temporal's unlimited attempts (0) become the step maximum of 100", () => {
    expect(stepRetryPolicy({ ...action, retry: { ...action.retry, maximumAttempts: 0 } }, actionStep({})).maximumAttempts).toBe(100);
  });

  test('the wait grows by the backoff up to the maximum', () => {
    const policy = stepRetryPolicy(action, actionStep({}));
    expect([1, 2, 3, 4, 5, 6].map((n) => retryDelayMs(policy, n))).toEqual([200, 400, 800, 1600, 2000, 2000]);
    const constant = stepRetryPolicy(action, actionStep({ retry: { backoff: 1 } }));
    expect([1, 2, 3].map((n) => retryDelayMs(constant, n))).toEqual([200, 200, 200]);
  });

  test.each([
    ['attempts left, retryable', { type: 'VendorBusy', nonRetryable: false }, 1, true],
    ['the last attempt', { type: 'VendorBusy', nonRetryable: false }, 5, false],
    ['marked non-retryable by the action', { type: 'VendorBusy', nonRetryable: true }, 1, false],
    ['a type the policy does not retry', { type: 'InvalidActionParams', nonRetryable: false }, 1, false],
    ['a timeout with attempts left', { type: 'Timeout', nonRetryable: false }, 2, true],
  ] as const)('shouldRetry: %s', (_name, failure, attempt, expected) => {
    expect(shouldRetry(stepRetryPolicy(action, actionStep({})), failure, attempt)).toBe(expected);
  });
});
