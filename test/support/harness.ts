/**
 * A test file's private world: its own PostgreSQL schema on the real server,
 * its own task queue on the shared Temporal dev server, the real API app on a
 * loopback port, and (unless a test runs its own worker process) an
 * in-process worker.
 */
import { eventRunStartCursor } from '../../src/events/outbox';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { ensureTemporalCli } from '../../temporal/cli';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { NativeConnection, Runtime, DefaultLogger, Worker, type ReplayWorkerOptions } from '@temporalio/worker';
import { ulid } from 'ulid';
import { createRegistry, type NetworkPolicy } from '../../src/activities';
import type { ActionRegistry } from '../../src/activities/registry';
import { createApp } from '../../src/api/app';
import { ApiKeyStore } from '../../src/auth/api-keys';
import { SCOPES, type Role } from '../../src/auth/scopes';
import { UserStore, type UserRecord } from '../../src/auth/users';
import { CredentialStore } from '../../src/credentials/store';
import { EventRouter } from '../../src/events/router';
import { inquiryLinkKeyFrom } from '../../src/inquiry-links/links';
import { signBody } from '../../src/events/signature';
import { RunService } from '../../src/runs/run-service';
import { ScheduleService } from '../../src/schedules/schedule-service';
import { ScheduleStore } from '../../src/schedules/schedule-store';
import { connectPostgres, type Db } from '../../src/store/db';
import { migrate } from '../../src/store/migrations';
import { WorkflowStore } from '../../src/store/workflow-store';
import { createRunWorker, runMetricsSinks } from '../../src/worker/create-worker';
import { createMarksTable, testActions } from './test-actions';
import { sharedCodePool } from '../../src/sandbox/code-pool';
import { AesGcmPayloadCodec, encryptedDataConverter, parsePayloadKeys } from '../../src/codec';
import { Readiness, postgresqlCheck, temporalCheck } from '../../src/api/health-routes';
import { createMetrics, type Metrics } from '../../src/observability/metrics';
import type { RateLimits } from '../../src/api/limits';
import { createWebhooks, type WebhookOptions, type Webhooks } from '../../src/webhooks';

/**
 * Temporal payloads in tests are encrypted with these fixed keys (the first
 * encrypts), as every client and worker of a deployment shares PAYLOAD_KEYS.
 * Workers and replays a test makes itself need `payloadCodec: TEST_PAYLOAD_CODEC`.
 */
export const TEST_PAYLOAD_KEYS = `test-2:${Buffer.alloc(32, 2).toString('base64')},test-1:${Buffer.alloc(32, 1).toString('base64')}`;
export const TEST_PAYLOAD_CODEC = new AesGcmPayloadCodec(parsePayloadKeys(TEST_PAYLOAD_KEYS));
export const TEST_DATA_CONVERTER = encryptedDataConverter(TEST_PAYLOAD_CODEC);
/** The bearer tokens of /codec/* and /metrics in tests. */
export const TEST_CODEC_TOKEN = 'test-codec-token';
export const TEST_METRICS_TOKEN = 'test-metrics-token';

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
  /** Temporal Schedules of this file's workflows (ids prefixed with the schema; deleted on close). */
  schedules: ScheduleService;
  credentials: CredentialStore;
  eventsSecret: string;
  /** This harness's Prometheus registry (API and in-process worker); GET /metrics with TEST_METRICS_TOKEN. */
  metrics: Metrics;
  /** Outbound webhooks; their dispatcher runs while the harness does. */
  webhooks: Webhooks;
  /** An API key with every scope; `api()` sends it unless told otherwise. */
  apiKey: string;
  worker?: Worker;
  startWorker(): Promise<Worker>;
  stopWorker(): Promise<void>;
  close(): Promise<void>;
}

/** `network` adds to the test network policy (loopback allow-listed for local peers), e.g. a test peer's CA. */
export async function createHarness(
  options: { worker?: boolean; address?: string; network?: Partial<NetworkPolicy>; rateLimits?: RateLimits; webhooks?: Partial<Omit<WebhookOptions, 'db' | 'key' | 'network'>> } = {},
): Promise<Harness> {
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
  // As main.ts does: API-triggered runs' start cursors are read on a connection of their own.
  const cursorDb = await connectPostgres({ url: TEST_DATABASE_URL, schema, max: 1 });
  const runStartCursor = (): Promise<number> => eventRunStartCursor(cursorDb);
  const metrics = createMetrics({ db, processMetrics: false });
  const { key: apiKey } = await new ApiKeyStore(db).create({ name: 'test harness', scopes: SCOPES });
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
  const client = new Client({ connection, namespace: 'default', dataConverter: TEST_DATA_CONVERTER });
  const runs = new RunService({ runStartCursor, client, taskQueue, namespace: 'default', registry, temporalUiUrl: 'http://127.0.0.1:8233' });
  const router = new EventRouter({ db, runs, client, pollMs: 500, log: () => undefined });
  const schedules = new ScheduleService({ client, workflows, store: new ScheduleStore(db), taskQueue, namespace: 'default', idPrefix: `idw-${schema}`, temporalUiUrl: 'http://127.0.0.1:8233' });
  await router.start();
  const eventsSecret = `secret-${schema}`;
  const webhooks = createWebhooks({ db, key: TEST_CREDENTIALS_KEY, network, pollMs: 200, log: () => undefined, ...options.webhooks });
  await webhooks.dispatcher.start();
  const app = createApp({ db, runStartCursor, workflows, registry, runs, router, schedules, credentials, bodyLimit: '256kb', eventsSigningSecret: eventsSecret, webhooks, rateLimits: options.rateLimits,
    readiness: new Readiness([postgresqlCheck(db), temporalCheck(connection)]),
    metrics,
    metricsToken: TEST_METRICS_TOKEN,
    codec: { codec: TEST_PAYLOAD_CODEC, token: TEST_CODEC_TOKEN, corsOrigins: ['http://localhost:8233'] },
  });
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
    schedules,
    credentials,
    eventsSecret,
    metrics,
    apiKey,
    webhooks,
    async startWorker() {
      nativeConnection ??= await NativeConnection.connect({ address });
      const worker = await createRunWorker({ connection: nativeConnection, namespace: 'default', taskQueue, registry, workflows, db, workflowBundle: bundle, payloadCodec: TEST_PAYLOAD_CODEC, metrics });
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
      // Schedules live in the shared dev server: stop this file's from firing on.
      await schedules.deleteAll().catch(() => undefined);
      await webhooks.dispatcher.stop();
      await router.stop();
      await harness.stopWorker();
      await nativeConnection?.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await connection.close();
      await cursorDb.close();
      await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      await db.close();
      // Evaluate Code's threads: an idle one can keep jest's process from exiting.
      await sharedCodePool().dispose();
    },
  };
  if (options.worker !== false) await harness.startWorker();
  return harness;
}

/**
 * JSON over real HTTP, with the harness's all-scopes API key unless `key`
 * says otherwise (`null`: no Authorization header). `headers` adds more.
 * `POST /v1/events` gets no key by default: upstream senders authenticate by
 * signature there (see `postEvent`), so a plain call is an unsigned event.
 */
export async function api(
  h: Harness,
  method: string,
  path: string,
  body?: unknown,
  options: { key?: string | null; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: any }> {
  const upstreamEvent = method.toUpperCase() === 'POST' && path.split('?')[0] === '/v1/events';
  const key = options.key === undefined ? (upstreamEvent ? null : h.apiKey) : options.key;
  const res = await fetch(`${h.baseUrl}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(key === null ? {} : { authorization: `Bearer ${key}` }),
      ...options.headers,
    },
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

/** A user made straight in the database (as an admin would through /v1/users). */
export async function createUser(h: Harness, user: { email: string; password: string; role: Role }): Promise<UserRecord> {
  return new UserStore(h.db).create(user);
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
let bundleCode: string | undefined;
/**
 * What a replay of a recorded or fetched history needs: the tests' workflow
 * bundle, the test codec (histories since encryption hold ciphertext), and
 * the run-metrics sink registered (it is never called on replay, but an
 * unregistered sink is logged as an error).
 */
export function replayOptions(): ReplayWorkerOptions {
  bundleCode ??= readFileSync(process.env.TEST_WORKFLOW_BUNDLE!, 'utf8');
  return { workflowBundle: { code: bundleCode }, dataConverter: TEST_DATA_CONVERTER, sinks: runMetricsSinks(undefined) };
}

/**
 * A run's history as Temporal stores it, with every encrypted payload
 * decrypted in place by the test codec: what an operator reads through the
 * codec endpoint. Tests that search a history for what a run saw (or must
 * not have seen) search this; the raw bytes are ciphertext.
 */
export async function decryptedHistory(h: Harness, runId: string): Promise<temporal.api.history.v1.IHistory> {
  const history = await h.client.workflow.getHandle(runId).fetchHistory();
  const encrypted = (value: any): boolean =>
    value && value.metadata && value.data instanceof Uint8Array && value.metadata.encoding && Buffer.from(value.metadata.encoding).toString() === 'binary/encrypted';
  const walk = async (value: any): Promise<void> => {
    if (!value || typeof value !== 'object' || value instanceof Uint8Array) return;
    for (const key of Object.keys(value)) {
      const child = value[key];
      if (encrypted(child)) [value[key]] = await TEST_PAYLOAD_CODEC.decode([child]);
      else await walk(child);
    }
  };
  await walk(history);
  return history;
}

export async function replayAndMaybeRecord(h: Harness, runId: string, fixtureName: string): Promise<void> {
  const history = await h.client.workflow.getHandle(runId).fetchHistory();
  await Worker.runReplayHistory(replayOptions(), history, runId);
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
