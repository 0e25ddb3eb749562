/**
 * A database outage of 20 s with the actions' default policies: every run
 * completes, nothing is done twice, and the API answers `503 unavailable`
 * with `Retry-After` meanwhile (never a 500).
 *
 * Its own PostgreSQL cluster (stopped and started here; the shared one other
 * tests use is never touched), the API in this process, the worker in a
 * process of its own, the shared Temporal dev server. The runs create a
 * case (a default-policy object action, the one that failed 50 of 50 runs
 * before), tag it, wait for the case to be resolved and tag it again; the
 * database goes away while they are at their first steps.
 */
import { ApiKeyStore } from '../src/auth/api-keys';
import { SCOPES } from '../src/auth/scopes';
import { connectPostgres, type Db } from '../src/store/db';
import { migrate } from '../src/store/migrations';
import { RetryingClient } from './support/chaos/client';
import { startPgCluster, type PgCluster } from './support/chaos/pg-cluster';
import { startApi, untilItWorks, WorkerProcess, type ApiProcess, type ServiceConfig } from './support/chaos/service';
import { createMarksTable } from './support/test-actions';

const RUNS = 20;
const OUTAGE_MS = 20_000;
const lines: string[] = [];
const log = (line: string) => lines.push(line);

let pg: PgCluster;
let admin: Db;
let api: ApiProcess;
let worker: WorkerProcess;
let apiKey: string;
let config: ServiceConfig;

beforeAll(async () => {
  const bundlePath = process.env.TEST_WORKFLOW_BUNDLE;
  const temporalAddress = process.env.TEST_TEMPORAL_ADDRESS;
  if (!bundlePath || !temporalAddress) throw new Error('run through jest: global setup starts the dev server and bundles the workflow code');
  pg = await startPgCluster();
  admin = await connectPostgres({ url: pg.url, schema: 'outage', max: 2 });
  await migrate(admin);
  await createMarksTable(admin);
  apiKey = (await new ApiKeyStore(admin).create({ name: 'outage test', scopes: SCOPES })).key;
  config = { databaseUrl: pg.url, schema: 'outage', temporalAddress, taskQueue: `outage-${Date.now()}`, eventsSecret: 'outage-events-secret', bundlePath, log };
  worker = new WorkerProcess(config);
  await worker.start();
  api = await startApi(config);
}, 120_000);

afterAll(async () => {
  await api?.close();
  await worker?.kill();
  await admin?.close().catch(() => undefined);
  await pg?.destroy();
});

afterEach(() => {
  // What the run did, for a failure's report.
  if (process.env.TEST_VERBOSE) process.stdout.write(`${lines.join('\n')}\n`);
});

it('completes every run through a 20 s database outage with default retry policies, and answers 503 meanwhile', async () => {
  const client = new RetryingClient(api.baseUrl, apiKey, config.eventsSecret);
  const definition = {
    trigger: { type: 'api', inputSchema: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } } },
    steps: [
      { id: 'open', type: 'action', action: 'create_case', params: { priority: 'high', tags: ['outage'] }, next: 'tag' },
      { id: 'tag', type: 'action', action: 'tag_object', params: { objectId: '{{ steps.open.output.id }}', tag: 'opened' }, next: 'wait' },
      { id: 'wait', type: 'wait_for_event', events: ['case.resolved'], object: 'steps.open.output.id', timeout: '5m', onTimeout: 'fail', next: 'done' },
      { id: 'done', type: 'action', action: 'tag_object', params: { objectId: '{{ steps.open.output.id }}', tag: 'closed' } },
    ],
  };
  expect((await client.call('POST', '/v1/workflows', { id: 'outage', name: 'outage', definition })).status).toBe(201);
  expect((await client.call('POST', '/v1/workflows/outage/publish')).status).toBe(201);

  const runIds: string[] = [];
  for (let n = 0; n < RUNS; n++) {
    const started = await client.call('POST', '/v1/workflows/outage/runs', { n });
    expect(started.status).toBe(201);
    runIds.push(started.body.runId);
  }

  // The database goes away while the runs are at their first steps.
  await pg.stop();
  const during: { status: number; retryAfter: string | null; code?: string }[] = [];
  const outageEnds = Date.now() + OUTAGE_MS;
  while (Date.now() < outageEnds) {
    for (const [method, path] of [
      ['GET', '/v1/workflows'],
      ['POST', '/v1/workflows/outage/runs'],
      ['GET', '/v1/events'],
    ] as const) {
      const res = await fetch(`${api.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        ...(method === 'POST' ? { body: JSON.stringify({ n: 999 }) } : {}),
      });
      const body = (await res.json().catch(() => ({}))) as { error?: { code?: string } };
      during.push({ status: res.status, retryAfter: res.headers.get('retry-after'), code: body.error?.code });
    }
    await new Promise((r) => setTimeout(r, 2_000));
  }
  await pg.start();

  expect(during.length).toBeGreaterThan(0);
  expect(during.filter((d) => d.status !== 503 || d.code !== 'unavailable' || d.retryAfter === null)).toEqual([]);

  // Every run gets to its wait; then each case is resolved.
  const cases = await Promise.all(
    runIds.map((runId) =>
      untilItWorks(
        `run ${runId} waiting`,
        async () => {
          const run = await client.call('GET', `/v1/runs/${runId}`);
          const wait = run.body.state?.steps?.find((s: { id: string }) => s.id === 'wait');
          if (wait?.status !== 'waiting') throw new Error(`not waiting yet: ${JSON.stringify(run.body.state?.steps?.map((s: { id: string; status: string }) => [s.id, s.status]))}`);
          return run.body.state.steps.find((s: { id: string }) => s.id === 'open').output.id as string;
        },
        log,
        180_000,
      ),
    ),
  );
  for (const caseId of cases) {
    expect((await client.postEvent({ id: `evt_resolved_${caseId}`, type: 'case.resolved', objectType: 'case', objectId: caseId })).status).toBe(202);
  }
  const closed = await Promise.all(
    runIds.map((runId) =>
      untilItWorks(
        `run ${runId} closed`,
        async () => {
          const run = await client.call('GET', `/v1/runs/${runId}`);
          if (!['completed', 'failed'].includes(run.body.status)) throw new Error(`still ${run.body.status}`);
          return run.body;
        },
        log,
        120_000,
      ),
    ),
  );
  expect(closed.filter((run) => run.status !== 'completed').map((run) => [run.runId, run.state?.error])).toEqual([]);
  // Runs were caught by the outage at a step and rode it out by retrying it.
  const retried = closed.flatMap((run) => run.state.steps.filter((s: { id: string; attempts?: number }) => ['open', 'tag'].includes(s.id) && (s.attempts ?? 1) > 1));
  expect(retried.length).toBeGreaterThan(0);
  log(`steps retried through the outage: ${retried.length}; most attempts: ${Math.max(...retried.map((s: { attempts: number }) => s.attempts))}`);
  // The outage shows in the steps' attempts, and no case was made twice.
  const { rows } = await admin.query<{ n: string }>('SELECT count(*) AS n FROM cases');
  expect(Number(rows[0].n)).toBe(RUNS);
  expect(new Set(cases).size).toBe(RUNS);
  const { rows: tagged } = await admin.query<{ n: string }>(`SELECT count(*) AS n FROM cases WHERE tags @> ARRAY['opened','closed']`);
  expect(Number(tagged[0].n)).toBe(RUNS);
}, 400_000);
