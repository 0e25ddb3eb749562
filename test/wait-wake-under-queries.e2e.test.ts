/**
 * Runs woken from a wait while their state is being read replay cleanly.
 * Reading a run's state is a query; a query that arrives while the wake-up's
 * workflow task runs a local activity can make the server split that task.
 * Patches asked for lazily then replayed nondeterministically (the state
 * query failed on a completed run); all patches are now asked at the start,
 * and a wait's wake-up runs no local activity any more (the router drops the
 * subscription as it delivers). This test drives the situation live and
 * replays every history it produced; one is kept as the fixture
 * wait-woken-under-queries.json.
 */
import { Worker } from '@temporalio/worker';
import { api, createHarness, postEvent, publishWorkflow, replayAndMaybeRecord, startRun, stepOf, replayOptions, waitForRun, type Harness } from './support/harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

it('keeps every run readable and replayable when events wake runs under a stream of state queries', async () => {
  await publishWorkflow(h, 'woken_under_queries', {
    trigger: { type: 'api' },
    steps: [
      { id: 'await_case', type: 'wait_for_event', events: ['case.resolved'], object: '"case_q" + string(trigger.n)', timeout: '10m', next: 'after' },
      { id: 'after', type: 'action', action: 'record_mark', params: { label: 'after' } },
    ],
  });
  const runIds: string[] = [];
  for (let n = 0; n < 20; n++) runIds.push(await startRun(h, 'woken_under_queries', { n }));
  for (const runId of runIds) await waitForRun(h, runId, (run) => stepOf(run, 'await_case').status === 'waiting');

  let reading = true;
  const unreadable: string[] = [];
  const reader = (async () => {
    while (reading) {
      const reads = await Promise.all(runIds.map((runId) => api(h, 'GET', `/v1/runs/${runId}`)));
      for (const read of reads) if (read.body.stateUnavailable) unreadable.push(read.body.stateUnavailable);
    }
  })();
  for (let n = 0; n < 20; n++) expect((await postEvent(h, { id: `evt_q${n}`, type: 'case.resolved', objectId: `case_q${n}` })).status).toBe(202);
  const finished = [];
  for (const runId of runIds) finished.push(await waitForRun(h, runId, (run) => run.status === 'completed' && run.state !== undefined));
  reading = false;
  await reader;

  expect(unreadable).toEqual([]);
  expect(finished.map((run) => stepOf(run, 'after').status)).toEqual(runIds.map(() => 'completed'));
  for (const runId of runIds) {
    const history = await h.client.workflow.getHandle(runId).fetchHistory();
    await expect(Worker.runReplayHistory(replayOptions(), history, runId)).resolves.toBeUndefined();
  }
  await replayAndMaybeRecord(h, runIds[0], 'wait-woken-under-queries');
});
