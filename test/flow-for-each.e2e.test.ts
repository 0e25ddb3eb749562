/**
 * for_each: every item of a list through a sub-graph, at most `concurrency`
 * at once (measured in PostgreSQL by the test action), results in the
 * list's order, item failures stopping the loop or collected, and large
 * lists run in batch child executions with no history past ~10k events.
 */
import { api, createHarness, isClosed, publishWorkflow, replayAndMaybeRecord, startRun, stepOf, waitForRun, type Harness } from './support/harness';
import { RUN_WORKFLOW_TYPE, runStart, type RunInput, type RunMemo } from '../src/workflows/run-contract';
import { childWorkflowIds, executionHistories, replayExecution } from './support/history-chain';
import { intervals, maxOverlap } from './support/test-actions';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

const accounts = (n: number, prefix: string): string[] => Array.from({ length: n }, (_, i) => `${prefix}_${String(i).padStart(3, '0')}`);

describe('for_each', () => {
  it('runs 50 items with concurrency 5: never more than 5 at once, results in list order', async () => {
    await publishWorkflow(h, 'screen_accounts', {
      trigger: { type: 'api', inputSchema: { type: 'object', required: ['accounts'], properties: { accounts: { type: 'array', items: { type: 'string' } } } } },
      steps: [
        {
          id: 'screen_all',
          type: 'for_each',
          items: 'trigger.accounts',
          as: 'account',
          concurrency: 5,
          steps: [
            { id: 'screen', type: 'action', action: 'timed_mark', params: { label: 'c5-{{ account }}', sleepMs: 150 }, next: 'note' },
            { id: 'note', type: 'action', action: 'set_variables', params: { variables: { seen: { $cel: 'account' } } } },
          ],
          result: { account: { $cel: 'account' }, index: { $cel: 'account_index' }, label: { $cel: 'steps.screen.output.label' }, seen: { $cel: 'vars.seen' } },
          next: 'summary',
        },
        { id: 'summary', type: 'end', output: { count: { $cel: 'steps.screen_all.output.count' }, first: { $cel: 'steps.screen_all.output.results[0].account' } } },
      ],
    });
    const list = accounts(50, 'acc');
    const runId = await startRun(h, 'screen_accounts', { accounts: list });
    const run = await waitForRun(h, runId, isClosed, 60_000);
    expect(run.status).toBe('completed');
    const loop = stepOf(run, 'screen_all');
    expect(loop.status).toBe('completed');
    expect(loop.progress).toEqual({ total: 50, completed: 50, failed: 0 });
    expect(loop.output.results).toEqual(list.map((account, index) => ({ account, index, label: `c5-${account}`, seen: account })));
    expect(loop.output).toMatchObject({ count: 50, failed: 0, errors: [] });
    expect(run.state.output).toEqual({ count: 50, first: 'acc_000' });
    // Steps inside the loop are per item: the run's state lists the loop, not them.
    expect(run.state.steps.map((s: { id: string }) => s.id)).toEqual(['screen_all', 'summary']);

    const done = await intervals(h.db, 'c5-');
    expect(done).toHaveLength(50);
    const most = maxOverlap(done);
    expect(most).toBeLessThanOrEqual(5);
    expect(most).toBeGreaterThanOrEqual(2);
    await replayAndMaybeRecord(h, runId, 'for-each-concurrency');
  });

  const flaky = {
    trigger: { type: 'api' },
    steps: [
      {
        id: 'each',
        type: 'for_each',
        items: '[0, 1, 2, 3, 4, 5]',
        concurrency: 2,
        onItemError: 'continue',
        steps: [
          {
            id: 'call',
            type: 'action',
            action: 'flaky_mark',
            params: { label: 'item {{ item }}', failures: { $cel: 'item % 3 == 1 ? 9 : 0' }, errorType: 'VendorRejected', nonRetryable: true },
          },
        ],
        result: { $cel: 'item * 10' },
      },
    ],
  };

  it('collects failed items and goes on when onItemError is continue', async () => {
    await publishWorkflow(h, 'each_continue', flaky);
    const runId = await startRun(h, 'each_continue');
    const run = await waitForRun(h, runId, isClosed);
    expect(run.status).toBe('completed');
    const out = stepOf(run, 'each').output;
    expect(out.results).toEqual([0, null, 20, 30, null, 50]);
    expect(out.errors).toEqual([
      { index: 1, stepId: 'call', type: 'VendorRejected', message: 'step "call" failed: vendor said no (attempt 1)' },
      { index: 4, stepId: 'call', type: 'VendorRejected', message: 'step "call" failed: vendor said no (attempt 1)' },
    ]);
    expect(stepOf(run, 'each').progress).toEqual({ total: 6, completed: 4, failed: 2 });
  });

  it('stops at the first failed item with ItemFailed, which a catch route can take', async () => {
    const stopping = structuredClone(flaky) as any;
    stopping.steps[0].onItemError = 'stop';
    stopping.steps[0].concurrency = 1;
    stopping.steps[0].catch = [{ errors: ['ItemFailed'], next: 'report' }];
    stopping.steps.push({ id: 'report', type: 'end', reason: '{{ steps.each.error.message }}' });
    await publishWorkflow(h, 'each_stop', stopping);
    const runId = await startRun(h, 'each_stop');
    const run = await waitForRun(h, runId, isClosed);
    expect(run.status).toBe('completed');
    expect(run.state.reason).toBe('item 1 failed: step "call" failed: vendor said no (attempt 1)');
    expect(stepOf(run, 'each')).toMatchObject({ status: 'failed', error: { type: 'ItemFailed' }, handledBy: 'report', progress: { total: 6, completed: 1, failed: 1 } });
    // Items after the failed one never started.
    const { rows } = await h.db.query<{ label: string }>('SELECT label FROM test_marks WHERE run_id = $1 ORDER BY label', [runId]);
    expect(rows.map((r) => r.label)).toEqual(['item 0', 'item 1']);
  });

  it('gives an empty list an empty result', async () => {
    await publishWorkflow(h, 'each_empty', {
      trigger: { type: 'api' },
      steps: [{ id: 'each', type: 'for_each', items: 'trigger.items', concurrency: 3, steps: [{ id: 'call', type: 'action', action: 'record_mark', params: { label: 'x' } }] }],
    });
    const runId = await startRun(h, 'each_empty', { items: [] });
    const run = await waitForRun(h, runId, isClosed);
    expect(stepOf(run, 'each').output).toEqual({ results: [], errors: [], count: 0, failed: 0 });
  });

  it('fails with ExpressionError when items is not a list at run time', async () => {
    const runId = await startRun(h, 'each_empty', { items: 'abc' });
    const run = await waitForRun(h, runId, isClosed);
    expect(run.status).toBe('failed');
    expect(run.state.error).toMatchObject({ type: 'ExpressionError', stepId: 'each' });
  });
});

describe('batched for_each', () => {
  const batchedLoop = {
    trigger: { type: 'api' },
    steps: [
      {
        id: 'each',
        type: 'for_each',
        items: 'trigger.ids',
        concurrency: 4,
        steps: [{ id: 'double', type: 'action', action: 'set_variables', params: { variables: { twice: { $cel: 'item * 2' } } } }],
        result: { $cel: 'steps.double.output.twice' },
      },
    ],
  };

  it('runs more than 100 items in a batch execution, results in order', async () => {
    await publishWorkflow(h, 'batched_doubles', batchedLoop);
    const ids = Array.from({ length: 150 }, (_, i) => i);
    const runId = await startRun(h, 'batched_doubles', { ids });
    const run = await waitForRun(h, runId, isClosed, 120_000);
    expect(run.status).toBe('completed');
    expect(stepOf(run, 'each').output.results).toEqual(ids.map((i) => i * 2));
    const parent = await executionHistories(h.client, runId);
    const [batchId] = await childWorkflowIds(h.client, runId, parent[0].runId, 'forEachBatch');
    expect(batchId).toBe(`${runId}-each-batch0`);
    await replayAndMaybeRecord(h, runId, 'for-each-batched-parent');
    const batch = await executionHistories(h.client, batchId);
    await replayExecution(h.address, h.client, batchId, batch[0].runId, 'for-each-batch');
  });

  it('continues a batch as new between items when its history grows long', async () => {
    await publishWorkflow(h, 'batched_long', batchedLoop);
    const live = (await h.workflows.liveVersion('batched_long'))!;
    const ids = Array.from({ length: 120 }, (_, i) => i);
    const runId = `run_batchcan${Date.now()}`;
    // Started as the API would, with a small threshold so that one batch spans many executions.
    const input: RunInput = {
      runId,
      workflowId: 'batched_long',
      version: live.version,
      definition: live.definition,
      actionPolicies: h.registry.policiesFor(live.definition),
      trigger: { type: 'api', payload: { ids } },
      continueAsNewAfterEvents: 80,
    };
    const memo: RunMemo = { workflowId: 'batched_long', version: live.version, triggerType: 'api', startedAt: new Date().toISOString() };
    await h.client.workflow.start(RUN_WORKFLOW_TYPE, { taskQueue: h.taskQueue, ...runStart(input, memo) });
    const run = await waitForRun(h, runId, isClosed, 120_000);
    expect(run.status).toBe('completed');
    expect(stepOf(run, 'each').output.results).toEqual(ids.map((i) => i * 2));
    const [batchId] = await childWorkflowIds(h.client, runId, (await executionHistories(h.client, runId))[0].runId, 'forEachBatch');
    const batch = await executionHistories(h.client, batchId);
    expect(batch.length).toBeGreaterThan(2);
    // Items in flight finish before it continues: a little over the threshold, never far.
    expect(Math.max(...batch.map((e) => e.events))).toBeLessThan(200);
    await replayExecution(h.address, h.client, batchId, batch[0].runId, 'for-each-batch-continued-first');
    await replayExecution(h.address, h.client, batchId, batch[batch.length - 1].runId, 'for-each-batch-continued-last');
  });
});

describe('large for_each', () => {
  it('runs 10,000 items in batches; no execution history passes 10k events', async () => {
    await publishWorkflow(h, 'screen_many', {
      trigger: { type: 'api' },
      steps: [
        {
          id: 'screen_all',
          type: 'for_each',
          items: 'trigger.ids',
          as: 'n',
          concurrency: 20,
          steps: [{ id: 'mark', type: 'action', action: 'record_mark', params: { label: 'big' } }],
          result: { $cel: 'n' },
          next: 'summary',
        },
        { id: 'summary', type: 'end', output: { count: { $cel: 'steps.screen_all.output.count' }, failed: { $cel: 'steps.screen_all.output.failed' } } },
      ],
    });
    const ids = Array.from({ length: 10_000 }, (_, i) => i);
    const started = Date.now();
    const runId = await startRun(h, 'screen_many', { ids });
    const run = await waitForRun(h, runId, isClosed, 900_000);
    const wallMs = Date.now() - started;
    expect(run.status).toBe('completed');
    expect(run.state.output).toEqual({ count: 10_000, failed: 0 });
    expect(stepOf(run, 'screen_all').output.results).toEqual(ids);
    const { rows } = await h.db.query<{ n: string }>("SELECT count(*) AS n FROM test_marks WHERE run_id LIKE $1 AND label = 'big'", [`${runId}-%`]);
    expect(Number(rows[0].n)).toBe(10_000);

    const parent = await executionHistories(h.client, runId);
    const batchIds = await childWorkflowIds(h.client, runId, parent[parent.length - 1].runId, 'forEachBatch');
    const batches = (await Promise.all(batchIds.map((id) => executionHistories(h.client, id)))).flat();
    const all = [...parent, ...batches];
    const largest = Math.max(...all.map((e) => e.events));
    console.log(
      `[for_each 10,000] wall ${wallMs} ms; parent executions: ${parent.map((e) => e.events).join(', ')} events; ` +
        `${batchIds.length} batches, ${batches.length} batch executions: ${batches.map((e) => e.events).join(', ')} events; largest ${largest}`,
    );
    expect(batchIds.length).toBeGreaterThan(1);
    expect(largest).toBeLessThanOrEqual(10_000);
    // The API lists the run once; batches are not runs.
    const listed = await api(h, 'GET', '/v1/runs?workflow=screen_many');
    expect(listed.body.runs.map((r: { runId: string }) => r.runId)).toEqual([runId]);
  }, 900_000);
});
