/**
 * A recurring trigger end to end: "every active account not screened in 30
 * days", in batches of 10. 25 accounts match (some never screened, some
 * screened 40 days ago); suspended accounts and accounts screened last week
 * do not. One firing starts exactly one run per matching account, each with
 * that account as its trigger, through batch workflows small in history.
 */
import { api, createHarness, isClosed, publishWorkflow, replayAndMaybeRecord, stepOf, waitForRun, type Harness } from './support/harness';

jest.setTimeout(180_000);

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

async function createAccount(ref: string): Promise<string> {
  const res = await api(h, 'POST', '/v1/accounts', { referenceId: ref, fields: { country: 'GB' } });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function screen(accountId: string, daysAgo: number): Promise<void> {
  const res = await api(h, 'POST', '/v1/reports', { type: 'watchlist', objectId: accountId });
  expect(res.status).toBe(201);
  await h.db.query(`UPDATE reports SET created_at = now() - make_interval(days => $2) WHERE id = $1`, [res.body.id, daysAgo]);
}

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await read();
  while (!done(last)) {
    if (Date.now() > deadline) throw new Error(`condition not reached; last value: ${JSON.stringify(last).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 500));
    last = await read();
  }
  return last;
}

it('runs the workflow once for each matching account, in batches of 10', async () => {
  const matching: string[] = [];
  for (let i = 0; i < 20; i++) matching.push(await createAccount(`never-screened-${i}`));
  for (let i = 0; i < 5; i++) {
    const id = await createAccount(`screened-long-ago-${i}`);
    await screen(id, 40);
    matching.push(id);
  }
  const notMatching: string[] = [];
  for (let i = 0; i < 3; i++) {
    const id = await createAccount(`screened-last-week-${i}`);
    await screen(id, 7);
    notMatching.push(id);
  }
  for (let i = 0; i < 2; i++) {
    const id = await createAccount(`suspended-${i}`);
    expect((await api(h, 'POST', `/v1/accounts/${id}/suspend`, {})).status).toBe(200);
    notMatching.push(id);
  }

  await publishWorkflow(h, 'rescreen', {
    trigger: {
      type: 'recurring',
      cron: '0 3 * * *',
      timezone: 'Europe/London',
      objectType: 'account',
      batchSize: 10,
      filter: { all: [{ field: 'status', op: 'eq', value: 'active' }, { not: { hasReport: { type: 'watchlist', within: '30d' } } }] },
    },
    steps: [{ id: 'capture', type: 'action', action: 'set_variables', params: { variables: { accountId: { $cel: 'trigger.objectId' }, ref: { $cel: 'trigger.object.referenceId' } } } }],
  });

  const schedule = await api(h, 'GET', '/v1/workflows/rescreen/schedule');
  expect(schedule.body).toMatchObject({ kind: 'recurring', recurring: { objectType: 'account', batchSize: 10 }, spec: { cron: '0 3 * * *', timezone: 'Europe/London' } });
  expect(schedule.body.nextRunTimes.length).toBeGreaterThan(0);

  // Fire it now rather than at 03:00.
  expect((await api(h, 'POST', '/v1/workflows/rescreen/schedule/trigger')).status).toBe(202);
  const fired = await eventually(() => api(h, 'GET', '/v1/workflows/rescreen/schedule'), (res) => res.body.recentRuns.length === 1);
  const dispatchId: string = fired.body.recentRuns[0].workflowId;
  const dispatch = await h.client.workflow.getHandle(dispatchId).result();
  expect(dispatch).toEqual({ version: 1, runsStarted: 25, batches: 3 });

  const runs = await eventually(
    async () => (await api(h, 'GET', '/v1/runs?workflow=rescreen&limit=100')).body.runs as any[],
    (list) => list.length >= 25 && list.every((r) => r.status === 'completed'),
  );
  expect(runs).toHaveLength(25);
  const seen: string[] = [];
  for (const summary of runs) {
    expect(summary.triggerType).toBe('schedule');
    const run = await waitForRun(h, summary.runId, isClosed);
    const output = stepOf(run, 'capture').output;
    expect(summary.runId).toContain(output.accountId);
    seen.push(output.accountId);
    expect(output.ref).toMatch(/^(never-screened|screened-long-ago)-/);
  }
  expect(seen.sort()).toEqual([...matching].sort());
  for (const id of notMatching) expect(seen).not.toContain(id);

  // No giant run: each batch is a workflow of its own with a short history.
  for (let b = 1; b <= 3; b++) {
    const history = await h.client.workflow.getHandle(`${dispatchId}-batch-${b}`).fetchHistory();
    expect(history.events!.length).toBeLessThan(60);
  }
  // The helper workflows replay deterministically against the current code.
  await replayAndMaybeRecord(h, dispatchId, 'recurring-dispatch');
  await replayAndMaybeRecord(h, `${dispatchId}-batch-1`, 'recurring-batch');
});
