/**
 * Waits: a durable timer, and waits on an object's events, resolved by a
 * delivered event (deduplicated by id, matched on object and CEL) or by the
 * default resolution time; plus cancellation of a waiting run.
 */
import { api, createHarness, isClosed, publishWorkflow, replayAndMaybeRecord, startRun, stepOf, waitForRun, type Harness } from './support/harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
  await publishWorkflow(h, 'case_review', {
    trigger: { type: 'api', inputSchema: { type: 'object', required: ['caseId'], properties: { caseId: { type: 'string' } } } },
    steps: [
      {
        id: 'await_case',
        type: 'wait_for_event',
        events: ['case.resolved'],
        object: 'trigger.caseId',
        match: 'event.data.resolution in ["approved", "declined"]',
        timeout: '3s',
        next: 'decide',
      },
      {
        id: 'decide',
        type: 'condition',
        routes: [
          { when: 'steps.await_case.output.timedOut', next: 'expired' },
          { when: 'steps.await_case.output.event.data.resolution == "approved"', next: 'approve' },
        ],
        default: 'decline',
      },
      { id: 'approve', type: 'end', reason: 'approved by {{ steps.await_case.output.event.data.reviewer }}' },
      { id: 'decline', type: 'end', outcome: 'failed', reason: 'declined' },
      { id: 'expired', type: 'end', reason: 'no decision in time: auto-approved' },
    ],
  });
});
afterAll(async () => {
  await h?.close();
});

const waitingOn = (stepId: string) => (run: any) => run.state?.steps?.some((s: any) => s.id === stepId && s.status === 'waiting');

describe('wait_for_time', () => {
  it('waits on a durable timer, shows the run as waiting, then continues', async () => {
    await publishWorkflow(h, 'timer_flow', {
      trigger: { type: 'api' },
      steps: [
        { id: 'pause', type: 'wait_for_time', duration: '2s', next: 'after' },
        { id: 'after', type: 'action', action: 'record_mark', params: { label: 'after' } },
      ],
    });
    const started = Date.now();
    const runId = await startRun(h, 'timer_flow');
    const waiting = await waitForRun(h, runId, waitingOn('pause'));
    expect(waiting.status).toBe('waiting');
    expect(stepOf(waiting, 'pause').waitingFor).toMatch(/^the time \d{4}-/);
    const run = await waitForRun(h, runId, isClosed);
    expect(run.status).toBe('completed');
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    const pause = stepOf(run, 'pause');
    expect(Date.parse(pause.endedAt) - Date.parse(pause.startedAt)).toBeGreaterThanOrEqual(2000);
    expect(stepOf(run, 'after').status).toBe('completed');
    await replayAndMaybeRecord(h, runId, 'wait-for-time');
  });
});

describe('wait_for_event', () => {
  it('is resolved by a delivered event on its object; other objects, non-matching and duplicate events are ignored', async () => {
    const runId = await startRun(h, 'case_review', { caseId: 'case_123' });
    const waiting = await waitForRun(h, runId, waitingOn('await_case'));
    expect(stepOf(waiting, 'await_case').waitingFor).toBe('case.resolved on case_123');

    // Another object's event, and an event the match rejects: the run keeps waiting.
    expect((await api(h, 'POST', `/v1/runs/${runId}/events`, { id: 'evt_other', type: 'case.resolved', objectId: 'case_999', data: { resolution: 'approved' } })).status).toBe(202);
    expect((await api(h, 'POST', `/v1/runs/${runId}/events`, { id: 'evt_pending', type: 'case.resolved', objectId: 'case_123', data: { resolution: 'pending' } })).status).toBe(202);
    const stillWaiting = await api(h, 'GET', `/v1/runs/${runId}`);
    expect(stepOf(stillWaiting.body, 'await_case').status).toBe('waiting');

    const delivered = await api(h, 'POST', `/v1/runs/${runId}/events`, { id: 'evt_ok', type: 'case.resolved', objectId: 'case_123', data: { resolution: 'approved', reviewer: 'ana' } });
    expect(delivered.status).toBe(202);
    const run = await waitForRun(h, runId, isClosed);
    expect(run.status).toBe('completed');
    expect(stepOf(run, 'await_case').output).toMatchObject({ timedOut: false, event: { id: 'evt_ok', type: 'case.resolved', objectId: 'case_123' } });
    expect(run.state.reason).toBe('approved by ana');
    await replayAndMaybeRecord(h, runId, 'wait-for-event-delivered');
  });

  it('takes an event delivered before the wait began, once, even when it is delivered twice', async () => {
    await publishWorkflow(h, 'event_early', {
      trigger: { type: 'api' },
      steps: [
        { id: 'pause', type: 'wait_for_time', duration: '1s', next: 'first' },
        { id: 'first', type: 'wait_for_event', events: ['inquiry.approved'], timeout: '2s', next: 'second' },
        { id: 'second', type: 'wait_for_event', events: ['inquiry.approved'], timeout: '2s' },
      ],
    });
    const runId = await startRun(h, 'event_early');
    await waitForRun(h, runId, waitingOn('pause'));
    for (let i = 0; i < 2; i++) {
      expect((await api(h, 'POST', `/v1/runs/${runId}/events`, { id: 'evt_once', type: 'inquiry.approved', objectId: 'inq_1' })).status).toBe(202);
    }
    const run = await waitForRun(h, runId, isClosed);
    expect(stepOf(run, 'first').output).toMatchObject({ timedOut: false, event: { id: 'evt_once' } });
    // The duplicate was dropped, so the second wait found nothing and timed out.
    expect(stepOf(run, 'second').output).toEqual({ timedOut: true });
  });

  it('is resolved by its default resolution time, and the run goes on', async () => {
    const runId = await startRun(h, 'case_review', { caseId: 'case_456' });
    const run = await waitForRun(h, runId, isClosed);
    expect(run.status).toBe('completed');
    expect(stepOf(run, 'await_case').output).toEqual({ timedOut: true });
    expect(stepOf(run, 'decide').output).toMatchObject({ route: 0, next: 'expired' });
    expect(run.state.reason).toBe('no decision in time: auto-approved');
    await replayAndMaybeRecord(h, runId, 'wait-for-event-timeout');
  });

  it('fails the run on expiry when onTimeout is fail', async () => {
    await publishWorkflow(h, 'strict_wait', {
      trigger: { type: 'api' },
      steps: [{ id: 'await_case', type: 'wait_for_event', events: ['case.resolved'], timeout: '1s', onTimeout: 'fail' }],
    });
    const runId = await startRun(h, 'strict_wait');
    const run = await waitForRun(h, runId, isClosed);
    expect(run.status).toBe('failed');
    expect(run.state.error).toMatchObject({ type: 'WaitTimedOut', stepId: 'await_case' });
    expect(stepOf(run, 'await_case').status).toBe('failed');
  });

  it('refuses events for runs that are not running, and unknown runs', async () => {
    const runId = await startRun(h, 'strict_wait');
    await waitForRun(h, runId, isClosed);
    const late = await api(h, 'POST', `/v1/runs/${runId}/events`, { type: 'case.resolved' });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('run_not_active');
    const unknown = await api(h, 'POST', '/v1/runs/run_doesnotexist/events', { type: 'case.resolved' });
    expect(unknown.status).toBe(404);
    const bad = await api(h, 'POST', `/v1/runs/${runId}/events`, { type: 'Not An Event', extra: true });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['/', '/type']);
  });
});

describe('cancel', () => {
  it('cancels a waiting run; its waiting step shows cancelled', async () => {
    const runId = await startRun(h, 'case_review', { caseId: 'case_789' });
    await waitForRun(h, runId, waitingOn('await_case'));
    const res = await api(h, 'POST', `/v1/runs/${runId}/cancel`);
    expect(res.status).toBe(202);
    const run = await waitForRun(h, runId, isClosed);
    expect(run.status).toBe('cancelled');
    expect(run.state.outcome).toBe('cancelled');
    expect(stepOf(run, 'await_case').status).toBe('cancelled');
    expect(stepOf(run, 'decide').status).toBe('skipped');
    const again = await api(h, 'POST', `/v1/runs/${runId}/cancel`);
    expect(again.status).toBe(409);
  });
});
