/**
 * The schedule_workflow_run action: a run schedules a run of another
 * published workflow at a later time with a payload (how waits longer than
 * 30 days are done). The target starts later, not before; a retried step
 * schedules nothing twice; bad targets and payloads fail the step.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { api, createHarness, isClosed, publishWorkflow, startRun, stepOf, waitForRun, type Harness } from './support/harness';

jest.setTimeout(120_000);

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
  await publishWorkflow(h, 'follow-up', {
    trigger: { type: 'api', inputSchema: { type: 'object', properties: { caseId: { type: 'string' } }, required: ['caseId'] } },
    steps: [{ id: 'capture', type: 'action', action: 'set_variables', params: { variables: { got: { $cel: 'trigger' } } } }],
  });
});
afterAll(async () => {
  await h?.close();
});

const scheduleStep = (params: Record<string, unknown>) => ({ id: 'later', type: 'action', action: 'schedule_workflow_run', params });

it('starts the target later with the payload, trigger type schedule', async () => {
  await publishWorkflow(h, 'open-case', {
    trigger: { type: 'api' },
    steps: [scheduleStep({ workflow: 'follow-up', after: '3s', payload: { caseId: { $cel: 'trigger.caseId' } } })],
  });
  const runId = await startRun(h, 'open-case', { caseId: 'case_42' });
  const run = await waitForRun(h, runId, isClosed);
  expect(run.status).toBe('completed');
  const scheduled = stepOf(run, 'later').output;
  expect(scheduled).toMatchObject({ workflowId: 'follow-up' });
  expect(scheduled.runId).toMatch(/^run_d[0-9a-f]{32}$/);

  // Not before its time: the run does not exist yet.
  expect((await api(h, 'GET', `/v1/runs/${scheduled.runId}`)).status).toBe(404);

  const target = await waitForRun(h, scheduled.runId, isClosed);
  expect(target).toMatchObject({ workflowId: 'follow-up', version: 1, triggerType: 'schedule', status: 'completed' });
  expect(stepOf(target, 'capture').output.got).toEqual({ caseId: 'case_42' });
  expect(Date.parse(target.startedAt)).toBeGreaterThanOrEqual(Date.parse(scheduled.startsAt));
});

it('schedules a run months ahead (beyond the 30-day wait limit) at the given time', async () => {
  const at = new Date(Date.now() + 90 * 24 * 3600 * 1000).toISOString();
  await publishWorkflow(h, 'annual-review', { trigger: { type: 'api' }, steps: [scheduleStep({ workflow: 'follow-up', at, payload: { caseId: 'case_7' } })] });
  const run = await waitForRun(h, await startRun(h, 'annual-review'), isClosed);
  expect(run.status).toBe('completed');
  const scheduled = stepOf(run, 'later').output;
  expect(scheduled.startsAt).toBe(at);
  // The helper sleeps until then; the run itself does not exist yet.
  const helper = h.client.workflow.getHandle(`idw-delayed-${scheduled.runId}`);
  expect((await helper.describe()).status.name).toBe('RUNNING');
  expect((await api(h, 'GET', `/v1/runs/${scheduled.runId}`)).status).toBe(404);
  await helper.terminate('test over');
});

it('schedules once per step: a retried attempt gets the same run back', async () => {
  const action = h.registry.activities()['schedule_workflow_run'];
  const env = new MockActivityEnvironment({ taskQueue: h.taskQueue, workflowExecution: { workflowId: 'run_retrytest', runId: 'r1' } }, { client: h.client });
  const input = { params: { workflow: 'follow-up', after: '1h', payload: { caseId: 'case_9' } }, step: { id: 'later', round: 1, attempt: 1 } };
  const first = (await env.run(action, input)) as any;
  const second = (await env.run(action, { ...input, step: { ...input.step, attempt: 2 } })) as any;
  expect(second).toEqual(first);
  await h.client.workflow.getHandle(`idw-delayed-${first.runId}`).terminate('test over');
});

it('fails the step for an unknown workflow or a payload its input schema refuses', async () => {
  await publishWorkflow(h, 'bad-target', { trigger: { type: 'api' }, steps: [scheduleStep({ workflow: 'no-such-flow', after: '1d' })] });
  const unknown = await waitForRun(h, await startRun(h, 'bad-target'), isClosed);
  expect(unknown.status).toBe('failed');
  expect(stepOf(unknown, 'later').error).toMatchObject({ type: 'InvalidActionParams' });
  expect(stepOf(unknown, 'later').error.message).toMatch(/no workflow "no-such-flow"/);

  await publishWorkflow(h, 'bad-payload', { trigger: { type: 'api' }, steps: [scheduleStep({ workflow: 'follow-up', after: '1d', payload: { caseId: 5 } })] });
  const refused = await waitForRun(h, await startRun(h, 'bad-payload'), isClosed);
  expect(refused.status).toBe('failed');
  expect(stepOf(refused, 'later').error.message).toMatch(/input schema/);
});

it('rejects bad params when the definition is saved, and both at and after when the step runs', async () => {
  const res = await api(h, 'POST', '/v1/workflows', {
    name: 'bad',
    definition: { trigger: { type: 'api' }, steps: [scheduleStep({ workflow: 'follow-up', at: 'next tuesday', after: 'a while' })] },
  });
  expect(res.status).toBe(400);
  expect(res.body.error.details.map((d: any) => [d.code, d.path])).toEqual([
    ['invalid_params', '/definition/steps/0/params/at'],
    ['invalid_params', '/definition/steps/0/params/after'],
  ]);

  await publishWorkflow(h, 'both', { trigger: { type: 'api' }, steps: [scheduleStep({ workflow: 'follow-up', at: '2030-01-01T00:00:00Z', after: '1d' })] });
  const run = await waitForRun(h, await startRun(h, 'both'), isClosed);
  expect(run.status).toBe('failed');
  expect(stepOf(run, 'later').error.message).toMatch(/exactly one of "at" or "after"/);
});
