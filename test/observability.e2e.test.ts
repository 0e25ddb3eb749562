/**
 * Health, readiness, Prometheus metrics and structured logs, through the
 * real API and a real worker: runs started/completed/failed by workflow,
 * step latency by action, waits, events received, each behind METRICS_TOKEN;
 * JSON log lines for requests and step attempts carrying run and step ids.
 */
import { Writable } from 'node:stream';
import { readFileSync } from 'node:fs';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createLogger, redactUrl } from '../src/observability/logger';
import { createRunWorker } from '../src/worker/create-worker';
import { api, createHarness, isClosed, postEvent, publishWorkflow, startRun, waitForRun, TEST_METRICS_TOKEN, TEST_PAYLOAD_CODEC, type Harness } from './support/harness';

let h: Harness;
let connection: NativeConnection;
let worker: Worker;
let running: Promise<void>;
const lines: Record<string, any>[] = [];

beforeAll(async () => {
  h = await createHarness({ worker: false });
  // The harness's worker, plus a logger whose JSON lines the tests read.
  const logger = createLogger({
    level: 'info',
    destination: new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    }),
  });
  connection = await NativeConnection.connect({ address: h.address });
  worker = await createRunWorker({
    connection,
    namespace: 'default',
    taskQueue: h.taskQueue,
    registry: h.registry,
    workflows: h.workflows,
    db: h.db,
    workflowBundle: { code: readFileSync(process.env.TEST_WORKFLOW_BUNDLE!, 'utf8') },
    payloadCodec: TEST_PAYLOAD_CODEC,
    metrics: h.metrics,
    logger,
  });
  running = worker.run();
  await publishWorkflow(h, 'obs_flow', {
    trigger: { type: 'api', inputSchema: { type: 'object', properties: { fail: { type: 'boolean' }, caseId: { type: 'string' } } } },
    steps: [
      { id: 'note', type: 'action', action: 'set_variables', params: { variables: { seen: true } }, next: 'route' },
      { id: 'route', type: 'condition', routes: [{ when: 'has(trigger.fail)', next: 'failed' }, { when: 'has(trigger.caseId)', next: 'await_case' }], default: 'done' },
      { id: 'await_case', type: 'wait_for_event', events: ['case.resolved'], object: 'trigger.caseId', timeout: '1h', next: 'done' },
      { id: 'done', type: 'end', outcome: 'succeeded' },
      { id: 'failed', type: 'end', outcome: 'failed', reason: 'asked to fail' },
    ],
  });
});
afterAll(async () => {
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running;
  await connection?.close();
  await h?.close();
});

async function scrape(): Promise<string> {
  const res = await fetch(`${h.baseUrl}/metrics`, { headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
}

/** The value of one series, e.g. `idw_runs_started_total{workflow="obs_flow"}`; 0 when absent. */
function valueOf(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe('health and readiness', () => {
  it('answers /healthz and /readyz without credentials, naming each dependency checked', async () => {
    const health = await api(h, 'GET', '/healthz', undefined, { key: null });
    expect(health).toMatchObject({ status: 200, body: { ok: true } });
    const ready = await api(h, 'GET', '/readyz', undefined, { key: null });
    expect(ready).toMatchObject({ status: 200, body: { status: 'ready', checks: { postgresql: 'ok', temporal: 'ok' } } });
  });
});

describe('/metrics', () => {
  it('refuses a scrape without the metrics token, or with an API key instead', async () => {
    expect((await api(h, 'GET', '/metrics', undefined, { key: null })).status).toBe(401);
    const withApiKey = await api(h, 'GET', '/metrics');
    expect(withApiKey.status).toBe(401);
    expect(withApiKey.body.error.code).toBe('unauthenticated');
  });

  it('counts runs started, completed and failed by workflow, and step latency by action', async () => {
    const before = await scrape();
    const ok = await startRun(h, 'obs_flow', {});
    const bad = await startRun(h, 'obs_flow', { fail: true });
    await waitForRun(h, ok, isClosed);
    await waitForRun(h, bad, isClosed);
    const after = await scrape();
    const delta = (series: string) => valueOf(after, series) - valueOf(before, series);
    expect(delta('idw_runs_started_total{workflow="obs_flow"}')).toBe(2);
    expect(delta('idw_runs_completed_total{workflow="obs_flow"}')).toBe(1);
    expect(delta('idw_runs_failed_total{workflow="obs_flow"}')).toBe(1);
    expect(delta('idw_step_duration_seconds_count{action="set_variables",outcome="succeeded"}')).toBe(2);
    expect(after).toMatch(/^idw_step_duration_seconds_bucket\{le="0.1",action="set_variables",outcome="succeeded"\} \d+$/m);
    expect(delta('idw_http_requests_total{method="POST",route="/v1/workflows/:id/runs",status="201"}')).toBe(2);
  });

  it('counts waits registered and open, and events received by source and outcome', async () => {
    const before = await scrape();
    const runId = await startRun(h, 'obs_flow', { caseId: 'case_obs_1' });
    await waitForRun(h, runId, (run) => run.state?.steps?.some((s: any) => s.id === 'await_case' && s.status === 'waiting'));
    const waiting = await scrape();
    expect(valueOf(waiting, 'idw_waits_registered_total{kind="event"}') - valueOf(before, 'idw_waits_registered_total{kind="event"}')).toBe(1);
    expect(valueOf(waiting, 'idw_waits_open{kind="event"}')).toBe(1);

    expect((await postEvent(h, { id: 'evt_obs_1', type: 'case.resolved', objectId: 'case_obs_1', objectType: 'case', data: {} })).status).toBe(202);
    expect((await postEvent(h, { id: 'evt_obs_2', type: 'case.resolved', objectId: 'case_obs_1' }, { secret: 'wrong' })).status).toBe(401);
    await waitForRun(h, runId, isClosed);
    const after = await scrape();
    expect(valueOf(after, 'idw_events_received_total{source="upstream",outcome="accepted"}') - valueOf(before, 'idw_events_received_total{source="upstream",outcome="accepted"}')).toBe(1);
    expect(valueOf(after, 'idw_events_received_total{source="upstream",outcome="rejected"}') - valueOf(before, 'idw_events_received_total{source="upstream",outcome="rejected"}')).toBe(1);
    expect(valueOf(after, 'idw_waits_open{kind="event"}')).toBe(0);
  });
});

describe('structured logs', () => {
  it('writes one JSON line per step attempt with the run id, step id, action and duration, and no parameters', async () => {
    const runId = await startRun(h, 'obs_flow', {});
    await waitForRun(h, runId, isClosed);
    const step = lines.find((l) => l.runId === runId && l.stepId === 'note' && l.msg === 'step attempt succeeded');
    expect(step).toMatchObject({ level: 'info', service: 'identity-workflows', runId, stepId: 'note', action: 'set_variables', attempt: 1, outcome: 'succeeded', durationMs: expect.any(Number) });
    expect(typeof step!.time).toBe('string');
    expect(JSON.stringify(lines.filter((l) => l.runId === runId))).not.toContain('"seen"');
  });
});

describe('request log URLs', () => {
  it.each([
    ['/codec/s3cret-token/decode', '/codec/[redacted]/decode'],
    ['/inquiry-links/lnk_abc123?x=1', '/inquiry-links/[redacted]?x=1'],
    ['/v1/things?token=abc&key=def&q=1', '/v1/things?token=[redacted]&key=[redacted]&q=1'],
    ['/v1/runs/run_1', '/v1/runs/run_1'],
  ])('logs %s as %s', (url, logged) => {
    expect(redactUrl(url)).toBe(logged);
  });
});
