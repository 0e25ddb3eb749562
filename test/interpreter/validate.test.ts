/**
 * The validator, table by table: one valid base definition that uses every
 * step type, then one row per way to break it (each naming the problem's
 * code, JSON Pointer and step), then rows of changes that must stay valid.
 * Rows edit a fresh copy of the base, so the paths below are its layout:
 *
 *   /steps/0  prepare      action set_variables            -> route
 *   /steps/1  route        condition: risky -> checks, very risky -> decline, default -> approve
 *   /steps/2  checks       parallel                         -> review
 *             /branches/0  watchlist: log_watchlist -> wait_report
 *             /branches/1  cooldown:  pause
 *   /steps/3  review       run_workflow                     -> decline
 *   /steps/4  decline      end failed
 *   /steps/5  approve      end succeeded
 */
import { ActionRegistry } from '../../src/activities/registry';
import { validateDefinition, type Problem, type ProblemCode } from '../../src/interpreter/validate';

const catalog = new ActionRegistry().catalog;

/** A definition as plain JSON, the way the API receives it; rows reach into it freely. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Draft = any;

function baseDefinition(): Draft {
  return {
    trigger: {
      type: 'api',
      inputSchema: { type: 'object', required: ['userId'], properties: { userId: { type: 'string' }, score: { type: 'number' } } },
    },
    steps: [
      {
        id: 'prepare',
        type: 'action',
        action: 'set_variables',
        params: { variables: { risky: { $cel: 'trigger.score > 0.7' }, greeting: 'Hello {{ trigger.userId }}' } },
        next: 'route',
      },
      {
        id: 'route',
        type: 'condition',
        routes: [
          { when: 'vars.risky', next: 'checks', label: 'risky' },
          { when: 'trigger.score > 0.95', next: 'decline', label: 'very risky' },
        ],
        default: 'approve',
      },
      {
        id: 'checks',
        type: 'parallel',
        branches: [
          {
            id: 'watchlist',
            steps: [
              { id: 'log_watchlist', type: 'action', action: 'log_message', params: { message: 'checking {{ steps.prepare.output.greeting }}' }, next: 'wait_report' },
              {
                id: 'wait_report',
                type: 'wait_for_event',
                events: ['report/watchlist.ready'],
                object: 'trigger.userId',
                match: 'event.data.status == "ready"',
                timeout: '7d',
              },
            ],
          },
          { id: 'cooldown', steps: [{ id: 'pause', type: 'wait_for_time', duration: '1h' }] },
        ],
        next: 'review',
      },
      {
        id: 'review',
        type: 'run_workflow',
        workflow: 'manual_review',
        input: { userId: { $cel: 'trigger.userId' }, report: { $cel: 'steps.wait_report.output' } },
        next: 'decline',
      },
      { id: 'decline', type: 'end', outcome: 'failed', reason: 'declined {{ trigger.userId }}' },
      { id: 'approve', type: 'end', output: { greeting: { $cel: 'steps.prepare.output.greeting' } } },
    ],
  };
}

type Expected = { code: ProblemCode; path: string; stepId?: string };

/**
 * Problems without their messages, each location once: ajv reports every
 * failed alternative of one bad keyword, which is one mistake to a person.
 */
function locations(problems: Problem[]): Expected[] {
  const seen = new Map<string, Expected>();
  for (const { code, path, stepId } of problems) seen.set(`${code} ${path} ${stepId}`, { code, path, stepId });
  return [...seen.values()];
}

function validate(edit: (d: Draft) => void): ReturnType<typeof validateDefinition> {
  const definition = baseDefinition();
  edit(definition);
  return validateDefinition(definition, catalog);
}

const logStep = (id: string, message: unknown, next?: string): Draft => ({ id, type: 'action', action: 'log_message', params: { message }, ...(next ? { next } : {}) });

/** A for_each that replaces `approve` (/steps/5) unless given another id. */
const forEachStep = (overrides: Record<string, unknown>): Draft => ({
  id: 'approve',
  type: 'for_each',
  items: 'trigger.accounts',
  concurrency: 5,
  steps: [logStep('check_account', 'checking {{ item }}')],
  ...overrides,
});

describe('validateDefinition', () => {
  test('accepts the base definition and fills in the defaults', () => {
    const result = validateDefinition(baseDefinition(), catalog);
    expect(result).toMatchObject({
      ok: true,
      definition: {
        language: 1,
        steps: [
          { id: 'prepare' },
          { id: 'route' },
          { id: 'checks', branches: [{ id: 'watchlist', continueOnError: false }, { id: 'cooldown', continueOnError: false }] },
          { id: 'review', wait: true },
          { id: 'decline', outcome: 'failed' },
          { id: 'approve', outcome: 'succeeded' },
        ],
      },
    });
    if (result.ok) {
      const branchSteps = (result.definition.steps[2] as Draft).branches[0].steps;
      expect(branchSteps[1]).toMatchObject({ id: 'wait_report', onTimeout: 'continue' });
    }
  });

  const rejected: { name: string; edit: (d: Draft) => void; problems: Expected[] }[] = [
    // The schema: an invalid shape stops validation there.
    {
      name: 'an unknown step type',
      edit: (d) => (d.steps[0].type = 'send_email'),
      problems: [{ code: 'invalid_shape', path: '/steps/0/type', stepId: 'prepare' }],
    },
    {
      name: 'a step id that is not snake_case',
      edit: (d) => (d.steps[5].id = 'Approve-Now'),
      problems: [{ code: 'invalid_shape', path: '/steps/5/id', stepId: 'Approve-Now' }],
    },
    {
      name: 'a misspelt field on a step',
      edit: (d) => (d.steps[4].nxt = 'approve'),
      problems: [{ code: 'invalid_shape', path: '/steps/4', stepId: 'decline' }],
    },
    {
      name: 'a schedule trigger with neither cron nor interval',
      edit: (d) => (d.trigger = { type: 'schedule' }),
      problems: [{ code: 'invalid_shape', path: '/trigger' }],
    },
    {
      name: 'a schedule trigger with both cron and interval',
      edit: (d) => (d.trigger = { type: 'schedule', cron: '0 9 * * 1', interval: '1d' }),
      problems: [{ code: 'invalid_shape', path: '/trigger' }],
    },
    {
      name: 'a wait_for_time with both duration and until',
      edit: (d) => (d.steps[2].branches[1].steps[0].until = 'trigger.at'),
      problems: [{ code: 'invalid_shape', path: '/steps/2/branches/1/steps/0', stepId: 'pause' }],
    },

    // The graph.
    {
      name: 'an unknown action',
      edit: (d) => (d.steps[0].action = 'send_fax'),
      problems: [{ code: 'unknown_action', path: '/steps/0/action', stepId: 'prepare' }],
    },
    {
      name: 'a next that names no step',
      edit: (d) => (d.steps[3].next = 'nowhere'),
      problems: [{ code: 'unknown_step', path: '/steps/3/next', stepId: 'review' }],
    },
    {
      name: 'a condition route whose next names no step',
      edit: (d) => (d.steps[1].routes[1].next = 'nowhere'),
      problems: [{ code: 'unknown_step', path: '/steps/1/routes/1/next', stepId: 'route' }],
    },
    {
      name: 'a condition default that names no step (which also strands the step it used to reach)',
      edit: (d) => (d.steps[1].default = 'nowhere'),
      problems: [
        { code: 'unknown_step', path: '/steps/1/default', stepId: 'route' },
        { code: 'unreachable_step', path: '/steps/5', stepId: 'approve' },
        // A step no path reaches has no step before it either.
        { code: 'reference_not_before', path: '/steps/5/output/greeting/$cel', stepId: 'approve' },
      ],
    },
    {
      name: 'a start that names no step',
      edit: (d) => (d.start = 'nowhere'),
      problems: [{ code: 'unknown_step', path: '/start' }],
    },
    {
      name: 'a branch step linking out of its branch',
      edit: (d) => (d.steps[2].branches[0].steps[1].next = 'review'),
      problems: [{ code: 'unknown_step', path: '/steps/2/branches/0/steps/1/next', stepId: 'wait_report' }],
    },
    {
      name: 'a main-graph step linking into a branch',
      edit: (d) => (d.steps[3].next = 'pause'),
      problems: [{ code: 'unknown_step', path: '/steps/3/next', stepId: 'review' }],
    },
    {
      name: 'a branch start that names a step outside the branch',
      edit: (d) => (d.steps[2].branches[1].start = 'log_watchlist'),
      problems: [{ code: 'unknown_step', path: '/steps/2/branches/1/start', stepId: 'checks' }],
    },
    {
      name: 'a step nothing leads to',
      edit: (d) => d.steps.push({ id: 'orphan', type: 'end' }),
      problems: [{ code: 'unreachable_step', path: '/steps/6', stepId: 'orphan' }],
    },
    {
      name: 'a branch step nothing in its branch leads to',
      edit: (d) => d.steps[2].branches[1].steps.push({ id: 'stray', type: 'wait_for_time', duration: '1m' }),
      problems: [{ code: 'unreachable_step', path: '/steps/2/branches/1/steps/1', stepId: 'stray' }],
    },
    {
      name: 'a top-level step reusing a top-level id',
      edit: (d) => d.steps.push({ id: 'review', type: 'end' }),
      problems: [{ code: 'duplicate_id', path: '/steps/6/id', stepId: 'review' }],
    },
    {
      name: 'a branch step reusing a top-level id',
      edit: (d) => (d.steps[2].branches[1].steps[0].id = 'prepare'),
      problems: [{ code: 'duplicate_id', path: '/steps/2/branches/1/steps/0/id', stepId: 'prepare' }],
    },
    {
      name: 'two branches of one parallel step with the same id',
      edit: (d) => (d.steps[2].branches[1].id = 'watchlist'),
      problems: [{ code: 'duplicate_id', path: '/steps/2/branches/1/id', stepId: 'checks' }],
    },
    {
      name: 'a cycle without a wait',
      edit: (d) => {
        d.steps[3].next = 'log_retry';
        d.steps.push(logStep('log_retry', 'retrying', 'review'));
      },
      problems: [{ code: 'cycle_without_wait', path: '/steps/3', stepId: 'review' }],
    },
    {
      name: 'a step that loops onto itself',
      edit: (d) => (d.steps[3].next = 'review'),
      problems: [
        { code: 'cycle_without_wait', path: '/steps/3', stepId: 'review' },
      ],
    },
    {
      name: 'an end step inside a parallel branch',
      edit: (d) => (d.steps[2].branches[1].steps[0] = { id: 'pause', type: 'end' }),
      problems: [{ code: 'end_in_branch', path: '/steps/2/branches/1/steps/0/type', stepId: 'pause' }],
    },

    // Expressions: syntax.
    {
      name: 'a CEL syntax error in a condition',
      edit: (d) => (d.steps[1].routes[0].when = 'vars.risky &&'),
      problems: [{ code: 'expression_syntax', path: '/steps/1/routes/0/when', stepId: 'route' }],
    },
    {
      name: 'a CEL syntax error in a $cel param',
      edit: (d) => (d.steps[0].params.variables.risky = { $cel: 'trigger.score >' }),
      problems: [{ code: 'expression_syntax', path: '/steps/0/params/variables/risky/$cel', stepId: 'prepare' }],
    },
    {
      name: "a CEL syntax error in a wait's object",
      edit: (d) => (d.steps[2].branches[0].steps[1].object = 'trigger.'),
      problems: [{ code: 'expression_syntax', path: '/steps/2/branches/0/steps/1/object', stepId: 'wait_report' }],
    },
    {
      name: "a CEL syntax error in a wait's match",
      edit: (d) => (d.steps[2].branches[0].steps[1].match = '(event.data.status == "ready"'),
      problems: [{ code: 'expression_syntax', path: '/steps/2/branches/0/steps/1/match', stepId: 'wait_report' }],
    },
    {
      name: "a CEL syntax error in a wait_for_time's until",
      edit: (d) => (d.steps[2].branches[1].steps[0] = { id: 'pause', type: 'wait_for_time', until: 'timestamp(trigger.at) +' }),
      problems: [{ code: 'expression_syntax', path: '/steps/2/branches/1/steps/0/until', stepId: 'pause' }],
    },
    {
      name: 'a CEL syntax error in an event trigger filter',
      edit: (d) => (d.trigger = { type: 'event', event: 'inquiry.completed', filter: 'event.type ==' }),
      problems: [{ code: 'expression_syntax', path: '/trigger/filter' }],
    },
    {
      name: 'a Liquid syntax error in a param string',
      edit: (d) => (d.steps[0].params.variables.greeting = 'Hello {{ trigger.userId'),
      problems: [{ code: 'expression_syntax', path: '/steps/0/params/variables/greeting', stepId: 'prepare' }],
    },
    {
      name: 'a Liquid syntax error in an end reason',
      edit: (d) => (d.steps[4].reason = '{% if trigger.score %}declined'),
      problems: [{ code: 'expression_syntax', path: '/steps/4/reason', stepId: 'decline' }],
    },
    {
      name: 'a Liquid filter that does not exist',
      edit: (d) => (d.steps[4].reason = 'declined {{ trigger.userId | shout }}'),
      problems: [{ code: 'expression_syntax', path: '/steps/4/reason', stepId: 'decline' }],
    },

    // Expressions: what they may read.
    {
      name: 'event read outside a wait match',
      edit: (d) => (d.steps[3].input.userId = { $cel: 'event.objectId' }),
      problems: [{ code: 'unknown_variable', path: '/steps/3/input/userId/$cel', stepId: 'review' }],
    },
    {
      name: "event read in a wait's object (only match sees the event)",
      edit: (d) => (d.steps[2].branches[0].steps[1].object = 'event.objectId'),
      problems: [{ code: 'unknown_variable', path: '/steps/2/branches/0/steps/1/object', stepId: 'wait_report' }],
    },
    {
      name: 'object read in a condition',
      edit: (d) => (d.steps[1].routes[0].when = 'object.status == "flagged"'),
      problems: [{ code: 'unknown_variable', path: '/steps/1/routes/0/when', stepId: 'route' }],
    },
    {
      name: 'run data read in a trigger filter',
      edit: (d) => (d.trigger = { type: 'event', event: 'inquiry.completed', filter: 'trigger.userId == event.objectId' }),
      problems: [{ code: 'unknown_variable', path: '/trigger/filter' }],
    },
    {
      // Names CEL knows nowhere fail its type check; unknown_variable is for
      // names that exist elsewhere (event, object) but not here.
      name: 'a misspelt root name',
      edit: (d) => (d.steps[5].output.greeting = { $cel: 'step.prepare.output.greeting' }),
      problems: [{ code: 'expression_syntax', path: '/steps/5/output/greeting/$cel', stepId: 'approve' }],
    },
    {
      name: 'a reference to a later step',
      edit: (d) => (d.steps[0].params.variables.reviewed = { $cel: 'steps.review.output' }),
      problems: [{ code: 'reference_not_before', path: '/steps/0/params/variables/reviewed/$cel', stepId: 'prepare' }],
    },
    {
      name: 'a reference to a later step from a Liquid template',
      edit: (d) => (d.steps[0].params.variables.greeting = 'Hello {{ steps.approve.output.greeting }}'),
      problems: [{ code: 'reference_not_before', path: '/steps/0/params/variables/greeting', stepId: 'prepare' }],
    },
    {
      name: 'a reference written as steps["id"]',
      edit: (d) => (d.steps[0].params.variables.reviewed = { $cel: 'steps["review"].output' }),
      problems: [{ code: 'reference_not_before', path: '/steps/0/params/variables/reviewed/$cel', stepId: 'prepare' }],
    },
    {
      name: 'a reference to the step itself outside any loop',
      edit: (d) => (d.steps[3].input.again = { $cel: 'steps.review.output' }),
      problems: [{ code: 'reference_not_before', path: '/steps/3/input/again/$cel', stepId: 'review' }],
    },
    {
      name: 'a reference to a step on a sibling condition route',
      edit: (d) => (d.steps[5].output.checked = { $cel: 'steps.checks.output' }),
      problems: [{ code: 'reference_not_before', path: '/steps/5/output/checked/$cel', stepId: 'approve' }],
    },
    {
      name: 'a reference to a step in a sibling parallel branch',
      edit: (d) => (d.steps[2].branches[1].steps[0] = { id: 'pause', type: 'wait_for_time', until: 'steps.log_watchlist.output.until' }),
      problems: [{ code: 'reference_not_before', path: '/steps/2/branches/1/steps/0/until', stepId: 'pause' }],
    },
    {
      name: 'a branch step reading its own parallel step',
      edit: (d) => (d.steps[2].branches[0].steps[0].params.message = 'checking {{ steps.checks.status }}'),
      problems: [{ code: 'reference_not_before', path: '/steps/2/branches/0/steps/0/params/message', stepId: 'log_watchlist' }],
    },
    {
      name: 'a reference to a step that does not exist',
      edit: (d) => (d.steps[4].reason = 'declined: {{ steps.risk_score.output }}'),
      problems: [{ code: 'reference_not_before', path: '/steps/4/reason', stepId: 'decline' }],
    },

    // Action parameters.
    {
      name: 'a static param outside its enum',
      edit: (d) => (d.steps[2].branches[0].steps[0].params.level = 'loud'),
      problems: [{ code: 'invalid_params', path: '/steps/2/branches/0/steps/0/params/level', stepId: 'log_watchlist' }],
    },
    {
      name: 'a required param missing',
      edit: (d) => (d.steps[2].branches[0].steps[0].params = {}),
      problems: [{ code: 'invalid_params', path: '/steps/2/branches/0/steps/0/params/message', stepId: 'log_watchlist' }],
    },
    {
      name: 'a param the action does not take',
      edit: (d) => (d.steps[2].branches[0].steps[0].params.colour = 'red'),
      problems: [{ code: 'invalid_params', path: '/steps/2/branches/0/steps/0/params', stepId: 'log_watchlist' }],
    },
    {
      name: 'a static variable name set_variables rejects',
      edit: (d) => (d.steps[0].params = { variables: { 'not-a-name': 1, risky: true } }),
      problems: [{ code: 'invalid_params', path: '/steps/0/params/variables/not-a-name', stepId: 'prepare' }],
    },
    {
      name: 'a $literal param whose content fails the schema',
      edit: (d) => (d.steps[2].branches[0].steps[0].params.message = { $literal: 42 }),
      problems: [{ code: 'invalid_params', path: '/steps/2/branches/0/steps/0/params/message', stepId: 'log_watchlist' }],
    },
    {
      name: 'a bad static param beside a dynamic one (only the dynamic one is skipped)',
      edit: (d) => (d.steps[2].branches[0].steps[0].params = { message: '', level: { $cel: 'trigger.level' } }),
      problems: [{ code: 'invalid_params', path: '/steps/2/branches/0/steps/0/params/message', stepId: 'log_watchlist' }],
    },

    // Trigger and durations.
    {
      name: 'an input schema that is not JSON Schema',
      edit: (d) => (d.trigger.inputSchema = { type: 'strnig' }),
      problems: [{ code: 'invalid_input_schema', path: '/trigger/inputSchema/type' }],
    },
    {
      name: 'an input schema with a bad nested type',
      edit: (d) => (d.trigger.inputSchema.properties.userId = { type: 'strnig' }),
      problems: [{ code: 'invalid_input_schema', path: '/trigger/inputSchema/properties/userId/type' }],
    },
    {
      name: 'a wait timeout over 30 days',
      edit: (d) => (d.steps[2].branches[0].steps[1].timeout = '31d'),
      problems: [{ code: 'invalid_duration', path: '/steps/2/branches/0/steps/1/timeout', stepId: 'wait_report' }],
    },
    {
      name: 'a wait timeout that is not a duration',
      edit: (d) => (d.steps[2].branches[0].steps[1].timeout = 'a week or so'),
      problems: [{ code: 'invalid_duration', path: '/steps/2/branches/0/steps/1/timeout', stepId: 'wait_report' }],
    },
    {
      name: 'a wait_for_time duration that is not a duration',
      edit: (d) => (d.steps[2].branches[1].steps[0].duration = 'soon'),
      problems: [{ code: 'invalid_duration', path: '/steps/2/branches/1/steps/0/duration', stepId: 'pause' }],
    },
    {
      name: 'a schedule interval that is not a duration',
      edit: (d) => (d.trigger = { type: 'schedule', interval: 'often' }),
      problems: [{ code: 'invalid_duration', path: '/trigger/interval' }],
    },
    {
      name: 'a schedule cron with the wrong number of fields',
      edit: (d) => (d.trigger = { type: 'schedule', cron: '0 9 *' }),
      problems: [{ code: 'invalid_schedule', path: '/trigger/cron' }],
    },

    // Error handling: retries, timeouts, catch routes.
    {
      name: 'a catch route to a step that does not exist',
      edit: (d) => (d.steps[3].catch = [{ next: 'nowhere' }]),
      problems: [{ code: 'unknown_step', path: '/steps/3/catch/0/next', stepId: 'review' }],
    },
    {
      name: 'a catch route out of a parallel branch',
      edit: (d) => (d.steps[2].branches[0].steps[0].catch = [{ next: 'review' }]),
      problems: [{ code: 'unknown_step', path: '/steps/2/branches/0/steps/0/catch/0/next', stepId: 'log_watchlist' }],
    },
    {
      name: 'a catch route naming an error the step cannot fail with',
      edit: (d) => (d.steps[0].catch = [{ errors: ['timeout', 'VendorDown'], next: 'approve' }]),
      problems: [{ code: 'unknown_error_type', path: '/steps/0/catch/0/errors/1', stepId: 'prepare' }],
    },
    {
      name: 'a catch route naming an action error on a run_workflow step',
      edit: (d) => (d.steps[3].catch = [{ errors: ['InvalidActionParams'], next: 'approve' }]),
      problems: [{ code: 'unknown_error_type', path: '/steps/3/catch/0/errors/0', stepId: 'review' }],
    },
    {
      name: 'a catch on a condition step',
      edit: (d) => (d.steps[1].catch = [{ next: 'approve' }]),
      problems: [{ code: 'invalid_shape', path: '/steps/1', stepId: 'route' }],
    },
    {
      name: 'a catch route with an empty errors list',
      edit: (d) => (d.steps[0].catch = [{ errors: [], next: 'approve' }]),
      problems: [{ code: 'invalid_shape', path: '/steps/0/catch/0/errors', stepId: 'prepare' }],
    },
    {
      name: 'a step that catches into itself with no wait',
      edit: (d) => (d.steps[0].catch = [{ next: 'prepare' }]),
      problems: [{ code: 'cycle_without_wait', path: '/steps/0', stepId: 'prepare' }],
    },
    {
      name: 'retry attempts below 1 and a backoff below 1',
      edit: (d) => (d.steps[0].retry = { attempts: 0, backoff: 0.5 }),
      problems: [
        { code: 'out_of_range', path: '/steps/0/retry/attempts', stepId: 'prepare' },
        { code: 'out_of_range', path: '/steps/0/retry/backoff', stepId: 'prepare' },
      ],
    },
    {
      name: 'more than 100 attempts',
      edit: (d) => (d.steps[0].retry = { attempts: 101 }),
      problems: [{ code: 'out_of_range', path: '/steps/0/retry/attempts', stepId: 'prepare' }],
    },
    {
      name: 'retry intervals that are not durations or longer than a day',
      edit: (d) => (d.steps[0].retry = { initialInterval: 'soon', maximumInterval: '2d' }),
      problems: [
        { code: 'invalid_duration', path: '/steps/0/retry/initialInterval', stepId: 'prepare' },
        { code: 'invalid_duration', path: '/steps/0/retry/maximumInterval', stepId: 'prepare' },
      ],
    },
    {
      name: 'a non-retryable error type the action does not have',
      edit: (d) => (d.steps[0].retry = { nonRetryable: ['ObjectNotFound'] }),
      problems: [{ code: 'unknown_error_type', path: '/steps/0/retry/nonRetryable/0', stepId: 'prepare' }],
    },
    {
      name: 'retry attempts that are not a whole number',
      edit: (d) => (d.steps[0].retry = { attempts: 2.5 }),
      problems: [{ code: 'invalid_shape', path: '/steps/0/retry/attempts', stepId: 'prepare' }],
    },
    {
      name: 'an attempt timeout over 30 days and a deadline that is not a duration',
      edit: (d) => {
        d.steps[0].timeout = '45d';
        d.steps[3].deadline = 'never';
      },
      problems: [
        { code: 'invalid_duration', path: '/steps/0/timeout', stepId: 'prepare' },
        { code: 'invalid_duration', path: '/steps/3/deadline', stepId: 'review' },
      ],
    },
    {
      name: 'a timeout on a step that is not an action',
      edit: (d) => (d.steps[3].timeout = '1m'),
      problems: [{ code: 'invalid_shape', path: '/steps/3', stepId: 'review' }],
    },

    // for_each.
    ...[
      { items: '"abc"', type: 'string' },
      { items: '{"a": 1}', type: 'map' },
      { items: 'size(trigger.userId)', type: 'int' },
      { items: 'trigger.score > 0.5', type: 'bool' },
    ].map(({ items, type }) => ({
      name: `for_each items that give a ${type}`,
      edit: (d: Draft) => (d.steps[5] = forEachStep({ items })),
      problems: [{ code: 'items_not_list' as const, path: '/steps/5/items', stepId: 'approve' }],
    })),
    {
      name: 'for_each concurrency 0 and 101',
      edit: (d) => {
        d.steps[5] = forEachStep({ concurrency: 0 });
        d.steps[4] = { ...forEachStep({ concurrency: 101 }), id: 'decline', steps: [{ id: 'inner_decline', type: 'action', action: 'log_message', params: { message: 'x' } }] };
      },
      problems: [
        { code: 'out_of_range', path: '/steps/5/concurrency', stepId: 'approve' },
        { code: 'out_of_range', path: '/steps/4/concurrency', stepId: 'decline' },
      ],
    },
    {
      name: 'a for_each without concurrency',
      edit: (d) => {
        d.steps[5] = forEachStep({});
        delete d.steps[5].concurrency;
      },
      problems: [{ code: 'invalid_shape', path: '/steps/5/concurrency', stepId: 'approve' }],
    },
    {
      name: 'an item name CEL already uses',
      edit: (d) => (d.steps[5] = forEachStep({ as: 'trigger' })),
      problems: [{ code: 'invalid_shape', path: '/steps/5/as', stepId: 'approve' }],
    },
    {
      name: 'an end step inside a for_each',
      edit: (d) => (d.steps[5] = forEachStep({ steps: [{ id: 'stop_here', type: 'end' }] })),
      problems: [{ code: 'end_in_branch', path: '/steps/5/steps/0/type', stepId: 'stop_here' }],
    },
    {
      name: 'a step inside a for_each linking out of it',
      edit: (d) => (d.steps[5] = forEachStep({ steps: [logStep('check_account', 'x', 'decline')] })),
      problems: [{ code: 'unknown_step', path: '/steps/5/steps/0/next', stepId: 'check_account' }],
    },
    {
      name: 'a for_each start that names no step of the loop',
      edit: (d) => (d.steps[5] = forEachStep({ start: 'decline' })),
      problems: [{ code: 'unknown_step', path: '/steps/5/start', stepId: 'approve' }],
    },
    {
      name: 'a step after a for_each reading a step inside it',
      edit: (d) => {
        d.steps[5] = forEachStep({ next: 'summary' });
        d.steps.push({ id: 'summary', type: 'end', output: { $cel: 'steps.check_account.output' } });
      },
      problems: [{ code: 'reference_not_before', path: '/steps/6/output/$cel', stepId: 'summary' }],
    },
    {
      name: 'a step inside a for_each reading the loop itself',
      edit: (d) => (d.steps[5] = forEachStep({ steps: [logStep('check_account', '{{ steps.approve.output }}')] })),
      problems: [{ code: 'reference_not_before', path: '/steps/5/steps/0/params/message', stepId: 'check_account' }],
    },
    {
      name: "an item read under a name the loop does not give it",
      edit: (d) => (d.steps[5] = forEachStep({ as: 'account', steps: [logStep('check_account', { $cel: 'item.id' })] })),
      problems: [{ code: 'expression_syntax', path: '/steps/5/steps/0/params/message/$cel', stepId: 'check_account' }],
    },
    {
      name: 'an item name read outside its loop',
      edit: (d) => {
        d.steps[5] = forEachStep({ as: 'account' });
        d.steps[4].reason = 'declined';
        d.steps[4].output = { $cel: 'account' };
      },
      problems: [{ code: 'expression_syntax', path: '/steps/4/output/$cel', stepId: 'decline' }],
    },
    {
      name: 'a cycle whose only wait is inside a for_each (the list may be empty)',
      edit: (d) => {
        d.steps[3].next = 'each_user';
        d.steps.push(forEachStep({ id: 'each_user', next: 'review', steps: [{ id: 'nap', type: 'wait_for_time', duration: '1h' }] }));
      },
      problems: [{ code: 'cycle_without_wait', path: '/steps/3', stepId: 'review' }],
    },

    // Flow control.
    {
      name: 'a concurrency key that does not parse and a limit of 0',
      edit: (d) => (d.flow = { concurrency: { key: 'trigger.userId +', limit: 0 } }),
      problems: [
        { code: 'expression_syntax', path: '/flow/concurrency/key' },
        { code: 'out_of_range', path: '/flow/concurrency/limit' },
      ],
    },
    {
      name: 'a concurrency key reading step data',
      edit: (d) => (d.flow = { concurrency: { key: 'steps.prepare.output.greeting' } }),
      problems: [{ code: 'unknown_variable', path: '/flow/concurrency/key' }],
    },
    {
      name: 'an idempotency key on an event trigger, reading the run',
      edit: (d) => {
        d.trigger = { type: 'event', event: 'inquiry.completed' };
        d.flow = { idempotencyKey: 'run.id' };
      },
      problems: [
        { code: 'unknown_variable', path: '/flow/idempotencyKey' },
        { code: 'wrong_trigger', path: '/flow/idempotencyKey' },
      ],
    },
    {
      name: 'a cancelOn with a bad event type',
      edit: (d) => (d.flow = { cancelOn: [{ event: 'Inquiry Redacted' }] }),
      problems: [{ code: 'invalid_shape', path: '/flow/cancelOn/0/event' }],
    },
    {
      name: "a cancelOn object that does not parse and a match reading steps",
      edit: (d) => (d.flow = { cancelOn: [{ event: 'inquiry.redacted', object: 'trigger.', match: 'steps.prepare.status == "completed"' }] }),
      problems: [
        { code: 'expression_syntax', path: '/flow/cancelOn/0/object' },
        { code: 'unknown_variable', path: '/flow/cancelOn/0/match' },
      ],
    },
    {
      name: 'an unknown field in flow',
      edit: (d) => (d.flow = { concurency: { key: 'trigger.userId' } }),
      problems: [{ code: 'invalid_shape', path: '/flow' }],
    },
    {
      name: 'problems of every new kind at once',
      edit: (d) => {
        d.steps[3].catch = [{ errors: ['Nope'], next: 'nowhere' }];
        d.steps[5] = forEachStep({ items: '"abc"', concurrency: 500 });
        d.flow = { concurrency: { key: 'trigger.userId', limit: 100000 } };
      },
      problems: [
        { code: 'unknown_step', path: '/steps/3/catch/0/next', stepId: 'review' },
        { code: 'unknown_error_type', path: '/steps/3/catch/0/errors/0', stepId: 'review' },
        { code: 'items_not_list', path: '/steps/5/items', stepId: 'approve' },
        { code: 'out_of_range', path: '/steps/5/concurrency', stepId: 'approve' },
        { code: 'out_of_range', path: '/flow/concurrency/limit' },
      ],
    },

    // Everything at once.
    {
      name: 'three different problems, all reported',
      edit: (d) => {
        d.steps[0].params.variables.reviewed = { $cel: 'steps.review.output' };
        d.steps[2].branches[0].steps[0].action = 'send_fax';
        d.steps[2].branches[1].steps[0].duration = '45d';
      },
      problems: [
        { code: 'unknown_action', path: '/steps/2/branches/0/steps/0/action', stepId: 'log_watchlist' },
        { code: 'invalid_duration', path: '/steps/2/branches/1/steps/0/duration', stepId: 'pause' },
        { code: 'reference_not_before', path: '/steps/0/params/variables/reviewed/$cel', stepId: 'prepare' },
      ],
    },
  ];

  test.each(rejected)('rejects $name', ({ edit, problems }) => {
    const result = validate(edit);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(new Set(locations(result.problems).map((p) => JSON.stringify(p)))).toEqual(new Set(problems.map((p) => JSON.stringify(p))));
    for (const problem of result.problems) expect(problem.message).not.toHaveLength(0);
  });

  const accepted: { name: string; edit: (d: Draft) => void }[] = [
    {
      name: 'a cycle through a wait_for_event',
      edit: (d) => {
        d.steps[3].next = 'wait_appeal';
        d.steps.push({ id: 'wait_appeal', type: 'wait_for_event', events: ['appeal.filed'], timeout: '1d', next: 'review' });
      },
    },
    {
      name: 'a cycle through a wait_for_time',
      edit: (d) => {
        d.steps[3].next = 'back_off';
        d.steps.push({ id: 'back_off', type: 'wait_for_time', duration: '10m', next: 'review' });
      },
    },
    {
      name: 'a cycle through a parallel step whose branches wait',
      edit: (d) => (d.steps[3].next = 'prepare'),
    },
    {
      name: 'a step in a loop with a wait reading its own previous output',
      edit: (d) => {
        d.steps[3].input.previous = { $cel: 'steps.review.output' };
        d.steps[3].next = 'back_off';
        d.steps.push({ id: 'back_off', type: 'wait_for_time', duration: '10m', next: 'review' });
      },
    },
    {
      name: 'references to earlier steps on the same path',
      edit: (d) => (d.steps[4].reason = 'declined {{ steps.prepare.output.greeting }} after {{ steps["route"].output }}'),
    },
    {
      name: 'references to steps nested inside an earlier parallel step',
      edit: (d) => (d.steps[3].input.paused = { $cel: 'steps.pause.status == "completed" && steps.log_watchlist.status == "completed"' }),
    },
    {
      name: 'a branch step reading a step before its parallel step',
      edit: (d) => (d.steps[2].branches[1].steps[0] = { id: 'pause', type: 'wait_for_time', until: 'steps.prepare.output.resume_at' }),
    },
    {
      name: 'a reference from a step that two routes lead to, to a step on one of them',
      edit: (d) => (d.steps[4].reason = 'declined after {{ steps.review.output.note }}'),
    },
    {
      name: 'dynamic params the static check cannot judge',
      edit: (d) => (d.steps[2].branches[0].steps[0].params = { message: { $cel: 'trigger.userId' }, level: '{{ trigger.level }}' }),
    },
    {
      name: 'a $literal param holding what would otherwise be a template',
      edit: (d) => (d.steps[2].branches[0].steps[0].params = { message: { $literal: '{{ not a template' } }),
    },
    {
      name: 'comprehension variables in CEL',
      edit: (d) => (d.steps[1].routes[0].when = 'trigger.tags.exists(t, t == "pep") || [1, 2].all(n, n > 0) && cel.bind(s, trigger.score, s > 0.7)'),
    },
    {
      name: 'loop and assigned variables in Liquid',
      edit: (d) => (d.steps[4].reason = '{% assign who = trigger.userId %}{% for tag in trigger.tags %}{{ tag }} {% endfor %}{{ who }}'),
    },
    {
      name: 'event in a wait match beside the run data',
      edit: (d) => (d.steps[2].branches[0].steps[1].match = 'event.objectId == trigger.userId && event.data.score > vars.threshold'),
    },
    {
      name: 'an event trigger whose filter reads event and object',
      edit: (d) => (d.trigger = { type: 'event', event: 'inquiry.completed', filter: 'event.type == "inquiry.completed" && object.status == "approved"' }),
    },
    {
      name: 'a schedule trigger with a cron',
      edit: (d) => (d.trigger = { type: 'schedule', cron: '0 9 * * 1-5', timezone: 'Europe/Berlin' }),
    },
    {
      name: 'a schedule trigger with an interval',
      edit: (d) => (d.trigger = { type: 'schedule', interval: '6h', input: { batch: 'nightly' } }),
    },
    {
      name: 'a draft-07 input schema',
      edit: (d) => (d.trigger.inputSchema = { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { email: { type: 'string', format: 'email' } } }),
    },
    {
      name: 'a wait timeout of exactly 30 days',
      edit: (d) => (d.steps[2].branches[0].steps[1].timeout = '30d'),
    },
    {
      name: 'an explicit start and an explicit branch start',
      edit: (d) => {
        d.start = 'prepare';
        d.steps[2].branches[0].start = 'log_watchlist';
      },
    },
    {
      name: 'a retry policy, timeouts and catch routes by keyword and by type',
      edit: (d) => {
        d.steps[0].retry = { attempts: 5, initialInterval: '1s', backoff: 2, maximumInterval: '1m', nonRetryable: ['InvalidActionParams'] };
        d.steps[0].timeout = '30s';
        d.steps[0].deadline = '10m';
        d.steps[0].catch = [{ errors: ['timeout'], next: 'approve', label: 'too slow' }, { errors: ['non_retryable', 'ActionFailed'], next: 'decline' }];
        d.steps[3].catch = [{ errors: ['ChildRunFailed'], next: 'approve' }, { next: 'decline' }];
        d.steps[3].deadline = '2h';
        d.steps[2].catch = [{ errors: ['BranchFailed', 'timeout'], next: 'decline' }];
        d.steps[2].deadline = '1d';
      },
    },
    {
      name: 'a catch target reading the error of the step that failed into it',
      edit: (d) => {
        d.steps[0].catch = [{ next: 'fallback' }];
        d.steps.push({ id: 'fallback', type: 'end', reason: 'prepare failed: {{ steps.prepare.error.message }}', output: { $cel: 'steps.prepare.error.type' } });
      },
    },
    {
      name: 'a retry loop through a catch route and a wait',
      edit: (d) => {
        d.steps[3].catch = [{ errors: ['ChildRunFailed'], next: 'back_off' }];
        d.steps.push({ id: 'back_off', type: 'wait_for_time', duration: '1h', next: 'review' });
      },
    },
    {
      name: 'a for_each reading its item, earlier steps and its own inner steps; a result; a nested loop',
      edit: (d) => {
        d.steps[5] = forEachStep({
          as: 'account',
          onItemError: 'continue',
          steps: [
            logStep('check_account', 'checking {{ account.id }} ({{ account_index }}) for {{ steps.prepare.output.greeting }}', 'each_doc'),
            forEachStep({
              id: 'each_doc',
              items: 'account.documents',
              as: 'doc',
              steps: [logStep('check_doc', { $cel: 'doc.kind + " of " + account.id + " after " + steps.check_account.output.message' })],
            }),
          ],
          result: { account: { $cel: 'account.id' }, logged: { $cel: 'steps.check_account.output.logged' }, docs: { $cel: 'size(steps.each_doc.output.results)' } },
        });
      },
    },
    {
      name: 'for_each items given as a list literal, a list from the trigger, and a map over a list',
      edit: (d) => {
        d.steps[5] = forEachStep({ items: '[1, 2, 3]', next: 'more' });
        d.steps.push(forEachStep({ id: 'more', items: 'trigger.accounts.map(a, a.id)', steps: [logStep('more_log', 'x')] }));
      },
    },
    {
      name: 'a step after a for_each reading its output',
      edit: (d) => {
        d.steps[5] = forEachStep({ next: 'summary' });
        d.steps.push({ id: 'summary', type: 'end', output: { $cel: 'steps.approve.output.results' } });
      },
    },
    {
      name: 'flow control: a concurrency key, an idempotency key and cancelOn',
      edit: (d) => {
        d.flow = {
          concurrency: { key: 'trigger.userId', limit: 2 },
          idempotencyKey: 'trigger.userId + ":" + string(trigger.score)',
          cancelOn: [
            { event: 'inquiry.redacted', object: 'trigger.userId' },
            { event: 'account.tag-added', match: 'event.data.tag == "fraud" && event.objectId == trigger.userId' },
          ],
        };
      },
    },
  ];

  test.each(accepted)('accepts $name', ({ edit }) => {
    const result = validate(edit);
    expect(result.ok ? [] : result.problems).toEqual([]);
  });
});
