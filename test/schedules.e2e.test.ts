/**
 * Schedule triggers end to end, against the real Temporal dev server: a
 * published workflow with a schedule gets a Temporal Schedule that starts
 * runs (trigger type `schedule`); publishing a new version updates it,
 * pausing stops it (and the pause survives a publish), archiving deletes it;
 * GET /v1/workflows/:id/schedule shows the next run times. Plus the manual
 * trigger, which starts any published workflow with a chosen payload.
 */
import { ScheduleNotFoundError } from '@temporalio/client';
import { api, createHarness, isClosed, publishWorkflow, replayAndMaybeRecord, stepOf, waitForRun, type Harness } from './support/harness';

jest.setTimeout(120_000);

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

const capture = { id: 'capture', type: 'action', action: 'set_variables', params: { variables: { got: { $cel: 'trigger' } } } };

/** Poll `read` until `done` holds (fails after the timeout with the last value). */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await read();
  while (!done(last)) {
    if (Date.now() > deadline) throw new Error(`condition not reached; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 300));
    last = await read();
  }
  return last;
}

async function runsOf(workflowId: string): Promise<any[]> {
  const res = await api(h, 'GET', `/v1/runs?workflow=${workflowId}&limit=100`);
  expect(res.status).toBe(200);
  return res.body.runs;
}

describe('a schedule with a short interval', () => {
  it('drives at least two runs, each of the live version with the trigger input and its firing time', async () => {
    await publishWorkflow(h, 'ticker', { trigger: { type: 'schedule', interval: '2s', input: { source: 'ticker' } }, steps: [capture] });

    const runs = await eventually(() => runsOf('ticker'), (list) => list.filter((r) => r.status === 'completed').length >= 2);
    const completed = runs.filter((r) => r.status === 'completed');
    expect(new Set(completed.map((r) => r.runId)).size).toBe(completed.length);
    for (const summary of completed.slice(0, 2)) {
      expect(summary).toMatchObject({ workflowId: 'ticker', version: 1, triggerType: 'schedule' });
      const run = await waitForRun(h, summary.runId, isClosed);
      const got = stepOf(run, 'capture').output.got;
      expect(got.source).toBe('ticker');
      expect(Number.isNaN(Date.parse(got.scheduledAt))).toBe(false);
    }

    const schedule = await api(h, 'GET', '/v1/workflows/ticker/schedule');
    expect(schedule.status).toBe(200);
    expect(schedule.body).toMatchObject({
      workflowId: 'ticker',
      scheduleId: h.schedules.scheduleId('ticker'),
      kind: 'schedule',
      version: 1,
      spec: { interval: '2s' },
      policies: { overlap: 'skip', catchupWindow: '1m' },
      state: { paused: false },
    });
    expect(schedule.body.actionsTaken).toBeGreaterThanOrEqual(2);
    const next = schedule.body.nextRunTimes.map((t: string) => Date.parse(t));
    expect(next.length).toBeGreaterThanOrEqual(2);
    // Two seconds apart, on the interval's grid.
    expect(next[1] - next[0]).toBe(2000);
    expect(next[0] % 2000).toBe(0);
    // A firing's helper (scheduledStart) replays deterministically against the current code.
    await replayAndMaybeRecord(h, schedule.body.recentRuns[0].workflowId, 'scheduled-start');
  });
});

describe('publishing, pausing and archiving', () => {
  it('updates the schedule with a new version, keeps a pause across publishes, and deletes it on archive', async () => {
    await publishWorkflow(h, 'nightly', { trigger: { type: 'schedule', interval: '1h' }, steps: [capture] });
    const first = await api(h, 'GET', '/v1/workflows/nightly/schedule');
    expect(first.body.spec).toEqual({ interval: '1h' });

    // A new version: cron in Berlin, buffer one, a wider catch-up window.
    const updated = await api(h, 'PUT', '/v1/workflows/nightly', {
      definition: { trigger: { type: 'schedule', cron: '30 3 * * *', timezone: 'Europe/Berlin', overlap: 'buffer_one', catchupWindow: '15m' }, steps: [capture] },
    });
    expect(updated.status).toBe(200);
    const published = await api(h, 'POST', '/v1/workflows/nightly/publish');
    expect(published.status).toBe(201);
    expect(published.body.schedule).toEqual({ status: 'updated' });

    const second = await api(h, 'GET', '/v1/workflows/nightly/schedule');
    expect(second.body).toMatchObject({ version: 2, spec: { cron: '30 3 * * *', timezone: 'Europe/Berlin' }, policies: { overlap: 'buffer_one', catchupWindow: '15m' } });
    const berlin = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit', hour12: false });
    expect(second.body.nextRunTimes.length).toBeGreaterThanOrEqual(2);
    for (const t of second.body.nextRunTimes) expect(berlin.format(new Date(t))).toBe('03:30');

    // Pause: Temporal's schedule is paused, and it stays paused when a new version is published.
    const paused = await api(h, 'POST', '/v1/workflows/nightly/schedule/pause', { note: 'maintenance window' });
    expect(paused.status).toBe(200);
    expect(paused.body.state).toEqual({ paused: true, note: 'maintenance window' });
    expect((await api(h, 'POST', '/v1/workflows/nightly/publish')).status).toBe(201);
    const afterPublish = await h.client.schedule.getHandle(h.schedules.scheduleId('nightly')).describe();
    expect(afterPublish.state.paused).toBe(true);

    const resumed = await api(h, 'POST', '/v1/workflows/nightly/schedule/resume', {});
    expect(resumed.body.state.paused).toBe(false);

    // Archive: no live version any more, the schedule is gone, no trigger starts it.
    const archived = await api(h, 'POST', '/v1/workflows/nightly/archive');
    expect(archived.status).toBe(200);
    expect(archived.body).toMatchObject({ workflowId: 'nightly', schedule: 'deleted' });
    await expect(h.client.schedule.getHandle(h.schedules.scheduleId('nightly')).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
    const gone = await api(h, 'GET', '/v1/workflows/nightly/schedule');
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('not_found');
    expect((await api(h, 'POST', '/v1/workflows/nightly/manual-runs', {})).body.error.code).toBe('not_published');

    // Publishing again brings it back.
    const again = await api(h, 'POST', '/v1/workflows/nightly/publish');
    expect(again.body.schedule).toEqual({ status: 'created' });
  });

  it('stops firing while paused and fires again when resumed', async () => {
    await publishWorkflow(h, 'pausable', { trigger: { type: 'schedule', interval: '1s' }, steps: [capture] });
    await eventually(() => runsOf('pausable'), (list) => list.length >= 1);
    const paused = await api(h, 'POST', '/v1/workflows/pausable/schedule/pause', {});
    expect(paused.body.state.paused).toBe(true);
    const taken = (await api(h, 'GET', '/v1/workflows/pausable/schedule')).body.actionsTaken;
    // Three intervals pass without a firing.
    await new Promise((r) => setTimeout(r, 3500));
    expect((await api(h, 'GET', '/v1/workflows/pausable/schedule')).body.actionsTaken).toBe(taken);

    await api(h, 'POST', '/v1/workflows/pausable/schedule/resume', {});
    await eventually(
      () => api(h, 'GET', '/v1/workflows/pausable/schedule'),
      (res) => res.body.actionsTaken > taken,
    );
  });

  it('removes the schedule when a new version has another trigger', async () => {
    await publishWorkflow(h, 'switcher', { trigger: { type: 'schedule', interval: '1h' }, steps: [capture] });
    await api(h, 'PUT', '/v1/workflows/switcher', { definition: { trigger: { type: 'api' }, steps: [capture] } });
    const published = await api(h, 'POST', '/v1/workflows/switcher/publish');
    expect(published.body.schedule).toEqual({ status: 'deleted' });
    const res = await api(h, 'GET', '/v1/workflows/switcher/schedule');
    expect(res.status).toBe(404);
    expect(res.body.error.message).toMatch(/api trigger/);
  });

  it('answers 404 for the schedule of a workflow that does not exist', async () => {
    const res = await api(h, 'GET', '/v1/workflows/no-such-flow/schedule');
    expect(res.status).toBe(404);
  });
});

describe('validation errors when saving', () => {
  it('reports a bad cron, time zone and interval with their paths and saves nothing', async () => {
    const res = await api(h, 'POST', '/v1/workflows', {
      id: 'broken-schedule',
      name: 'broken',
      definition: { trigger: { type: 'schedule', cron: '0 24 * * *', timezone: 'Europe/Atlantis' }, steps: [capture] },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_definition');
    expect(res.body.error.details.map((d: any) => [d.path, d.code])).toEqual([
      ['/definition/trigger/cron', 'invalid_schedule'],
      ['/definition/trigger/timezone', 'invalid_schedule'],
    ]);
    const interval = await api(h, 'POST', '/v1/workflows', { name: 'broken', definition: { trigger: { type: 'schedule', interval: 'twice a day' }, steps: [capture] } });
    expect(interval.body.error.details).toEqual([expect.objectContaining({ path: '/definition/trigger/interval', code: 'invalid_duration' })]);
    expect((await api(h, 'GET', '/v1/workflows/broken-schedule')).status).toBe(404);
  });
});

describe('the manual trigger', () => {
  it('starts a run of any published workflow with the chosen payload, trigger type manual', async () => {
    await publishWorkflow(h, 'by-hand', {
      trigger: { type: 'api', inputSchema: { type: 'object', properties: { accountId: { type: 'string' } }, required: ['accountId'] } },
      steps: [capture],
    });
    const res = await api(h, 'POST', '/v1/workflows/by-hand/manual-runs', { payload: { accountId: 'act_1' } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ workflowId: 'by-hand', version: 1, triggerType: 'manual' });
    const run = await waitForRun(h, res.body.runId, isClosed);
    expect(run.status).toBe('completed');
    expect(stepOf(run, 'capture').output.got).toEqual({ accountId: 'act_1' });

    // The payload is checked against an API trigger's input schema.
    const bad = await api(h, 'POST', '/v1/workflows/by-hand/manual-runs', { payload: { accountId: 7 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_input');
    expect(bad.body.error.details[0].path).toBe('/payload/accountId');
  });

  it('runs event- and schedule-triggered workflows too, and a chosen earlier version', async () => {
    await publishWorkflow(h, 'on-event', { trigger: { type: 'event', event: 'account.created' }, steps: [capture] });
    const evented = await api(h, 'POST', '/v1/workflows/on-event/manual-runs', { payload: { object: { id: 'act_2' } } });
    expect(evented.status).toBe(201);
    expect((await waitForRun(h, evented.body.runId, isClosed)).status).toBe('completed');

    await publishWorkflow(h, 'hourly', { trigger: { type: 'schedule', cron: '@hourly' }, steps: [capture] });
    await api(h, 'PUT', '/v1/workflows/hourly', { definition: { trigger: { type: 'schedule', cron: '@daily' }, steps: [capture] } });
    await api(h, 'POST', '/v1/workflows/hourly/publish');
    const v1 = await api(h, 'POST', '/v1/workflows/hourly/manual-runs', { version: 1, payload: { note: 'rerun' } });
    expect(v1.status).toBe(201);
    expect(v1.body).toMatchObject({ version: 1, triggerType: 'manual' });

    const missing = await api(h, 'POST', '/v1/workflows/hourly/manual-runs', { version: 9 });
    expect(missing.status).toBe(404);
    expect(missing.body.error.details[0].path).toBe('/version');
    const shape = await api(h, 'POST', '/v1/workflows/hourly/manual-runs', { payload: 'not an object' });
    expect(shape.status).toBe(400);
    expect(shape.body.error.details[0].path).toBe('/payload');
  });

  it('refuses a workflow with no published version', async () => {
    await api(h, 'POST', '/v1/workflows', { id: 'draft-only', name: 'draft', definition: { trigger: { type: 'api' }, steps: [capture] } });
    const res = await api(h, 'POST', '/v1/workflows/draft-only/manual-runs', {});
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('not_published');
  });
});
