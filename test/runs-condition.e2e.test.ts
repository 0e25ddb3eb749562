/**
 * End to end through the HTTP API against a real Temporal dev server and a
 * real PostgreSQL: conditions, parallel branches, waits for time and for
 * events (delivered, and resolved by the default resolution time), child
 * runs, failures, cancellation. Each finished run's history is replayed at
 * once to prove the workflow deterministic, and saved as a replay fixture
 * when RECORD_HISTORIES=1.
 */
import { api, createHarness, isClosed, publishWorkflow, replayAndMaybeRecord, startRun as start, stepOf, waitForRun, type Harness } from './support/harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

const startRun = (workflowId: string, input: unknown = {}): Promise<string> => start(h, workflowId, input);
const replay = (runId: string, name: string): Promise<void> => replayAndMaybeRecord(h, runId, name);

describe('a run with a condition, set_variables and an end step', () => {
  const definition = {
    trigger: {
      type: 'api',
      inputSchema: {
        type: 'object',
        required: ['name', 'score'],
        properties: { name: { type: 'string' }, score: { type: 'number' } },
      },
    },
    steps: [
      { id: 'compute', type: 'action', action: 'set_variables', params: { variables: { risky: { $cel: 'trigger.score > 0.7' }, greeting: 'Hello {{ trigger.name }}' } }, next: 'route' },
      {
        id: 'route',
        type: 'condition',
        routes: [{ when: 'vars.risky', next: 'decline', label: 'high risk' }],
        default: 'approve',
      },
      { id: 'approve', type: 'end', outcome: 'succeeded', reason: 'approved {{ trigger.name }}', output: { decision: 'approve', greeting: { $cel: 'steps.compute.output.greeting' } } },
      { id: 'decline', type: 'end', outcome: 'failed', reason: 'declined: score {{ trigger.score }}' },
    ],
  };

  beforeAll(async () => {
    await publishWorkflow(h, 'score_router', definition);
  });

  it('takes the default route and succeeds with the end step output', async () => {
    const runId = await startRun('score_router', { name: 'Ada', score: 0.2 });
    const run = await waitForRun(h, runId, isClosed);
    expect(run.status).toBe('completed');
    expect(run.workflowId).toBe('score_router');
    expect(run.version).toBe(1);
    expect(run.state.outcome).toBe('succeeded');
    expect(run.state.reason).toBe('approved Ada');
    expect(run.state.output).toEqual({ decision: 'approve', greeting: 'Hello Ada' });
    expect(stepOf(run, 'compute')).toMatchObject({ status: 'completed', runs: 1, output: { risky: false, greeting: 'Hello Ada' } });
    expect(stepOf(run, 'route')).toMatchObject({ status: 'completed', output: { route: 'default', next: 'approve' } });
    expect(stepOf(run, 'approve').status).toBe('completed');
    expect(stepOf(run, 'decline').status).toBe('skipped');
    await replay(runId, 'condition-default-route');
  });

  it('takes the first matching route and fails with the end step reason', async () => {
    const runId = await startRun('score_router', { name: 'Bob', score: 0.9 });
    const run = await waitForRun(h, runId, isClosed);
    expect(run.status).toBe('failed');
    expect(run.state.outcome).toBe('failed');
    expect(run.state.error).toMatchObject({ type: 'RunEndedFailed', message: 'declined: score 0.9', stepId: 'decline' });
    expect(stepOf(run, 'route').output).toMatchObject({ route: 0, label: 'high risk', next: 'decline' });
    expect(stepOf(run, 'approve').status).toBe('skipped');
    await replay(runId, 'condition-first-route-fails');
  });

  it('rejects input that does not match the input schema with every failing path, and starts nothing', async () => {
    const before = await api(h, 'GET', '/v1/runs?workflow=score_router&limit=500');
    const res = await api(h, 'POST', '/v1/workflows/score_router/runs', { score: 'high', extra: 1 });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_input');
    const paths = res.body.error.details.map((d: { path: string }) => d.path).sort();
    expect(paths).toEqual(['/name', '/score']);
    const after = await api(h, 'GET', '/v1/runs?workflow=score_router&limit=500');
    expect(after.body.runs.length).toBe(before.body.runs.length);
  });
});

describe('idempotency keys', () => {
  it('keys a local activity by run and step (not by the SDK sequence number), and by round in a loop', async () => {
    await publishWorkflow(h, 'local_keys', {
      trigger: { type: 'api' },
      steps: [
        { id: 'first_key', type: 'action', action: 'echo_key_local', next: 'second_key' },
        { id: 'second_key', type: 'action', action: 'echo_key_local', next: 'count' },
        { id: 'count', type: 'action', action: 'set_variables', params: { variables: { n: { $cel: 'has(vars.n) ? vars.n + 1 : 1' } } }, next: 'again' },
        { id: 'again', type: 'condition', routes: [{ when: 'vars.n < 2', next: 'pause' }], default: 'done' },
        { id: 'pause', type: 'wait_for_time', duration: '10ms', next: 'second_key' },
        { id: 'done', type: 'end' },
      ],
    });
    const runId = await startRun('local_keys');
    const run = await waitForRun(h, runId, isClosed);
    expect(run.status).toBe('completed');
    expect(stepOf(run, 'first_key').output).toEqual({ key: `${runId}:first_key`, stepId: 'first_key' });
    // second_key ran twice (the loop); the state holds its latest round.
    expect(stepOf(run, 'second_key')).toMatchObject({ runs: 2, output: { key: `${runId}:second_key#2`, stepId: 'second_key' } });
  });
});
