/**
 * Run inspection: the timeline `GET /v1/runs/:id` gives (steps in order with
 * status, attempts, timings, inputs and outputs with secrets removed, the
 * event that resolved a wait), and what the Temporal Web UI shows: runs
 * found by the objects they touched (IdwObjectIds) and by version and
 * trigger, and the current step in the run's current details while it waits.
 */
import { api, createHarness, isClosed, publishWorkflow, replayAndMaybeRecord, startRun, stepOf, waitForRun, type Harness } from './support/harness';

let h: Harness;
let inquiryId: string;
let caseId: string;
beforeAll(async () => {
  h = await createHarness();
  inquiryId = `inq_${h.schema.slice(2)}`;
  caseId = `case_${h.schema.slice(2)}`;
  await publishWorkflow(h, 'inspect_me', {
    trigger: { type: 'api', inputSchema: { type: 'object', required: ['inquiryId'], properties: { inquiryId: { type: 'string' } } } },
    steps: [
      { id: 'call_vendor', type: 'action', action: 'flaky_mark', params: { label: 'vendor', failures: 2 }, next: 'note' },
      {
        id: 'note',
        type: 'action',
        action: 'set_variables',
        params: {
          variables: {
            caseId: { $cel: `"${'case_'}" + trigger.inquiryId.substring(4)` },
            password: 'hunter2-secret',
            service: { apiKey: 'k-1234567890', url: 'https://bot:pa55word@hooks.example.com/x?token=tok-abcdef&page=2' },
            header: 'Bearer abc.def.ghi',
            keep: 'visible',
          },
        },
        next: 'await_review',
      },
      { id: 'await_review', type: 'wait_for_event', events: ['case.resolved'], object: 'vars.caseId', timeout: '60s', next: 'done' },
      { id: 'done', type: 'end', reason: 'reviewed' },
    ],
  });
});
afterAll(async () => {
  await h?.close();
});

async function visible(query: string, runId: string): Promise<boolean> {
  for await (const execution of h.client.workflow.list({ query })) if (execution.workflowId === runId) return true;
  return false;
}

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`not within ${timeoutMs} ms: ${what}`);
}

it('shows the timeline, the current step while waiting, and is found by the objects it touched', async () => {
  const runId = await startRun(h, 'inspect_me', { inquiryId });
  const waiting = await waitForRun(h, runId, (r) => r.state?.steps?.some((s: any) => s.id === 'await_review' && s.status === 'waiting'));

  // The Web UI shows the workflow's current details: the step and what it waits for.
  const metadata = (await h.client.workflow.getHandle(runId).query('__temporal_workflow_metadata')) as { currentDetails?: string };
  expect(metadata.currentDetails).toBe(`await_review: waiting for case.resolved on ${caseId}`);
  expect(waiting.timeline.map((t: any) => [t.stepId, t.status])).toEqual([
    ['call_vendor', 'completed'],
    ['note', 'completed'],
    ['await_review', 'waiting'],
  ]);

  // Found through Temporal visibility (what the Web UI's search box runs) by the trigger's object and an action's output.
  await eventually(() => visible(`IdwObjectIds = '${inquiryId}'`, runId), `run by ${inquiryId}`);
  await eventually(() => visible(`IdwObjectIds = '${caseId}' AND IdwWorkflowId = 'inspect_me' AND IdwWorkflowVersion = 1 AND IdwTriggerType = 'api'`, runId), `run by ${caseId}`);
  const listed = await api(h, 'GET', `/v1/runs?objectId=${caseId}&status=running`);
  expect(listed.body.runs.map((r: any) => r.runId)).toEqual([runId]);
  expect((await api(h, 'GET', `/v1/runs?objectId=inq_nothere&workflow=inspect_me`)).body.runs).toEqual([]);
  expect((await api(h, 'GET', '/v1/runs?objectId=not%20an%20id')).status).toBe(400);

  const eventId = `evt_${h.schema.slice(2)}`;
  expect((await api(h, 'POST', `/v1/runs/${runId}/events`, { id: eventId, type: 'case.resolved', objectId: caseId, data: { resolution: 'approved' } })).status).toBe(202);
  const run = await waitForRun(h, runId, isClosed);
  expect(run.status).toBe('completed');
  await eventually(() => visible(`IdwObjectIds = '${inquiryId}' AND ExecutionStatus = 'Completed'`, runId), 'the completed run by status');

  const timeline = run.timeline as any[];
  expect(timeline.map((t) => t.stepId)).toEqual(['call_vendor', 'note', 'await_review', 'done']);
  for (const entry of timeline) {
    expect(entry.status).toBe('completed');
    expect(Date.parse(entry.endedAt)).toBeGreaterThanOrEqual(Date.parse(entry.startedAt));
    expect(entry.durationMs).toBe(Date.parse(entry.endedAt) - Date.parse(entry.startedAt));
  }
  for (let i = 1; i < timeline.length; i++) expect(Date.parse(timeline[i].startedAt)).toBeGreaterThanOrEqual(Date.parse(timeline[i - 1].endedAt));

  const [vendor, note, review] = timeline;
  expect(vendor).toMatchObject({ type: 'action', action: 'flaky_mark', attempts: 3, rounds: 1, input: { label: 'vendor', failures: 2 }, output: { label: 'vendor', attempt: 3 } });
  expect(vendor.lastError).toEqual({ type: 'VendorUnavailable', message: 'vendor said no (attempt 2)' });

  // Secrets are gone from inputs and outputs alike; the rest is shown as it was.
  for (const shown of [note.input.variables, note.output]) {
    expect(shown).toEqual({
      caseId,
      password: '[redacted]',
      service: { apiKey: '[redacted]', url: 'https://bot:[redacted]@hooks.example.com/x?token=[redacted]&page=2' },
      header: '[redacted]',
      keep: 'visible',
    });
  }
  const everything = JSON.stringify(run);
  for (const secret of ['hunter2-secret', 'k-1234567890', 'pa55word', 'tok-abcdef', 'abc.def.ghi']) expect(everything).not.toContain(secret);

  // The event that resolved the wait.
  expect(review.input).toEqual({ events: ['case.resolved'], objectId: caseId });
  expect(review.resolvedBy).toMatchObject({ id: eventId, type: 'case.resolved', objectId: caseId });
  expect(stepOf(run, 'await_review').resolvedBy.id).toBe(eventId);

  await replayAndMaybeRecord(h, runId, 'run-inspection-object-ids');
});

it('shows the error of a failed step', async () => {
  await publishWorkflow(h, 'inspect_fail', {
    trigger: { type: 'api' },
    steps: [{ id: 'boom', type: 'action', action: 'fail_always', params: { message: 'the vendor refused the token tok-zzz' } }],
  });
  const runId = await startRun(h, 'inspect_fail', {});
  const run = await waitForRun(h, runId, isClosed);
  expect(run.status).toBe('failed');
  expect(run.timeline).toEqual([
    expect.objectContaining({ stepId: 'boom', status: 'failed', attempts: 1, error: { type: 'TestFailure', message: 'the vendor refused the token tok-zzz' } }),
  ]);
  expect(run.state.error).toMatchObject({ type: 'TestFailure', stepId: 'boom' });
});
