/**
 * Flow control from the definition's `flow`: a concurrency limit by key
 * (runs for the same account queue and run one at a time; other accounts
 * run beside them), an idempotency key for API triggers (the same key
 * returns the run it started), and cancellation by event (a run waiting on
 * an inquiry is cancelled when inquiry.redacted arrives for it).
 */
import { api, createHarness, isClosed, postEvent, publishWorkflow, replayAndMaybeRecord, startRun, stepOf, waitForRun, type Harness } from './support/harness';
import { concurrencyGateId } from '../src/interpreter/flow';
import { executionHistories, replayExecution } from './support/history-chain';
import { intervals, maxOverlap } from './support/test-actions';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('concurrency by key', () => {
  it('runs one run per account at a time: later ones queue; other accounts are not held up', async () => {
    await publishWorkflow(h, 'per_account', {
      trigger: { type: 'api', inputSchema: { type: 'object', required: ['accountId', 'n'], properties: { accountId: { type: 'string' }, n: { type: 'integer' } } } },
      flow: { concurrency: { key: 'trigger.accountId', limit: 1 } },
      steps: [{ id: 'work', type: 'action', action: 'timed_mark', params: { label: 'key-{{ trigger.accountId }}-{{ trigger.n }}', sleepMs: 1200 } }],
    });
    const first = await startRun(h, 'per_account', { accountId: 'acc_1', n: 1 });
    await waitForRun(h, first, (r) => r.state?.steps?.[0]?.status === 'running');
    const second = await startRun(h, 'per_account', { accountId: 'acc_1', n: 2 });
    const third = await startRun(h, 'per_account', { accountId: 'acc_1', n: 3 });
    const other = await startRun(h, 'per_account', { accountId: 'acc_2', n: 1 });

    const queued = await waitForRun(h, second, (r) => r.status === 'queued');
    expect(queued.state.queuedFor).toContain('"acc_1"');
    expect(stepOf(queued, 'work').status).toBe('pending');

    const runs = await Promise.all([first, second, third, other].map((id) => waitForRun(h, id, isClosed, 60_000)));
    expect(runs.map((r) => r.status)).toEqual(['completed', 'completed', 'completed', 'completed']);

    const account1 = await intervals(h.db, 'key-acc_1-');
    expect(account1).toHaveLength(3);
    expect(maxOverlap(account1)).toBe(1);
    // acc_2 ran beside acc_1's runs, not after them.
    const all = await intervals(h.db, 'key-acc_');
    expect(maxOverlap(all)).toBe(2);
    await replayAndMaybeRecord(h, second, 'concurrency-key-queued');
    // The gate is still running (it finishes after a minute with no runs): its history so far replays too.
    const gateId = concurrencyGateId('per_account', 'acc_1');
    const [gate] = await executionHistories(h.client, gateId);
    await replayExecution(h.address, h.client, gateId, gate.runId, 'concurrency-gate');
  });
});

describe('idempotency key', () => {
  beforeAll(async () => {
    await publishWorkflow(h, 'idempotent_review', {
      trigger: { type: 'api', inputSchema: { type: 'object', properties: { requestId: { type: 'string' } } } },
      flow: { idempotencyKey: 'trigger.requestId' },
      steps: [{ id: 'mark', type: 'action', action: 'record_mark', params: { label: 'once {{ trigger.requestId }}' } }],
    });
  });

  it('returns the run a key started (200) instead of starting another, before and after it finished', async () => {
    const created = await api(h, 'POST', '/v1/workflows/idempotent_review/runs', { requestId: 'req_1' });
    expect(created.status).toBe(201);
    const again = await api(h, 'POST', '/v1/workflows/idempotent_review/runs', { requestId: 'req_1' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ runId: created.body.runId, workflowId: 'idempotent_review', existing: true });
    await waitForRun(h, created.body.runId, isClosed);
    const later = await api(h, 'POST', '/v1/workflows/idempotent_review/runs', { requestId: 'req_1' });
    expect(later.status).toBe(200);
    expect(later.body).toMatchObject({ runId: created.body.runId, status: 'completed', startedAt: created.body.startedAt });

    const otherKey = await api(h, 'POST', '/v1/workflows/idempotent_review/runs', { requestId: 'req_2' });
    expect(otherKey.status).toBe(201);
    expect(otherKey.body.runId).not.toBe(created.body.runId);
    const { rows } = await h.db.query<{ n: string }>("SELECT count(*) AS n FROM test_marks WHERE label = 'once req_1'");
    expect(Number(rows[0].n)).toBe(1);
  });

  it('refuses a body that gives no key, with 400 and nothing started', async () => {
    const res = await api(h, 'POST', '/v1/workflows/idempotent_review/runs', { other: 1 });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_input');
    expect(res.body.error.message).toContain('idempotency key');
  });
});

describe('cancellation by event', () => {
  beforeAll(async () => {
    await publishWorkflow(h, 'await_inquiry', {
      trigger: { type: 'api', inputSchema: { type: 'object', required: ['inquiryId'], properties: { inquiryId: { type: 'string' } } } },
      flow: { cancelOn: [{ event: 'inquiry.redacted', object: 'trigger.inquiryId' }] },
      steps: [
        { id: 'await_decision', type: 'wait_for_event', events: ['inquiry.approved'], object: 'trigger.inquiryId', timeout: '1h', next: 'done' },
        { id: 'done', type: 'end' },
      ],
    });
  });

  const waiting = (r: any) => r.state?.steps?.some((s: any) => s.id === 'await_decision' && s.status === 'waiting');

  it('cancels a run waiting on an inquiry when inquiry.redacted arrives for it, and records the event', async () => {
    const runId = await startRun(h, 'await_inquiry', { inquiryId: 'inq_c1' });
    const bystander = await startRun(h, 'await_inquiry', { inquiryId: 'inq_c2' });
    await waitForRun(h, runId, waiting);
    await waitForRun(h, bystander, waiting);

    expect((await postEvent(h, { id: 'evt_redact_c1', type: 'inquiry.redacted', objectType: 'inquiry', objectId: 'inq_c1' })).status).toBe(202);
    const run = await waitForRun(h, runId, isClosed);
    expect(run.status).toBe('cancelled');
    expect(run.state).toMatchObject({
      status: 'cancelled',
      outcome: 'cancelled',
      cancelledBy: { id: 'evt_redact_c1', type: 'inquiry.redacted', objectId: 'inq_c1' },
      reason: 'cancelled by inquiry.redacted on inq_c1 (event evt_redact_c1)',
    });
    expect(stepOf(run, 'await_decision').status).toBe('cancelled');
    expect(stepOf(run, 'done').status).toBe('skipped');

    // The other inquiry's run still waits, and its subscription for inq_c1 never existed.
    const other = await api(h, 'GET', `/v1/runs/${bystander}`);
    expect(other.body.status).toBe('waiting');
    const { rows } = await h.db.query<{ n: string }>('SELECT count(*) AS n FROM wait_subscriptions WHERE run_id = $1', [runId]);
    expect(Number(rows[0].n)).toBe(0);
    await replayAndMaybeRecord(h, runId, 'cancel-on-event');

    expect((await api(h, 'POST', `/v1/runs/${bystander}/cancel`)).status).toBe(202);
  });
});
