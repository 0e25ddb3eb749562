/**
 * A test file's private world: its own PostgreSQL schema on the real server,
 * its own task queue on the shared Temporal dev server, the real API app on a
 * loopback port, and (unless a test runs its own worker process) an
 * in-process worker.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { ensureTemporalCli } from '../../temporal/cli';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger, Worker } from '@temporalio/worker';
import { ulid } from 'ulid';
import { createRegistry, type NetworkPolicy } from '../../src/activities';
import type { ActionRegistry } from '../../src/activities/registry';
import { createApp } from '../../src/api/app';
import { CredentialStore } from '../../src/credentials/store';
import { EventRouter } from '../../src/events/router';
import { inquiryLinkKeyFrom } from '../../src/inquiry-links/links';
import { signBody } from '../../src/events/signature';
import { RunService } from '../../src/runs/run-service';
import { connectPostgres, type Db } from '../../src/store/db';
import { migrate } from '../../src/store/migrations';
import { WorkflowStore } from '../../src/store/workflow-store';
import { createRunWorker } from '../../src/worker/create-worker';
import { createMarksTable, testActions } from './test-actions';

/** Credentials in tests are encrypted with this fixed key. */
export const TEST_CREDENTIALS_KEY = Buffer.from('7e57c0de'.repeat(8), 'hex');

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let runtimeInstalled = false;
function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger('ERROR') });
}

export interface Harness {
  db: Db;
  schema: string;
  taskQueue: string;
  address: string;
  baseUrl: string;
  client: Client;
  workflows: WorkflowStore;
  registry: ActionRegistry;
  router: EventRouter;
  credentials: CredentialStore;
  eventsSecret: string;
  worker?: Worker;
  startWorker(): Promise<Worker>;
  stopWorker(): Promise<void>;
  close(): Promise<void>;
}

/** `network` adds to the test network policy (loopback allow-listed for local peers), e.g. a test peer's CA. */
export async function createHarness(options: { worker?: boolean; address?: string; network?: Partial<NetworkPolicy> } = {}): Promise<Harness> {
  quietRuntime();
  const address = options.address ?? process.env.TEST_TEMPORAL_ADDRESS;
  const bundlePath = process.env.TEST_WORKFLOW_BUNDLE;
  if (!address || !bundlePath) throw new Error('run tests through jest: global setup starts the Temporal dev server');
  const schema = `t_${ulid().toLowerCase()}`;
  const db = await connectPostgres({ url: TEST_DATABASE_URL, schema, max: 5 }).catch((err: Error) => {
    throw new Error(`cannot reach PostgreSQL at ${TEST_DATABASE_URL} (set TEST_DATABASE_URL): ${err.message}`);
  });
  await migrate(db);
  await createMarksTable(db);
  const credentials = new CredentialStore(db, TEST_CREDENTIALS_KEY);
  const network: NetworkPolicy = { ...options.network, allowList: ['127.0.0.1', '::1', 'localhost', ...(options.network?.allowList ?? [])] };
  // The server listens only after the app is built from the registry; link actions read the URL when they run.
  let baseUrl = '';
  const registry = createRegistry(
    {
      db,
      credentials,
      network,
      get publicBaseUrl() {
        return baseUrl;
      },
      inquiryLinkKey: inquiryLinkKeyFrom(TEST_CREDENTIALS_KEY),
    },
    testActions(db),
  );
  const workflows = new WorkflowStore(db);
  const taskQueue = `test-${schema}`;
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: 'default' });
  const runs = new RunService({ client, taskQueue, namespace: 'default', registry, temporalUiUrl: 'http://127.0.0.1:8233' });
  const router = new EventRouter({ db, runs, client, pollMs: 500, log: () => undefined });
  await router.start();
  const eventsSecret = `secret-${schema}`;
  const app = createApp({ db, workflows, registry, runs, router, credentials, bodyLimit: '256kb', eventsSigningSecret: eventsSecret });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const bundle = { code: readFileSync(bundlePath, 'utf8') };

  let nativeConnection: NativeConnection | undefined;
  let running: Promise<void> | undefined;
  const harness: Harness = {
    db,
    schema,
    taskQueue,
    address,
    baseUrl,
    client,
    workflows,
    registry,
    router,
    credentials,
    eventsSecret,
    async startWorker() {
      nativeConnection ??= await NativeConnection.connect({ address });
      const worker = await createRunWorker({ connection: nativeConnection, namespace: 'default', taskQueue, registry, workflows, db, workflowBundle: bundle });
      harness.worker = worker;
      running = worker.run();
      return worker;
    },
    async stopWorker() {
      if (harness.worker && harness.worker.getState() === 'RUNNING') harness.worker.shutdown();
      await running;
      harness.worker = undefined;
      running = undefined;
    },
    async close() {
      await router.stop();
      await harness.stopWorker();
      await nativeConnection?.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await connection.close();
      await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      await db.close();
    },
  };
  if (options.worker !== false) await harness.startWorker();
  return harness;
}

/** JSON over real HTTP. */
export async function api(h: Harness, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${h.baseUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // leave as text
  }
  return { status: res.status, body: parsed };
}

/** Create and publish a workflow; returns its id. */
export async function publishWorkflow(h: Harness, id: string, definition: unknown, name = id): Promise<string> {
  const created = await api(h, 'POST', '/v1/workflows', { id, name, definition });
  if (created.status !== 201) throw new Error(`create ${id}: ${created.status} ${JSON.stringify(created.body)}`);
  const published = await api(h, 'POST', `/v1/workflows/${id}/publish`);
  if (published.status !== 201) throw new Error(`publish ${id}: ${published.status} ${JSON.stringify(published.body)}`);
  return id;
}

/** Poll the run through the API until `done` says so (or fail after the timeout). */
export async function waitForRun(h: Harness, runId: string, done: (run: any) => boolean, timeoutMs = 60_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last: any;
  while (Date.now() < deadline) {
    const res = await api(h, 'GET', `/v1/runs/${runId}`);
    last = res.body;
    if (res.status === 200 && done(res.body)) return res.body;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`run ${runId} did not reach the expected state; last seen: ${JSON.stringify(last)}`);
}

export const isClosed = (run: any): boolean => ['completed', 'failed', 'cancelled', 'terminated', 'timed_out'].includes(run.status) && run.state !== undefined;

export function stepOf(run: any, id: string): any {
  const step = run.state?.steps?.find((s: any) => s.id === id);
  if (!step) throw new Error(`no step ${id} in ${JSON.stringify(run.state)}`);
  return step;
}

/**
 * Replay a finished run's history against the current workflow code (a
 * nondeterminism error fails the test), and with RECORD_HISTORIES=1 save it
 * under test/fixtures/histories for the replay suite.
 */
export async function replayAndMaybeRecord(h: Harness, runId: string, fixtureName: string): Promise<void> {
  const history = await h.client.workflow.getHandle(runId).fetchHistory();
  await Worker.runReplayHistory({ workflowBundle: { code: readFileSync(process.env.TEST_WORKFLOW_BUNDLE!, 'utf8') } }, history, runId);
  if (process.env.RECORD_HISTORIES === '1') {
    // The CLI's export is the canonical JSON form that historyFromJSON reads.
    const cli = await ensureTemporalCli({ log: () => undefined });
    const json = execFileSync(cli, ['workflow', 'show', '--workflow-id', runId, '--output', 'json', '--address', h.address, '--namespace', 'default'], { maxBuffer: 64 * 1024 * 1024 });
    writeFileSync(join(__dirname, '..', 'fixtures', 'histories', `${fixtureName}.json`), json);
  }
}

export async function startRun(h: Harness, workflowId: string, input: unknown = {}): Promise<string> {
  const res = await api(h, 'POST', `/v1/workflows/${workflowId}/runs`, input);
  if (res.status !== 201) throw new Error(`start ${workflowId}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.runId;
}

/** POST an upstream event, signed as a sender with the shared secret would sign it. */
export async function postEvent(h: Harness, event: Record<string, unknown>, options: { secret?: string; timestamp?: number } = {}): Promise<{ status: number; body: any }> {
  const body = JSON.stringify(event);
  const res = await fetch(`${h.baseUrl}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idw-signature': signBody(options.secret ?? h.eventsSecret, body, options.timestamp) },
    body,
  });
  return { status: res.status, body: await res.json() };
}
