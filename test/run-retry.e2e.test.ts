/**
 * Retrying failed runs: from the failed step (a new run seeded with the
 * earlier steps' results, which are not done again, starting at the step
 * that failed) or from the start with the same input and version. The new
 * run links to the old one, and asking again returns the same new run.
 */
import { retryRunId } from '../src/runs/run-service';
import { json, startHttpsPeer, type HttpsPeer } from './http-request-peer';
import { api, createHarness, isClosed, publishWorkflow, replayAndMaybeRecord, startRun, waitForRun, type Harness } from './support/harness';

let h: Harness;
let peer: HttpsPeer;
let vendorUp = false;

beforeAll(async () => {
  peer = await startHttpsPeer();
  h = await createHarness({ network: { ca: [peer.ca] } });
  // The vendor refuses (a 404, not retried) until the test "fixes" it.
  peer.handle('/applicant', (_req, res) => (vendorUp ? json(res, 200, { ok: true }) : json(res, 404, { error: 'no such applicant yet' })));
  await publishWorkflow(h, 'retry_me', {
    trigger: { type: 'api' },
    steps: [
      { id: 'first', type: 'action', action: 'record_mark', params: { label: { $cel: 'trigger.label' } }, next: 'remember' },
      { id: 'remember', type: 'action', action: 'set_variables', params: { variables: { stage: 'one' } }, next: 'fetch' },
      { id: 'fetch', type: 'action', action: 'https_request', params: { url: `${peer.url}/applicant` }, next: 'after' },
      {
        id: 'after',
        type: 'action',
        action: 'set_variables',
        params: { variables: { fromFirst: { $cel: 'steps.first.output.label' }, stage: { $cel: 'vars.stage' }, fetched: { $cel: 'steps.fetch.output.body.ok' } } },
      },
    ],
  });
});
afterAll(async () => {
  await h?.close();
  await peer?.close();
});

async function marks(runId: string): Promise<number> {
  const { rows } = await h.db.query<{ n: string }>(`SELECT count(*) AS n FROM test_marks WHERE run_id = $1 AND step_id = 'first'`, [runId]);
  return Number(rows[0].n);
}

it('retries from the failed step, carrying the earlier results, and restarts from the start', async () => {
  vendorUp = false;
  const failedRunId = await startRun(h, 'retry_me', { label: 'hello' });
  const failed = await waitForRun(h, failedRunId, isClosed);
  expect(failed.status).toBe('failed');
  expect(failed.state.error).toMatchObject({ type: 'HttpClientError', stepId: 'fetch' });
  expect(await marks(failedRunId)).toBe(1);

  vendorUp = true;
  const retried = await api(h, 'POST', `/v1/runs/${failedRunId}/retry`, { from: 'failed_step' });
  expect(retried.status).toBe(201);
  expect(retried.body).toMatchObject({ runId: retryRunId(failedRunId, 'failed_step'), workflowId: 'retry_me', version: 1, retryOf: { runId: failedRunId, from: 'failed_step' } });
  const run = await waitForRun(h, retried.body.runId, isClosed);
  expect(run.status).toBe('completed');
  expect(run.retryOf).toEqual({ runId: failedRunId, from: 'failed_step' });
  expect(run.state.retryOf).toEqual({ runId: failedRunId, from: 'failed_step' });

  // The steps before the failed one were not done again: their results came from the failed run.
  expect(await marks(retried.body.runId)).toBe(0);
  expect(peer.hits('/applicant')).toHaveLength(2);
  const byId = Object.fromEntries(run.timeline.map((t: any) => [t.stepId, t]));
  expect(run.timeline.map((t: any) => t.stepId)).toEqual(['first', 'remember', 'fetch', 'after']);
  expect(byId.first).toMatchObject({ status: 'completed', carriedFrom: failedRunId, output: { label: 'hello', attempt: 1 } });
  expect(byId.remember).toMatchObject({ status: 'completed', carriedFrom: failedRunId });
  expect(byId.fetch.carriedFrom).toBeUndefined();
  expect(byId.fetch).toMatchObject({ status: 'completed', output: { status: 200 } });
  // Later steps read the carried results and variables as if the run had done them.
  expect(byId.after.output).toEqual({ fromFirst: 'hello', stage: 'one', fetched: true });

  // Asking again returns the same retry rather than a second one.
  const again = await api(h, 'POST', `/v1/runs/${failedRunId}/retry`, { from: 'failed_step' });
  expect(again.status).toBe(200);
  expect(again.body).toMatchObject({ runId: retried.body.runId, existing: true });

  // A restart begins again with the same input and version: the first step runs again.
  const restarted = await api(h, 'POST', `/v1/runs/${failedRunId}/retry`, { from: 'start' });
  expect(restarted.status).toBe(201);
  const fresh = await waitForRun(h, restarted.body.runId, isClosed);
  expect(fresh).toMatchObject({ status: 'completed', version: 1, retryOf: { runId: failedRunId, from: 'start' } });
  expect(fresh.timeline.every((t: any) => t.carriedFrom === undefined)).toBe(true);
  expect(fresh.timeline.find((t: any) => t.stepId === 'after').output).toEqual({ fromFirst: 'hello', stage: 'one', fetched: true });
  expect(await marks(restarted.body.runId)).toBe(1);

  // Both new runs are found from the old one (IdwRetryOf).
  const deadline = Date.now() + 20_000;
  let linked: string[] = [];
  while (Date.now() < deadline) {
    linked = (await api(h, 'GET', `/v1/runs?retryOf=${failedRunId}`)).body.runs.map((r: any) => r.runId).sort();
    if (linked.length === 2) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(linked).toEqual([retried.body.runId, restarted.body.runId].sort());

  await replayAndMaybeRecord(h, retried.body.runId, 'retry-from-failed-step');
});

it('refuses what cannot be retried', async () => {
  vendorUp = true;
  const done = await startRun(h, 'retry_me', { label: 'fine' });
  await waitForRun(h, done, isClosed);
  const notFailed = await api(h, 'POST', `/v1/runs/${done}/retry`, { from: 'failed_step' });
  expect(notFailed.status).toBe(409);
  expect(notFailed.body.error.code).toBe('run_not_failed');
  expect((await api(h, 'POST', `/v1/runs/${done}/retry`, { from: 'middle' })).status).toBe(400);
  expect((await api(h, 'POST', `/v1/runs/${done}/retry`, {})).body.error.details[0].path).toBe('/from');
  expect((await api(h, 'POST', '/v1/runs/run_nothere/retry', { from: 'start' })).status).toBe(404);

  await publishWorkflow(h, 'retry_ended', { trigger: { type: 'api' }, steps: [{ id: 'stop', type: 'end', outcome: 'failed', reason: 'by design' }] });
  const ended = await startRun(h, 'retry_ended', {});
  expect((await waitForRun(h, ended, isClosed)).status).toBe('failed');
  const byDesign = await api(h, 'POST', `/v1/runs/${ended}/retry`, { from: 'failed_step' });
  expect(byDesign.status).toBe(409);
  expect(byDesign.body.error.code).toBe('no_failed_step');
});
