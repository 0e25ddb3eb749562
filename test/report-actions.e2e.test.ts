/**
 * run_report in published workflows on the real Temporal dev server: a
 * watchlist report about an inquiry (its subject read from the inquiry)
 * that matches, emits report/watchlist.matched, wakes the run waiting on
 * the report and starts a workflow triggered by that event; a clean
 * report; a PEP report; a forced activity retry (the adverse media
 * provider fails the first attempt) that still leaves one report; and a
 * step whose subject lacks a name failing without retry and without a
 * report.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createRegistry } from '../src/activities';
import type { ReportActionDeps } from '../src/activities/report-actions';
import { importWatchlist } from '../src/screening';
import { createRunWorker } from '../src/worker/create-worker';
import { api, createHarness, isClosed, publishWorkflow, startRun, stepOf, waitForRun, type Harness, TEST_PAYLOAD_CODEC } from './support/harness';
import { testActions } from './support/test-actions';

const fixture = (name: string) => readFileSync(join(__dirname, 'fixtures', 'screening', name), 'utf8');

let h: Harness;
let connection: NativeConnection;
let worker: Worker;
let running: Promise<void>;
let provider: Server;
const providerRequests: { name: string; authorization?: string }[] = [];

beforeAll(async () => {
  // The adverse media provider: fails the first request for a name, then answers with articles about it.
  provider = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const { name } = JSON.parse(body) as { name: string };
      providerRequests.push({ name, authorization: req.headers.authorization });
      if (providerRequests.filter((r) => r.name === name).length === 1) {
        res.writeHead(503).end('busy');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({ articles: [{ title: `${name} charged with fraud`, url: 'https://news.example/1', snippet: 'Prosecutors said...', categories: ['fraud'], score: 0.9 }] }),
      );
    });
  });
  await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));

  h = await createHarness({ worker: false });
  // The harness's own registry has no provider; this worker's does (the API validates against either: the catalog is the same).
  const deps: ReportActionDeps = {
    db: h.db,
    network: { allowList: ['127.0.0.1'] },
    adverseMedia: { url: `http://127.0.0.1:${(provider.address() as AddressInfo).port}/search` },
  };
  connection = await NativeConnection.connect({ address: h.address });
  worker = await createRunWorker({
    connection,
    namespace: 'default',
    taskQueue: h.taskQueue,
    registry: createRegistry(deps, testActions(h.db)),
    workflows: h.workflows,
    db: h.db,
    workflowBundle: { code: readFileSync(process.env.TEST_WORKFLOW_BUNDLE!, 'utf8') },
    payloadCodec: TEST_PAYLOAD_CODEC,
  });
  running = worker.run();

  await importWatchlist(h.db, { source: 'ofac_sdn', list: 'sanctions', csv: fixture('sdn-sample.csv'), altCsv: fixture('alt-sample.csv') });
  await importWatchlist(h.db, { source: 'opensanctions', list: 'pep', csv: fixture('opensanctions-peps-sample.csv') });
});

afterAll(async () => {
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running;
  await connection?.close();
  await h?.close();
  await new Promise((resolve) => provider?.close(resolve));
});

async function eventTypes(objectId: string): Promise<string[]> {
  const { rows } = await h.db.query<{ type: string }>('SELECT type FROM events WHERE object_id = $1 ORDER BY seq', [objectId]);
  return rows.map((r) => r.type);
}

async function createInquiry(fields: Record<string, unknown>): Promise<string> {
  const res = await api(h, 'POST', '/v1/inquiries', { template: 'kyc', fields });
  if (res.status !== 201) throw new Error(`inquiry: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('timed out');
}

describe('a watchlist report in a run', () => {
  it('matches, emits report/watchlist.matched, wakes the waiting run and starts the event-triggered workflow', async () => {
    await publishWorkflow(h, 'on_watchlist_hit', {
      trigger: { type: 'event', event: 'report/watchlist.matched' },
      steps: [{ id: 'note_hit', type: 'action', action: 'record_mark', params: { label: 'hit {{ trigger.object.id }} for {{ trigger.object.objectId }}' } }],
    });
    await publishWorkflow(h, 'screen_inquiry', {
      trigger: { type: 'api' },
      steps: [
        { id: 'screen', type: 'action', action: 'run_report', params: { type: 'watchlist', objectId: { $cel: 'trigger.inquiryId' } }, next: 'await_hit' },
        { id: 'await_hit', type: 'wait_for_event', events: ['report/watchlist.matched'], object: 'steps.screen.output.reportId', timeout: '60s', onTimeout: 'fail', next: 'done' },
        { id: 'done', type: 'end', reason: 'hit on {{ steps.await_hit.output.event.objectId }}' },
      ],
    });
    // The subject comes from the inquiry: name and birthdate.
    const inquiryId = await createInquiry({ name_first: 'Rustam', name_last: 'Karimov', birthdate: '1968-03-14', country: 'RU' });
    const runId = await startRun(h, 'screen_inquiry', { inquiryId });
    const run = await waitForRun(h, runId, isClosed);
    expect(run.status).toBe('completed');

    const output = stepOf(run, 'screen').output;
    expect(output).toMatchObject({ status: 'ready', hasMatch: true });
    expect(output.matches[0]).toMatchObject({ entryId: 'ofac_sdn:9001', name: 'KARIMOV, Rustam Alievich', score: 1, evidence: ['birthdate_match', 'country_match'] });
    expect(stepOf(run, 'await_hit').output.event).toMatchObject({ type: 'report/watchlist.matched', objectId: output.reportId });
    expect(run.state.reason).toBe(`hit on ${output.reportId}`);

    expect(await eventTypes(output.reportId)).toEqual(['report/watchlist.created', 'report/watchlist.ready', 'report/watchlist.matched']);
    const report = (await api(h, 'GET', `/v1/reports/${output.reportId}`)).body;
    expect(report).toMatchObject({ type: 'watchlist', status: 'ready', objectId: inquiryId, hasMatch: true, details: { list: 'sanctions', entriesScreened: 22, subjectFields: ['name', 'birthdate', 'country'] } });
    // No subject values are kept on the report (it is not redacted with the person).
    expect(JSON.stringify(report.details)).not.toContain('1968-03-14');

    const mark = await until(async () => {
      const { rows } = await h.db.query<{ label: string }>(`SELECT label FROM test_marks WHERE step_id = 'note_hit'`);
      return rows[0]?.label;
    });
    expect(mark).toBe(`hit ${output.reportId} for ${inquiryId}`);
  });

  it('a clean report is ready without a match, and emits no .matched', async () => {
    await publishWorkflow(h, 'screen_name', {
      trigger: { type: 'api' },
      steps: [{ id: 'screen', type: 'action', action: 'run_report', params: { type: '{{ trigger.type }}', subject: { name: '{{ trigger.name }}', birthdate: '{{ trigger.birthdate }}' } } }],
    });
    const clean = await waitForRun(h, await startRun(h, 'screen_name', { type: 'watchlist', name: 'Peter Fischer' }), isClosed);
    expect(clean.status).toBe('completed');
    const output = stepOf(clean, 'screen').output;
    expect(output).toEqual({ reportId: expect.stringMatching(/^rep_/), status: 'ready', hasMatch: false, matches: [] });
    expect(await eventTypes(output.reportId)).toEqual(['report/watchlist.created', 'report/watchlist.ready']);

    const pep = await waitForRun(h, await startRun(h, 'screen_name', { type: 'pep', name: 'Anna Kowalska', birthdate: '1972-04-18' }), isClosed);
    const pepOutput = stepOf(pep, 'screen').output;
    expect(pepOutput.matches[0]).toMatchObject({ entryId: 'opensanctions:pep-pl-kowalska', list: 'pep', score: 1 });
    expect(await eventTypes(pepOutput.reportId)).toEqual(['report/pep.created', 'report/pep.ready', 'report/pep.matched']);
  });

  it('a subject without a name fails the step at once, without a report', async () => {
    const inquiryId = await createInquiry({ email: 'nobody@example.com' });
    const run = await waitForRun(h, await startRun(h, 'screen_inquiry', { inquiryId }), isClosed);
    expect(run.status).toBe('failed');
    const step = stepOf(run, 'screen');
    expect(step.status).toBe('failed');
    expect(JSON.stringify(step.error)).toContain('ReportSubjectMissing');
    const { rows } = await h.db.query('SELECT id FROM reports WHERE object_id = $1', [inquiryId]);
    expect(rows).toEqual([]);
  });
});

describe('a forced activity retry', () => {
  it('the provider fails the first attempt; the retry finishes the same report, and only one exists', async () => {
    await publishWorkflow(h, 'media_check', {
      trigger: { type: 'api' },
      steps: [{ id: 'media', type: 'action', action: 'run_report', params: { type: 'adverse_media', objectId: { $cel: 'trigger.inquiryId' }, subject: { name: 'Flaky Person' } } }],
    });
    const inquiryId = await createInquiry({});
    const run = await waitForRun(h, await startRun(h, 'media_check', { inquiryId }), isClosed);
    expect(run.status).toBe('completed');
    expect(providerRequests.filter((r) => r.name === 'Flaky Person')).toHaveLength(2);
    const output = stepOf(run, 'media').output;
    expect(output).toMatchObject({ status: 'ready', hasMatch: true, matches: [{ title: 'Flaky Person charged with fraud', categories: ['fraud'], score: 1, providerScore: 0.9 }] });
    const { rows } = await h.db.query<{ id: string }>('SELECT id FROM reports WHERE object_id = $1', [inquiryId]);
    expect(rows.map((r) => r.id)).toEqual([output.reportId]);
    expect(await eventTypes(output.reportId)).toEqual(['report/adverse_media.created', 'report/adverse_media.ready', 'report/adverse_media.matched']);
  });
});
