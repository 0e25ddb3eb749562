/**
 * Events end to end: signed ingress (bad or stale signatures refused, ids
 * deduplicated), event triggers (type + CEL filter; a redelivered event
 * starts nothing twice), and waits on objects woken through the router
 * (several waiters all woken, duplicates delivered once, and no event lost
 * while a wait is being registered).
 */
import { createHarness, api, isClosed, postEvent, publishWorkflow, replayAndMaybeRecord, startRun, stepOf, waitForRun, type Harness } from './support/harness';
import { eventRunId } from '../src/events/router';
import { createWaitActivities } from '../src/activities/wait-subscriptions';
import { emitEvent, eventHighWater } from '../src/events/outbox';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

/** The router dispatches in the background; wait until it has done these. */
async function waitDispatched(ids: string[]): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const { rows } = await h.db.query<{ n: string }>('SELECT count(*) AS n FROM events WHERE id = ANY($1::text[]) AND dispatched_at IS NOT NULL', [ids]);
    if (Number(rows[0].n) === ids.length) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`events ${ids.join(', ')} were not dispatched`);
}

const waitingOn = (stepId: string) => (run: any) => run.state?.steps?.some((s: any) => s.id === stepId && s.status === 'waiting');

async function eventCount(id: string): Promise<number> {
  const { rows } = await h.db.query<{ n: string }>('SELECT count(*) AS n FROM events WHERE id = $1', [id]);
  return Number(rows[0].n);
}

describe('ingress', () => {
  it('stores a signed event once, however often it is posted, and lists it', async () => {
    const event = { id: 'up_1', type: 'inquiry.completed', objectType: 'inquiry', objectId: 'inq_up1', data: { source: 'vendor' } };
    const first = await postEvent(h, event);
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ accepted: true, duplicate: false, event: { id: 'up_1' } });
    const again = await postEvent(h, event);
    expect(again.status).toBe(202);
    expect(again.body.duplicate).toBe(true);
    expect(await eventCount('up_1')).toBe(1);
    const listed = await api(h, 'GET', '/v1/events?objectId=inq_up1');
    expect(listed.body.events.map((e: { id: string }) => e.id)).toEqual(['up_1']);
    const byType = await api(h, 'GET', '/v1/events?type=inquiry.completed&limit=5');
    expect(byType.body.events.every((e: { type: string }) => e.type === 'inquiry.completed')).toBe(true);
  });

  it('refuses bad, missing and stale signatures with 401 and stores nothing', async () => {
    const event = { id: 'up_bad', type: 'inquiry.completed', objectId: 'inq_x' };
    const wrongSecret = await postEvent(h, event, { secret: 'not-the-secret' });
    expect(wrongSecret.status).toBe(401);
    expect(wrongSecret.body.error).toMatchObject({ code: 'invalid_signature', message: 'signature does not match the body' });
    const stale = await postEvent(h, event, { timestamp: Math.floor(Date.now() / 1000) - 3600 });
    expect(stale.status).toBe(401);
    expect(stale.body.error.message).toMatch(/more than 300s/);
    const unsigned = await api(h, 'POST', '/v1/events', event);
    expect(unsigned.status).toBe(401);
    expect(unsigned.body.error.message).toMatch(/missing idw-signature/);
    expect(await eventCount('up_bad')).toBe(0);
  });

  it('answers a signed but malformed event with 400 and every path', async () => {
    const res = await postEvent(h, { type: 'Not A Type', data: 'x', extra: 1 });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['/', '/data', '/id', '/type']);
  });
});

describe('event triggers', () => {
  beforeAll(async () => {
    await publishWorkflow(h, 'on_kyc_completed', {
      trigger: { type: 'event', event: 'inquiry.completed', filter: 'object.template == "tmpl_kyc"' },
      steps: [{ id: 'note', type: 'action', action: 'set_variables', params: { variables: { inquiry: { $cel: 'trigger.object.id' }, event: { $cel: 'trigger.event.id' } } } }],
    });
  });

  it('starts one run per matching event, with the event and object as trigger data', async () => {
    const event = { id: 'evt_trig_1', type: 'inquiry.completed', objectType: 'inquiry', objectId: 'inq_t1', object: { id: 'inq_t1', template: 'tmpl_kyc' } };
    expect((await postEvent(h, event)).status).toBe(202);
    const runId = eventRunId('evt_trig_1', 'on_kyc_completed');
    const run = await waitForRun(h, runId, isClosed);
    expect(run).toMatchObject({ status: 'completed', triggerType: 'event', workflowId: 'on_kyc_completed' });
    expect(stepOf(run, 'note').output).toEqual({ inquiry: 'inq_t1', event: 'evt_trig_1' });
    await replayAndMaybeRecord(h, runId, 'event-trigger');

    // Posted again, and dispatched again by force: still one run.
    await postEvent(h, event);
    await h.db.query('UPDATE events SET dispatched_at = NULL WHERE id = $1', ['evt_trig_1']);
    h.router.nudge();
    await waitDispatched(['evt_trig_1']);
    const runs = await api(h, 'GET', '/v1/runs?workflow=on_kyc_completed&limit=100');
    expect(runs.body.runs.filter((r: { runId: string }) => r.runId === runId)).toHaveLength(1);
  });

  it('starts nothing when the filter does not match or the type differs', async () => {
    await postEvent(h, { id: 'evt_trig_2', type: 'inquiry.completed', objectId: 'inq_t2', object: { id: 'inq_t2', template: 'tmpl_other' } });
    await postEvent(h, { id: 'evt_trig_3', type: 'inquiry.approved', objectId: 'inq_t3', object: { id: 'inq_t3', template: 'tmpl_kyc' } });
    await waitDispatched(['evt_trig_2', 'evt_trig_3']);
    for (const id of ['evt_trig_2', 'evt_trig_3']) {
      const res = await api(h, 'GET', `/v1/runs/${eventRunId(id, 'on_kyc_completed')}`);
      expect(res.status).toBe(404);
    }
  });
});

describe('waits on objects through the router', () => {
  beforeAll(async () => {
    await publishWorkflow(h, 'await_case', {
      trigger: { type: 'api', inputSchema: { type: 'object', required: ['caseId'], properties: { caseId: { type: 'string' } } } },
      steps: [
        { id: 'await_case', type: 'wait_for_event', events: ['case.resolved'], object: 'trigger.caseId', timeout: '60s', next: 'await_again' },
        // A second wait for the same event: a duplicate of the first event must not resolve it.
        { id: 'await_again', type: 'wait_for_event', events: ['case.resolved'], object: 'trigger.caseId', timeout: '2s' },
      ],
    });
  });

  it('wakes every run waiting on the object, once each, for an upstream event', async () => {
    const runIds = [await startRun(h, 'await_case', { caseId: 'case_many' }), await startRun(h, 'await_case', { caseId: 'case_many' })];
    const other = await startRun(h, 'await_case', { caseId: 'case_other' });
    for (const id of [...runIds, other]) await waitForRun(h, id, waitingOn('await_case'));

    expect((await postEvent(h, { id: 'evt_many', type: 'case.resolved', objectType: 'case', objectId: 'case_many', data: { resolution: 'approved' } })).status).toBe(202);
    // Delivered a second time (redispatch): each run takes it once.
    await waitForRun(h, runIds[0], waitingOn('await_again'));
    await h.db.query('UPDATE events SET dispatched_at = NULL WHERE id = $1', ['evt_many']);
    h.router.nudge();
    await waitDispatched(['evt_many']);

    for (const id of runIds) {
      const run = await waitForRun(h, id, isClosed);
      expect(stepOf(run, 'await_case').output).toMatchObject({ timedOut: false, event: { id: 'evt_many', objectId: 'case_many', data: { resolution: 'approved' } } });
      expect(stepOf(run, 'await_again').output).toEqual({ timedOut: true });
    }
    const untouched = await api(h, 'GET', `/v1/runs/${other}`);
    expect(stepOf(untouched.body, 'await_case').status).toBe('waiting');
    await api(h, 'POST', `/v1/runs/${other}/cancel`);
    await replayAndMaybeRecord(h, runIds[0], 'wait-on-object-via-router');
  });

  it('does not lose an event stored while the wait is being registered, and reads by cursor', async () => {
    // The router is paused, so only the registration's read can find the event.
    await h.router.stop();
    try {
      const waits = createWaitActivities({ db: h.db });
      await h.db.transaction((tx) => emitEvent(tx, { id: 'evt_race_old', type: 'case.resolved', objectId: 'case_race' }));
      // The high-water mark, not a run's start cursor: evt_race_old is undelivered (the router is paused),
      // so a run starting now would still count it.
      expect(await waits.eventCursor()).toBeLessThan(await eventHighWater(h.db));
      const cursor = await eventHighWater(h.db);
      await h.db.transaction((tx) => emitEvent(tx, { id: 'evt_race_before', type: 'case.resolved', objectId: 'case_race' }));
      const registration = { runId: 'run_race', waitKey: 'w#1', objectId: 'case_race', eventTypes: ['case.resolved'], afterPosition: cursor, passedOver: [], kind: 'wait' as const };
      const found = await waits.registerWait(registration);
      // Only what was recorded after the cursor; and the subscription is dropped since the wait has an event to take.
      expect(found.events.map((e) => e.id)).toEqual(['evt_race_before']);
      expect(found.subscribed).toBe(false);
      // Passed over, it subscribes again and is not handed the same event.
      const again = await waits.registerWait({ ...registration, passedOver: ['evt_race_before'] });
      expect(again).toEqual({ events: [], afterPosition: cursor, subscribed: true });
      const { rows } = await h.db.query<{ run_id: string; after_pos: string }>("SELECT run_id, after_pos FROM wait_subscriptions WHERE object_id = 'case_race'");
      expect(rows).toEqual([{ run_id: 'run_race', after_pos: String(cursor) }]);
      // since: wait_start moves the cursor up to the log's high-water mark.
      const fromNow = await waits.registerWait({ ...registration, waitKey: 'w#2', since: 'wait_start' });
      expect(fromNow.events).toEqual([]);
      expect(fromNow.afterPosition).toBeGreaterThan(cursor);
      await h.db.query("DELETE FROM wait_subscriptions WHERE run_id = 'run_race'");
    } finally {
      await h.router.start();
    }
  });

  it('wakes a run whose event arrived just before its wait began, exactly once', async () => {
    await publishWorkflow(h, 'late_wait', {
      trigger: { type: 'api' },
      steps: [
        { id: 'pause', type: 'wait_for_time', duration: '1s', next: 'await_case' },
        { id: 'await_case', type: 'wait_for_event', events: ['case.resolved'], object: '"case_late"', timeout: '30s', next: 'await_again' },
        { id: 'await_again', type: 'wait_for_event', events: ['case.resolved'], object: '"case_late"', timeout: '2s' },
      ],
    });
    const runId = await startRun(h, 'late_wait');
    await waitForRun(h, runId, waitingOn('pause'));
    // Stored and dispatched while no subscription exists yet: only the registration's look-back finds it.
    await postEvent(h, { id: 'evt_late', type: 'case.resolved', objectId: 'case_late' });
    await waitDispatched(['evt_late']);
    const run = await waitForRun(h, runId, isClosed);
    expect(stepOf(run, 'await_case').output).toMatchObject({ timedOut: false, event: { id: 'evt_late' } });
    expect(stepOf(run, 'await_again').output).toEqual({ timedOut: true });
  });
});
