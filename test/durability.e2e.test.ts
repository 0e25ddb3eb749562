/**
 * Durability: the worker is a separate process, killed with SIGKILL in the
 * middle of an activity and in the middle of waits. A new worker picks the
 * run up and it completes with every step done exactly once: one effect per
 * step (the action's idempotency key) and one recorded run of each step.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { api, createHarness, isClosed, publishWorkflow, replayAndMaybeRecord, startRun, stepOf, waitForRun, TEST_DATABASE_URL, type Harness } from './support/harness';

let h: Harness;
const workers = new Set<ChildProcess>();

beforeAll(async () => {
  h = await createHarness({ worker: false });
});
afterAll(async () => {
  for (const w of workers) w.kill('SIGKILL');
  await h?.close();
});

function startWorkerProcess(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'support', 'worker-process.ts')], {
    env: {
      ...process.env,
      TEST_DATABASE_URL,
      WORKER_DB_SCHEMA: h.schema,
      WORKER_TASK_QUEUE: h.taskQueue,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  workers.add(child);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      if (String(d).includes('worker ready')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`worker exited (${code}) before it was ready: ${stderr}`)));
  });
}

function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.on('exit', () => resolve());
    child.kill('SIGKILL');
    workers.delete(child);
  });
}

async function marks(runId: string): Promise<Record<string, number>> {
  const { rows } = await h.db.query<{ step_id: string; attempts: number }>('SELECT step_id, attempts FROM test_marks WHERE run_id = $1', [runId]);
  return Object.fromEntries(rows.map((r) => [r.step_id, Number(r.attempts)]));
}

const stepIs = (id: string, status: string) => (run: any) => run.state?.steps?.some((s: any) => s.id === id && s.status === status);

it('survives the worker being killed during an activity', async () => {
  await publishWorkflow(h, 'kill_in_activity', {
    trigger: { type: 'api' },
    steps: [
      { id: 'first', type: 'action', action: 'record_mark', params: { label: 'first' }, next: 'slow' },
      { id: 'slow', type: 'action', action: 'record_mark', params: { label: 'slow', sleepMs: 2500 }, next: 'last' },
      { id: 'last', type: 'action', action: 'record_mark', params: { label: 'last' } },
    ],
  });
  const a = await startWorkerProcess();
  const runId = await startRun(h, 'kill_in_activity');
  await waitForRun(h, runId, stepIs('slow', 'running'));
  // The slow activity has recorded its effect and is sleeping: kill the worker under it.
  const deadline = Date.now() + 10_000;
  while (!(await marks(runId)).slow && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await kill(a);

  await startWorkerProcess();
  const run = await waitForRun(h, runId, isClosed, 90_000);
  expect(run.status).toBe('completed');
  for (const id of ['first', 'slow', 'last']) expect(stepOf(run, id)).toMatchObject({ status: 'completed', runs: 1 });
  const seen = await marks(runId);
  expect(Object.keys(seen).sort()).toEqual(['first', 'last', 'slow']);
  // The slow step was attempted again after the kill, but its effect exists once.
  expect(seen.slow).toBeGreaterThanOrEqual(2);
  expect(seen.first).toBe(1);
  expect(seen.last).toBe(1);
  await replayAndMaybeRecord(h, runId, 'durability-kill-in-activity');
});

it('survives the worker being killed during a timer and during a wait for an event', async () => {
  await publishWorkflow(h, 'kill_in_waits', {
    trigger: { type: 'api' },
    steps: [
      { id: 'first', type: 'action', action: 'record_mark', params: { label: 'first' }, next: 'pause' },
      { id: 'pause', type: 'wait_for_time', duration: '3s', next: 'middle' },
      { id: 'middle', type: 'action', action: 'record_mark', params: { label: 'middle' }, next: 'await_case' },
      { id: 'await_case', type: 'wait_for_event', events: ['case.resolved'], timeout: '2m', next: 'last' },
      { id: 'last', type: 'action', action: 'record_mark', params: { label: 'last' } },
    ],
  });
  const a = await startWorkerProcess();
  const runId = await startRun(h, 'kill_in_waits');
  await waitForRun(h, runId, stepIs('pause', 'waiting'));
  await kill(a);
  // The timer fires while no worker runs.
  await new Promise((r) => setTimeout(r, 3500));

  const b = await startWorkerProcess();
  await waitForRun(h, runId, stepIs('await_case', 'waiting'), 60_000);
  await kill(b);
  // The event arrives while no worker runs: Temporal keeps it for the next one.
  const signal = await api(h, 'POST', `/v1/runs/${runId}/events`, { id: 'evt_case', type: 'case.resolved', objectId: 'case_1' });
  expect(signal.status).toBe(202);

  await startWorkerProcess();
  const run = await waitForRun(h, runId, isClosed, 90_000);
  expect(run.status).toBe('completed');
  for (const id of ['first', 'pause', 'middle', 'await_case', 'last']) expect(stepOf(run, id)).toMatchObject({ status: 'completed', runs: 1 });
  expect(stepOf(run, 'await_case').output).toMatchObject({ timedOut: false, event: { id: 'evt_case' } });
  expect(await marks(runId)).toEqual({ first: 1, middle: 1, last: 1 });
  await replayAndMaybeRecord(h, runId, 'durability-kill-in-waits');
});
