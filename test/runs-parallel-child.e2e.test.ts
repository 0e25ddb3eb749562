/**
 * Parallel branches (all finish; a failing branch fails the step and cancels
 * the others unless it continues on error) and run_workflow child runs.
 */
import { api, createHarness, isClosed, publishWorkflow, replayAndMaybeRecord, startRun, stepOf, waitForRun, type Harness } from './support/harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

async function marks(runId: string): Promise<Record<string, number>> {
  const { rows } = await h.db.query<{ step_id: string; attempts: number }>('SELECT step_id, attempts FROM test_marks WHERE run_id = $1', [runId]);
  return Object.fromEntries(rows.map((r) => [r.step_id, Number(r.attempts)]));
}

describe('parallel', () => {
  it('runs every branch, then continues with the branch outcomes as output', async () => {
    await publishWorkflow(h, 'parallel_ok', {
      trigger: { type: 'api' },
      steps: [
        {
          id: 'checks',
          type: 'parallel',
          branches: [
            { id: 'watchlist', steps: [{ id: 'mark_a', type: 'action', action: 'record_mark', params: { label: 'a', sleepMs: 300 }, next: 'mark_a2' }, { id: 'mark_a2', type: 'action', action: 'record_mark', params: { label: 'a2' } }] },
            { id: 'phone', steps: [{ id: 'mark_b', type: 'action', action: 'record_mark', params: { label: 'b' } }] },
            { id: 'flaky', continueOnError: true, steps: [{ id: 'boom', type: 'action', action: 'fail_always', params: { message: 'vendor down' } }] },
          ],
          next: 'summary',
        },
        {
          id: 'summary',
          type: 'action',
          action: 'set_variables',
          params: { variables: { a: { $cel: 'steps.mark_a2.output.label' }, flaky: { $cel: 'steps.checks.output.branches.flaky.status' }, boom: { $cel: 'steps.boom.status + ": " + steps.boom.error.type' } } },
        },
      ],
    });
    const runId = await startRun(h, 'parallel_ok');
    const run = await waitForRun(h, runId, isClosed);
    expect(run.status).toBe('completed');
    expect(stepOf(run, 'checks').output.branches).toEqual({
      watchlist: { status: 'completed' },
      phone: { status: 'completed' },
      flaky: { status: 'failed', error: { type: 'TestFailure', message: 'step "boom" failed: vendor down' } },
    });
    expect(stepOf(run, 'boom')).toMatchObject({ status: 'failed', error: { type: 'TestFailure' } });
    expect(stepOf(run, 'summary').output).toEqual({ a: 'a2', flaky: 'failed', boom: 'failed: TestFailure' });
    expect(await marks(runId)).toEqual({ mark_a: 1, mark_a2: 1, mark_b: 1 });
    await replayAndMaybeRecord(h, runId, 'parallel-continue-on-error');
  });

  it('fails the step when a branch fails, cancelling the branches still running', async () => {
    await publishWorkflow(h, 'parallel_fail', {
      trigger: { type: 'api' },
      steps: [
        {
          id: 'checks',
          type: 'parallel',
          branches: [
            { id: 'slow', steps: [{ id: 'slow_wait', type: 'wait_for_time', duration: '1h', next: 'after_slow' }, { id: 'after_slow', type: 'action', action: 'record_mark', params: { label: 'never' } }] },
            { id: 'broken', steps: [{ id: 'boom', type: 'action', action: 'fail_always', params: { message: 'vendor rejected the request' } }] },
          ],
          next: 'unreached',
        },
        { id: 'unreached', type: 'action', action: 'record_mark', params: { label: 'unreached' } },
      ],
    });
    const runId = await startRun(h, 'parallel_fail');
    const run = await waitForRun(h, runId, isClosed);
    expect(run.status).toBe('failed');
    expect(run.state.error).toMatchObject({ type: 'BranchFailed', stepId: 'checks' });
    expect(run.state.error.message).toContain('vendor rejected the request');
    expect(stepOf(run, 'slow_wait').status).toBe('cancelled');
    expect(stepOf(run, 'after_slow').status).toBe('skipped');
    expect(stepOf(run, 'unreached').status).toBe('skipped');
    expect(await marks(runId)).toEqual({});
    await replayAndMaybeRecord(h, runId, 'parallel-branch-fails');
  });
});

describe('run_workflow', () => {
  beforeAll(async () => {
    await publishWorkflow(h, 'child_screen', {
      trigger: { type: 'api', inputSchema: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } },
      steps: [
        { id: 'mark', type: 'action', action: 'record_mark', params: { label: 'child {{ trigger.name }}' }, next: 'done' },
        { id: 'done', type: 'end', reason: 'screened', output: { screened: { $cel: 'trigger.name' } } },
      ],
    });
  });

  it('starts the child, waits for it, and takes its output', async () => {
    await publishWorkflow(h, 'parent_flow', {
      trigger: { type: 'api' },
      steps: [
        { id: 'screen', type: 'run_workflow', workflow: 'child_screen', input: { name: 'Grace' }, next: 'use' },
        { id: 'use', type: 'action', action: 'set_variables', params: { variables: { who: { $cel: 'steps.screen.output.output.screened' } } } },
      ],
    });
    const runId = await startRun(h, 'parent_flow');
    const run = await waitForRun(h, runId, isClosed);
    expect(run.status).toBe('completed');
    const screen = stepOf(run, 'screen');
    expect(screen.output).toMatchObject({ runId: `${runId}-screen`, outcome: 'succeeded', reason: 'screened', output: { screened: 'Grace' } });
    expect(stepOf(run, 'use').output).toEqual({ who: 'Grace' });

    const child = await waitForRun(h, screen.output.runId, isClosed);
    expect(child).toMatchObject({ workflowId: 'child_screen', version: 1, triggerType: 'child', status: 'completed' });
    const listed = await api(h, 'GET', '/v1/runs?workflow=child_screen');
    expect(listed.body.runs.map((r: { runId: string }) => r.runId)).toContain(screen.output.runId);
    await replayAndMaybeRecord(h, runId, 'run-workflow-parent');
  });

  it('fails the step with a clear error when the child input does not match its schema', async () => {
    await publishWorkflow(h, 'parent_bad_input', {
      trigger: { type: 'api' },
      steps: [{ id: 'screen', type: 'run_workflow', workflow: 'child_screen', input: { nom: 'x' } }],
    });
    const runId = await startRun(h, 'parent_bad_input');
    const run = await waitForRun(h, runId, isClosed);
    expect(run.status).toBe('failed');
    expect(stepOf(run, 'screen')).toMatchObject({ status: 'failed', error: { type: 'ChildWorkflowError' } });
    expect(stepOf(run, 'screen').error.message).toMatch(/\/name.*must have required property 'name'/);
  });

  it('starts a child without waiting when wait is false', async () => {
    await publishWorkflow(h, 'parent_fire_and_forget', {
      trigger: { type: 'api' },
      steps: [{ id: 'screen', type: 'run_workflow', workflow: 'child_screen', input: { name: 'Lin' }, wait: false }],
    });
    const runId = await startRun(h, 'parent_fire_and_forget');
    const run = await waitForRun(h, runId, isClosed);
    expect(run.status).toBe('completed');
    expect(stepOf(run, 'screen').output).toEqual({ runId: `${runId}-screen`, workflowId: 'child_screen', version: 1 });
    const child = await waitForRun(h, `${runId}-screen`, isClosed);
    expect(child.state.output).toEqual({ screened: 'Lin' });
  });
});
