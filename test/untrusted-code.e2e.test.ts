/**
 * Untrusted code and expressions never run on the thread that serves others
 * (issue 13, findings 2 and 3), against the real service in one process as
 * `npm start` runs it (API, router and worker on one event loop):
 *   - a hostile event-trigger filter cannot be saved (expression_too_costly
 *     at its path); one that passes the save-time estimate but exceeds the
 *     CEL budget at run time is recorded as failed for its workflow (row,
 *     metric), the event still starts the other workflows, and a
 *     redelivery records it once and starts nothing twice;
 *   - during four hostile Evaluate Code steps at once and a hostile filter
 *     being routed, GET /healthz keeps answering: p99 under 50 ms (the
 *     latency proof the issue asks for);
 *   - the BigInt step fails as a timeout close to its deadline.
 */
import { api, createHarness, isClosed, postEvent, publishWorkflow, startRun, stepOf, waitForRun, type Harness } from './support/harness';
import { eventRunId } from '../src/events/router';
import { listTriggerFilterFailures } from '../src/events/trigger-filter';
import { TEST_METRICS_TOKEN } from './support/harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

const list = (n: number): string => `[${Array.from({ length: n }, (_, i) => i).join(',')}]`;
/** The shape of the review's filter: nested maps over literal lists, each level multiplying the work by 100. */
const HOSTILE_FILTER = `${list(100)}.map(a, ${list(100)}.map(b, ${list(100)}.map(c, a + b + c))).size() > 0`;
/** Passes the save-time estimate (run data assumed 100 long), exceeds the filter's budget when the event's list has 5,000 items. */
const COSTLY_AT_RUN_TIME = 'event.data.items.exists(a, a * a < 0 && a + a < 0)';
const ITEMS = Array.from({ length: 5000 }, (_, i) => i + 1);

async function waitDispatched(id: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const { rows } = await h.db.query<{ n: string }>('SELECT count(*) AS n FROM events WHERE id = $1 AND dispatched_at IS NOT NULL', [id]);
    if (Number(rows[0].n) === 1) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`event ${id} was not dispatched`);
}

async function runExists(runId: string): Promise<boolean> {
  return (await api(h, 'GET', `/v1/runs/${runId}`)).status === 200;
}

describe('a hostile event-trigger filter', () => {
  beforeAll(async () => {
    await publishWorkflow(h, 'costly_filter', { trigger: { type: 'event', event: 'inquiry.created', filter: COSTLY_AT_RUN_TIME }, steps: [{ id: 'done', type: 'end' }] });
    await publishWorkflow(h, 'plain_listener', { trigger: { type: 'event', event: 'inquiry.created' }, steps: [{ id: 'done', type: 'end' }] });
  });

  it('cannot be saved: 400 with expression_too_costly at the filter\'s path', async () => {
    const res = await api(h, 'POST', '/v1/workflows', { id: 'hostile_filter', name: 'Hostile', definition: { trigger: { type: 'event', event: 'inquiry.created', filter: HOSTILE_FILTER }, steps: [{ id: 'done', type: 'end' }] } });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([expect.objectContaining({ code: 'expression_too_costly', path: '/definition/trigger/filter' })]);
    const checked = await api(h, 'POST', '/v1/definitions/validate', { trigger: { type: 'event', event: 'inquiry.created', filter: HOSTILE_FILTER }, steps: [{ id: 'done', type: 'end' }] });
    expect(checked.body.valid).toBe(false);
    expect(checked.body.problems[0]).toMatchObject({ code: 'expression_too_costly', path: '/trigger/filter' });
  });

  it('over its budget at run time: recorded as failed for its workflow, the other workflow still starts, a redelivery changes nothing', async () => {
    const posted = await postEvent(h, { id: 'evt_costly_1', type: 'inquiry.created', objectType: 'inquiry', objectId: 'inq_costly', data: { items: ITEMS } });
    expect(posted.status).toBe(202);
    await waitDispatched('evt_costly_1');

    const plainRun = eventRunId('evt_costly_1', 'plain_listener');
    expect(await runExists(plainRun)).toBe(true);
    expect(await runExists(eventRunId('evt_costly_1', 'costly_filter'))).toBe(false);

    // The failure is written in the background: wait for it.
    let failures = await listTriggerFilterFailures(h.db, 'costly_filter');
    for (let i = 0; i < 100 && failures.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      failures = await listTriggerFilterFailures(h.db, 'costly_filter');
    }
    expect(failures).toEqual([expect.objectContaining({ eventId: 'evt_costly_1', workflowId: 'costly_filter', version: 1, reason: 'budget', message: expect.stringContaining('budget of 20000 evaluation steps') })]);

    const metrics = await fetch(`${h.baseUrl}/metrics`, { headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` } }).then((r) => r.text());
    expect(metrics).toMatch(/idw_trigger_filter_failures_total\{workflow="costly_filter",reason="budget"\} [1-9]/);

    // Redelivered (a restart before it was marked dispatched): same verdict, one row, nothing started twice.
    await h.db.query('UPDATE events SET dispatched_at = NULL WHERE id = $1', ['evt_costly_1']);
    h.router.nudge();
    await waitDispatched('evt_costly_1');
    await new Promise((r) => setTimeout(r, 200));
    expect(await listTriggerFilterFailures(h.db, 'costly_filter')).toHaveLength(1);
    const runs = await api(h, 'GET', '/v1/runs?workflow=plain_listener&limit=100');
    expect(runs.body.runs.filter((r: { runId: string }) => r.runId === plainRun)).toHaveLength(1);
  });
});

describe('hostile code steps and a hostile filter at once', () => {
  const codeWorkflow = (id: string, code: string, timeoutMs: number) =>
    publishWorkflow(h, id, { trigger: { type: 'api' }, steps: [{ id: 'code', type: 'action', action: 'evaluate_code', params: { code, timeoutMs } }] });

  beforeAll(async () => {
    await codeWorkflow('spin_loop', 'while (true) {}', 4000);
    await codeWorkflow('catastrophic_regex', 'return /^(a+)+$/.test("a".repeat(40) + "b")', 4000);
    // Each toString is one native operation of seconds that QuickJS cannot interrupt.
    await codeWorkflow('native_bigint', 'for (;;) (3n ** 660000n).toString()', 4000);
    await codeWorkflow('bigint_short', 'return (3n ** 660000n).toString()', 100);
  });

  it('/healthz p99 stays under 50 ms while they run', async () => {
    // Warm the HTTP path and the code threads' first start, so what is timed is the stall, if any.
    for (let i = 0; i < 5; i++) await fetch(`${h.baseUrl}/healthz`);
    const warm = await Promise.all([startRun(h, 'bigint_short'), startRun(h, 'bigint_short')]);
    await Promise.all(warm.map((id) => waitForRun(h, id, isClosed)));

    const runIds = await Promise.all(['spin_loop', 'catastrophic_regex', 'native_bigint', 'spin_loop'].map((id) => startRun(h, id)));
    const posted = await postEvent(h, { id: 'evt_costly_2', type: 'inquiry.created', objectType: 'inquiry', objectId: 'inq_costly2', data: { items: ITEMS } });
    expect(posted.status).toBe(202);

    // Sample until every hostile step has ended (two threads: about two deadlines, 8 s), a request at a time.
    // The end is awaited on Temporal directly: polling our own API for the runs' state would time that work too.
    let closed = false;
    const runsEnded = Promise.all(runIds.map((id) => h.client.workflow.getHandle(id).result().catch(() => undefined))).finally(() => {
      closed = true;
    });
    const samples: number[] = [];
    while (!closed) {
      const started = performance.now();
      const res = await fetch(`${h.baseUrl}/healthz`);
      await res.arrayBuffer();
      samples.push(performance.now() - started);
      expect(res.status).toBe(200);
      await new Promise((r) => setTimeout(r, 5));
    }
    await runsEnded;
    const runs = await Promise.all(runIds.map((id) => waitForRun(h, id, isClosed)));
    samples.sort((a, b) => a - b);
    const p99 = samples[Math.min(samples.length - 1, Math.ceil(samples.length * 0.99) - 1)];
    const report = `healthz: ${samples.length} samples, p50 ${samples[Math.floor(samples.length / 2)].toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${samples[samples.length - 1].toFixed(1)} ms`;
    console.log(report);
    expect(samples.length).toBeGreaterThan(300);
    expect(p99).toBeLessThan(50);

    // And they did not finish early: each ran into its deadline and failed as a timeout.
    for (const run of runs) {
      expect(run.status).toBe('failed');
      expect(stepOf(run, 'code')).toMatchObject({ status: 'failed', error: { type: 'CodeTimeout' } });
    }
    await waitDispatched('evt_costly_2');
    expect((await listTriggerFilterFailures(h.db, 'costly_filter')).map((f) => f.eventId)).toContain('evt_costly_2');
  });

  it('the BigInt step fails as a timeout close to its 100 ms deadline, not after the 4.9 s the operation takes', async () => {
    const runId = await startRun(h, 'bigint_short');
    const run = await waitForRun(h, runId, isClosed);
    expect(run.status).toBe('failed');
    const step = stepOf(run, 'code');
    expect(step).toMatchObject({ status: 'failed', error: { type: 'CodeTimeout', message: expect.stringContaining('within 100 ms') } });
    const took = Date.parse(step.endedAt) - Date.parse(step.startedAt);
    // Generous for a loaded 2-core machine; the same code on the event loop took 4.9 s.
    expect(took).toBeLessThan(2000);
  });
});
