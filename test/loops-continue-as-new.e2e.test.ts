/**
 * Loops that run for thousands of rounds: the run continues as new at a
 * step boundary whenever its history grows long (or it has run many steps),
 * invisibly to the API. The run id stays, the state (steps, rounds,
 * variables, events held) carries on, and no execution's history passes
 * ~10k events.
 */
import { RUN_WORKFLOW_TYPE, runStart, type RunInput, type RunMemo } from '../src/workflows/run-contract';
import { api, createHarness, isClosed, publishWorkflow, replayAndMaybeRecord, startRun, stepOf, waitForRun, type Harness } from './support/harness';
import { executionHistories, replayExecution } from './support/history-chain';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

/**
 * Poll, check, pause until the vendor's next poll time, poll again. The
 * vendor here says "now" every time, so the pause is over at once: 3,000
 * rounds take seconds, not the ~1 s per round that the dev server's timers
 * would take (they fire at a resolution of about a second).
 */
const pollingLoop = {
  trigger: { type: 'api', inputSchema: { type: 'object', required: ['iterations'], properties: { iterations: { type: 'integer', minimum: 1 } } } },
  steps: [
    { id: 'init', type: 'action', action: 'set_variables', params: { variables: { polls: 0 } }, next: 'poll' },
    {
      id: 'poll',
      type: 'action',
      action: 'set_variables',
      name: 'Poll the vendor',
      params: { variables: { polls: { $cel: 'vars.polls + 1' }, retry_at: { $cel: 'now' } } },
      next: 'check',
    },
    {
      id: 'check',
      type: 'condition',
      routes: [{ when: 'vars.polls >= trigger.iterations', next: 'done', label: 'enough rounds' }],
      default: 'pause',
    },
    { id: 'pause', type: 'wait_for_time', until: 'vars.retry_at', next: 'poll' },
    { id: 'done', type: 'end', reason: 'polled {{ vars.polls }} times', output: { polls: { $cel: 'vars.polls' }, lastRound: { $cel: 'steps.poll.output.polls' } } },
  ],
};

describe('a polling loop', () => {
  it('runs 3,000 rounds, continuing as new; the run id and its state stay coherent through the API', async () => {
    await publishWorkflow(h, 'poll_vendor', pollingLoop);
    const started = Date.now();
    const runId = await startRun(h, 'poll_vendor', { iterations: 3000 });

    // While it runs, the API shows one run with one start time, and rounds that only go up.
    const seen: { startedAt: string; rounds: number }[] = [];
    let run: any;
    for (;;) {
      const res = await api(h, 'GET', `/v1/runs/${runId}`);
      expect(res.status).toBe(200);
      run = res.body;
      if (run.state) seen.push({ startedAt: run.startedAt, rounds: stepOf(run, 'poll').runs });
      if (isClosed(run)) break;
      expect(['running', 'waiting']).toContain(run.status);
      if (Date.now() - started > 300_000) throw new Error(`did not finish: ${JSON.stringify(stepOf(run, 'poll'))}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const wallMs = Date.now() - started;
    expect(run.status).toBe('completed');
    expect(run.runId).toBe(runId);
    expect(run.state).toMatchObject({ runId, status: 'completed', outcome: 'succeeded', reason: 'polled 3000 times', output: { polls: 3000, lastRound: 3000 } });
    expect(stepOf(run, 'poll')).toMatchObject({ runs: 3000, status: 'completed', attempts: 1 });
    expect(stepOf(run, 'pause').runs).toBe(2999);
    expect(stepOf(run, 'init').runs).toBe(1);
    expect(new Set(seen.map((s) => s.startedAt))).toEqual(new Set([run.startedAt]));
    expect(seen.map((s) => s.rounds)).toEqual([...seen.map((s) => s.rounds)].sort((a, b) => a - b));

    const executions = await executionHistories(h.client, runId);
    console.log(`[polling loop 3,000] wall ${wallMs} ms; ${executions.length} executions: ${executions.map((e) => e.events).join(', ')} events`);
    expect(executions.length).toBeGreaterThan(1);
    expect(run.state.executions).toBe(executions.length);
    expect(Math.max(...executions.map((e) => e.events))).toBeLessThanOrEqual(10_000);

    // Listed once, with the time it began.
    const listed = await api(h, 'GET', '/v1/runs?workflow=poll_vendor');
    expect(listed.body.runs).toHaveLength(1);
    expect(listed.body.runs[0]).toMatchObject({ runId, status: 'completed', startedAt: run.startedAt });
  }, 400_000);

  it('carries timers, variables and held events across executions (a short threshold, real 1 ms timers)', async () => {
    await publishWorkflow(h, 'poll_timer', {
      trigger: { type: 'api' },
      steps: [
        { id: 'init', type: 'action', action: 'set_variables', params: { variables: { polls: 0 } }, next: 'poll' },
        { id: 'poll', type: 'action', action: 'set_variables', params: { variables: { polls: { $cel: 'vars.polls + 1' } } }, next: 'check' },
        { id: 'check', type: 'condition', routes: [{ when: 'vars.polls >= 12', next: 'await_case' }], default: 'pause' },
        { id: 'pause', type: 'wait_for_time', duration: '1ms', next: 'poll' },
        { id: 'await_case', type: 'wait_for_event', events: ['case.resolved'], timeout: '30s', next: 'done' },
        { id: 'done', type: 'end', output: { polls: { $cel: 'vars.polls' }, event: { $cel: 'steps.await_case.output.event.id' } } },
      ],
    });
    // Started as the API would, with a small history threshold so that a dozen rounds span several executions.
    const live = (await h.workflows.liveVersion('poll_timer'))!;
    const runId = `run_cantest${Date.now()}`;
    const input: RunInput = {
      runId,
      workflowId: 'poll_timer',
      version: live.version,
      definition: live.definition,
      actionPolicies: h.registry.policiesFor(live.definition),
      trigger: { type: 'api', payload: {} },
      continueAsNewAfterEvents: 25,
    };
    const memo: RunMemo = { workflowId: 'poll_timer', version: live.version, triggerType: 'api', startedAt: new Date().toISOString() };
    await h.client.workflow.start(RUN_WORKFLOW_TYPE, { taskQueue: h.taskQueue, ...runStart(input, memo) });
    // The event arrives early, twice: held across the executions, taken once.
    for (let i = 0; i < 2; i++) {
      expect((await api(h, 'POST', `/v1/runs/${runId}/events`, { id: 'evt_early', type: 'case.resolved', objectId: 'case_1' })).status).toBe(202);
    }
    const run = await waitForRun(h, runId, isClosed, 120_000);
    expect(run.status).toBe('completed');
    expect(run.state.output).toEqual({ polls: 12, event: 'evt_early' });
    expect(stepOf(run, 'pause').runs).toBe(11);
    const executions = await executionHistories(h.client, runId);
    expect(executions.length).toBeGreaterThanOrEqual(3);
    expect(run.state.executions).toBe(executions.length);
    expect(Math.max(...executions.map((e) => e.events))).toBeLessThan(80);
    // The first execution ends by continuing as new; the last starts from a carried state.
    await replayExecution(h.address, h.client, runId, executions[0].runId, 'continue-as-new-first-execution');
    await replayAndMaybeRecord(h, runId, 'continue-as-new-last-execution');
  }, 150_000);
});
