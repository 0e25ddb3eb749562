/**
 * A wait survives a restart of the Temporal server itself: the dev server
 * keeps its state in a SQLite file, is stopped while a run waits on an
 * object, and started again on the same file; the event then wakes the run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevServer, type DevServer } from '../temporal/dev-server';
import { SEARCH_ATTRIBUTE_TYPES } from '../src/workflows/run-contract';
import { api, createHarness, isClosed, postEvent, publishWorkflow, startRun, stepOf, waitForRun, type Harness } from './support/harness';

let dir: string;
let port: number;
let server: DevServer | undefined;
let h: Harness | undefined;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const p = (s.address() as AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return p;
}

const start = () => startDevServer({ headless: true, port, dbFilename: join(dir, 'temporal.db'), searchAttributes: SEARCH_ATTRIBUTE_TYPES, log: () => undefined });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'idw-restart-'));
  port = await freePort();
  server = await start();
  h = await createHarness({ address: server.address });
});

afterAll(async () => {
  await h?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('wakes a waiting run after the Temporal server was restarted on its SQLite file', async () => {
  await publishWorkflow(h!, 'restart_wait', {
    trigger: { type: 'api' },
    steps: [
      { id: 'await_case', type: 'wait_for_event', events: ['case.resolved'], object: '"case_restart"', timeout: '10m', next: 'after' },
      { id: 'after', type: 'action', action: 'record_mark', params: { label: 'after' } },
    ],
  });
  const runId = await startRun(h!, 'restart_wait');
  await waitForRun(h!, runId, (run) => stepOf(run, 'await_case').status === 'waiting');

  await server!.stop();
  expect(server!.process.exitCode !== null || server!.process.signalCode !== null).toBe(true);
  server = await start();

  const posted = await postEvent(h!, { id: 'evt_restart', type: 'case.resolved', objectId: 'case_restart' });
  expect(posted.status).toBe(202);
  const run = await waitForRun(h!, runId, isClosed, 90_000);
  expect(run.status).toBe('completed');
  expect(stepOf(run, 'await_case')).toMatchObject({ status: 'completed', runs: 1, output: { timedOut: false, event: { id: 'evt_restart' } } });
  const { rows } = await h!.db.query<{ attempts: number }>('SELECT attempts FROM test_marks WHERE run_id = $1', [runId]);
  expect(rows.map((r) => Number(r.attempts))).toEqual([1]);
  // The run is still listed after the restart: visibility lives in the same file.
  const listed = await api(h!, 'GET', '/v1/runs?workflow=restart_wait');
  expect(listed.body.runs.map((r: { runId: string }) => r.runId)).toEqual([runId]);
});
