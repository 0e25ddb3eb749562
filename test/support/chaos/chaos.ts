/**
 * Faults under load, on loopback: N runs in flight while the worker is
 * killed, the API restarted, the Temporal dev server restarted on its
 * SQLite file and PostgreSQL stopped for a while; then the books are
 * balanced: every run completed once, every posted event stored and
 * delivered, one case, one ticket and one email per run where the target
 * deduplicates. `npm run chaos` (scripts/chaos.ts) and the short form in
 * test/chaos.e2e.test.ts both call `runChaos`.
 *
 * Everything is private to the run: its own PostgreSQL cluster (the shared
 * one other tests use is never stopped), its own Temporal dev server, a
 * loopback SMTP server and a ticket desk that deduplicates by
 * Idempotency-Key.
 *
 * The runs, a mix of two published workflows:
 * - `chaos_review` (API trigger, idempotency key `trigger.requestId`):
 *   create_case, then in parallel a ticket (Make HTTPS Request), an email
 *   (Send Email) and a wait for the inquiry's `inquiry.approved`, then a
 *   test mark;
 * - `chaos_screen` (started by an `inquiry.created` event): a mark, then
 *   in parallel a ticket, a timer and the same wait, then a mark.
 * The load generator posts each run's decision event once the desk has the
 * run's ticket (any moment after the run began would do, since a wait takes
 * the events recorded from its run's start on; this spreads the events over
 * the faults), at a random moment up to the end of the faults, or, for one
 * run in ten, after the last fault, so some runs are in flight through all
 * of them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { ApiKeyStore } from '../../../src/auth/api-keys';
import { SCOPES } from '../../../src/auth/scopes';
import { CredentialStore } from '../../../src/credentials/store';
import { eventRunId } from '../../../src/events/router';
import { connectPostgres, type Db } from '../../../src/store/db';
import { migrate } from '../../../src/store/migrations';
import { SEARCH_ATTRIBUTE_TYPES } from '../../../src/workflows/run-contract';
import { startDevServer, type DevServer } from '../../../temporal/dev-server';
import { TEST_CREDENTIALS_KEY, TEST_DATA_CONVERTER } from '../harness';
import { SmtpPeer } from '../peers/smtp-peer';
import { createMarksTable } from '../test-actions';
import { RetryingClient } from './client';
import { freePort, startPgCluster, type PgCluster } from './pg-cluster';
import { startApi, untilItWorks, WorkerProcess, type ApiProcess, type ServiceConfig } from './service';
import { startTicketDesk, type TicketDesk } from './ticket-desk';

export interface ChaosOptions {
  /** Runs in all (a fifth are started by events). */
  runs: number;
  /** How long PostgreSQL stays down. */
  pgOutageMs: number;
  /** The pause between one fault and the next (runs keep starting and finishing meanwhile). */
  faultGapMs: number;
  /** The bundled workflow code, as a file. */
  bundlePath: string;
  /** How long the runs may take to finish after the last fault. */
  settleTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface FaultRecord {
  fault: string;
  /** Seconds after the load began. */
  atS: number;
  /** Until the part was back. */
  outageS: number;
  /** Runs started whose decision event had not been posted yet, when the fault began: in flight for sure. */
  runsInFlight: number;
}

export interface ChaosReport {
  options: Omit<ChaosOptions, 'log' | 'bundlePath'>;
  startedAt: string;
  durationS: number;
  runs: {
    started: number;
    completed: number;
    failed: number;
    /** Expected but never seen in Temporal, or not finished by the deadline. */
    lost: number;
    /** Executions beyond one per run, or runs nobody asked for. */
    duplicated: number;
    /** Steps whose state says they ran more than once. */
    stepsRunTwice: number;
    /** Trigger requests retried by the client and answered with the run the first one started (200). */
    triggersAnsweredWithExisting: number;
  };
  sideEffects: {
    cases: number;
    duplicateCases: number;
    tickets: number;
    duplicateTickets: number;
    /** Ticket requests the desk answered with the ticket it had made (a retried step, deduplicated). */
    ticketReplays: number;
    emailsReceived: number;
    /** Distinct Message-IDs: what a receiver that deduplicates keeps. */
    emailsDistinct: number;
    duplicateEmails: number;
    /** Test marks written more than once under the same key (retried attempts, one row each). */
    markAttemptsRetried: number;
  };
  events: { posted: number; stored: number; delivered: number; notDelivered: number; lost: number; duplicatePostsAccepted: number };
  faults: FaultRecord[];
  clientRetries: { network: number; status5xx: number; status429: number };
  /** The API's 5xx answers the client retried, by status and error code. */
  serverErrors: Record<string, number>;
  /** One line per thing that went wrong; empty when the books balance. */
  problems: string[];
}

const SCHEMA = 'chaos';
const SMTP_USER = { user: 'mailer@chaos.test', password: 'chaos-smtp-password' };
const STEP_RETRY = { attempts: 100, initialInterval: '500ms', backoff: 2, maximumInterval: '5s' };

interface PlannedRun {
  requestId: string;
  inquiryId: string;
  kind: 'review' | 'screen';
  runId?: string;
  triggerEventId?: string;
  decisionEventId?: string;
  error?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

function definitions(deskUrl: string, smtpCredential: string) {
  const ticket = (requestId: string) => ({
    type: 'action',
    action: 'https_request',
    params: { method: 'POST', url: `${deskUrl}/tickets`, body: { requestId, run: '{{ run.id }}' } },
    retry: STEP_RETRY,
  });
  const decision = (objectId: string) => ({ type: 'wait_for_event', events: ['inquiry.approved'], object: objectId, timeout: '1h', onTimeout: 'fail' });
  const review = {
    trigger: {
      type: 'api',
      inputSchema: { type: 'object', required: ['requestId', 'inquiryId'], properties: { requestId: { type: 'string' }, inquiryId: { type: 'string' } } },
    },
    flow: { idempotencyKey: 'trigger.requestId' },
    steps: [
      { id: 'open_case', type: 'action', action: 'create_case', params: { title: 'Review {{ trigger.requestId }}', tags: ['chaos'] }, retry: STEP_RETRY, next: 'review' },
      {
        id: 'review',
        type: 'parallel',
        branches: [
          { id: 'ticket', steps: [{ id: 'file_ticket', ...ticket('{{ trigger.requestId }}') }] },
          {
            id: 'email',
            steps: [
              {
                id: 'notify_reviewer',
                type: 'action',
                action: 'send_email',
                params: { credential: smtpCredential, to: 'reviewer@chaos.test', subject: 'Review {{ trigger.requestId }}', text: 'Case {{ steps.open_case.output.id }} needs a decision.' },
                retry: STEP_RETRY,
              },
            ],
          },
          { id: 'decision', steps: [{ id: 'await_decision', ...decision('trigger.inquiryId') }] },
        ],
        next: 'done',
      },
      { id: 'done', type: 'action', action: 'record_mark', params: { label: 'done' }, retry: STEP_RETRY },
    ],
  };
  const screen = {
    trigger: { type: 'event', event: 'inquiry.created' },
    steps: [
      { id: 'first', type: 'action', action: 'record_mark', params: { label: 'first' }, retry: STEP_RETRY, next: 'checks' },
      {
        id: 'checks',
        type: 'parallel',
        branches: [
          { id: 'ticket', steps: [{ id: 'file_ticket', ...ticket('{{ trigger.event.data.requestId }}') }] },
          { id: 'pause', steps: [{ id: 'cool_off', type: 'wait_for_time', duration: '2s' }] },
          { id: 'decision', steps: [{ id: 'await_decision', ...decision('trigger.event.objectId') }] },
        ],
        next: 'done',
      },
      { id: 'done', type: 'action', action: 'record_mark', params: { label: 'done' }, retry: STEP_RETRY },
    ],
  };
  return { chaos_review: review, chaos_screen: screen };
}

/** Run `fn` over `items`, at most `limit` at once. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => undefined);
  const startedAt = new Date();
  const work = mkdtempSync(join(tmpdir(), 'idw-chaos-'));
  const cleanups: Array<() => Promise<unknown>> = [];
  try {
    // --- the world -------------------------------------------------------
    const pg: PgCluster = await startPgCluster();
    cleanups.push(() => pg.destroy());
    const temporalPort = await freePort();
    const startTemporal = () => startDevServer({ headless: true, port: temporalPort, dbFilename: join(work, 'temporal.db'), searchAttributes: SEARCH_ATTRIBUTE_TYPES, log: () => undefined });
    let temporal: DevServer = await startTemporal();
    cleanups.push(() => temporal.stop());
    log(`PostgreSQL (own cluster) at ${pg.url}, Temporal dev server at ${temporal.address}`);

    const admin: Db = await connectPostgres({ url: pg.url, schema: SCHEMA, max: 4 });
    cleanups.push(() => admin.close());
    await migrate(admin);
    await createMarksTable(admin);
    const { key: apiKey } = await new ApiKeyStore(admin).create({ name: 'chaos load generator', scopes: SCOPES });
    const smtp = await SmtpPeer.start(SMTP_USER);
    cleanups.push(() => smtp.close());
    const desk: TicketDesk = await startTicketDesk();
    cleanups.push(() => desk.close());
    const smtpCredential = (
      await new CredentialStore(admin, TEST_CREDENTIALS_KEY).create({
        kind: 'smtp',
        name: 'chaos relay',
        secret: { host: '127.0.0.1', port: smtp.port, requireTLS: true, ...SMTP_USER, from: 'Chaos Desk <desk@chaos.test>', ca: smtp.certificate },
      })
    ).id;

    const config: ServiceConfig = {
      databaseUrl: pg.url,
      schema: SCHEMA,
      temporalAddress: temporal.address,
      taskQueue: 'chaos',
      eventsSecret: 'chaos-events-secret',
      bundlePath: options.bundlePath,
      log,
    };
    let api: ApiProcess = await startApi(config);
    cleanups.push(() => api.close());
    const worker = new WorkerProcess(config);
    cleanups.push(() => worker.kill());
    await worker.start();
    const client = new RetryingClient(api.baseUrl, apiKey, config.eventsSecret);
    cleanups.push(async () => client.abort());
    for (const [id, definition] of Object.entries(definitions(desk.url, smtpCredential))) {
      const created = await client.call('POST', '/v1/workflows', { id, name: id, definition });
      if (created.status !== 201) throw new Error(`create ${id}: ${created.status} ${JSON.stringify(created.body)}`);
      const published = await client.call('POST', `/v1/workflows/${id}/publish`);
      if (published.status !== 201) throw new Error(`publish ${id}: ${published.status} ${JSON.stringify(published.body)}`);
    }

    // --- the load and the faults -----------------------------------------
    const gap = options.faultGapMs;
    const faultsSpanMs = 4 * gap + options.pgOutageMs + 15_000; // fault timeline with restart times, roughly
    const startWindowMs = Math.max(1_000, faultsSpanMs * 0.6);
    const t0 = Date.now();
    const plan: PlannedRun[] = Array.from({ length: options.runs }, (_, i) => ({
      requestId: `r${i}`,
      inquiryId: `inq_chaos_${i}`,
      kind: i % 5 === 4 ? 'screen' : 'review',
    }));
    const posted = new Set<string>();
    let duplicatePostsAccepted = 0;
    let triggersAnsweredWithExisting = 0;
    let faultsDone = false;
    let endFaults!: () => void;
    const faultsOver = new Promise<void>((resolve) => (endFaults = resolve));
    let startedCount = 0;
    let decidedCount = 0;
    const decisionsBy = () => (faultsDone ? Date.now() : t0 + faultsSpanMs);

    const post = async (event: Record<string, unknown>): Promise<void> => {
      const res = await client.postEvent(event);
      if (res.status !== 202) throw new Error(`POST /v1/events ${String(event.id)}: ${res.status} ${JSON.stringify(res.body)}`);
      if (res.body?.duplicate) duplicatePostsAccepted++;
      posted.add(String(event.id));
    };

    const load = Promise.all(
      plan.map(async (run, i) => {
        try {
          await sleep(t0 + (i / options.runs) * startWindowMs - Date.now());
          if (run.kind === 'review') {
            const res = await client.call('POST', '/v1/workflows/chaos_review/runs', { requestId: run.requestId, inquiryId: run.inquiryId });
            if (res.status !== 201 && res.status !== 200) throw new Error(`start: ${res.status} ${JSON.stringify(res.body)}`);
            if (res.status === 200) triggersAnsweredWithExisting++;
            run.runId = res.body.runId;
          } else {
            run.triggerEventId = `evt_created_${run.requestId}`;
            await post({ id: run.triggerEventId, type: 'inquiry.created', objectType: 'inquiry', objectId: run.inquiryId, data: { requestId: run.requestId } });
            run.runId = eventRunId(run.triggerEventId, 'chaos_screen');
          }
          startedCount++;
          // The ticket is filed in the same parallel step as the wait: once it exists, the wait has begun.
          await desk.whenTicket(run.requestId);
          // One run in ten keeps waiting through every fault; the rest are decided at random meanwhile.
          if (i % 10 === 3) await faultsOver;
          else await sleep(Math.random() * (decisionsBy() - Date.now()));
          run.decisionEventId = `evt_decision_${run.requestId}`;
          await post({ id: run.decisionEventId, type: 'inquiry.approved', objectType: 'inquiry', objectId: run.inquiryId, data: { requestId: run.requestId } });
          decidedCount++;
        } catch (err) {
          run.error = (err as Error).message;
        }
      }),
    );

    const faults: FaultRecord[] = [];
    const fault = async (name: string, fn: () => Promise<void>): Promise<void> => {
      const at = Date.now();
      const runsInFlight = startedCount - decidedCount;
      log(`fault: ${name} (${runsInFlight} runs in flight)`);
      await fn();
      faults.push({ fault: name, atS: round((at - t0) / 1000), outageS: round((Date.now() - at) / 1000), runsInFlight });
      log(`fault: ${name}: back after ${round((Date.now() - at) / 1000)} s`);
    };
    await sleep(gap / 2);
    // The first fault waits for a run to be under way (a slow machine may take a while to start one).
    for (let waited = 0; startedCount === 0 && waited < 60_000; waited += 100) await sleep(100);
    await fault('worker killed (SIGKILL), new worker started', async () => {
      await worker.kill();
      await sleep(2_000);
      await untilItWorks('starting the worker', () => worker.start(), log);
    });
    await sleep(gap);
    await fault('API restarted (server, router, webhook dispatcher, pool)', async () => {
      const port = api.port;
      await api.close();
      api = await untilItWorks('starting the API', () => startApi(config, port), log);
    });
    await sleep(gap);
    await fault('Temporal dev server restarted on its SQLite file', async () => {
      await temporal.stop();
      temporal = await untilItWorks('starting the Temporal dev server', startTemporal, log);
    });
    await sleep(gap);
    await fault(`PostgreSQL stopped for ${round(options.pgOutageMs / 1000)} s`, async () => {
      await pg.stop();
      await sleep(options.pgOutageMs);
      await pg.start();
    });
    faultsDone = true;
    endFaults();
    log(`faults done after ${round((Date.now() - t0) / 1000)} s; waiting for the load and the runs`);
    const loadEnded = load.then(() => log(`load generator done after ${round((Date.now() - t0) / 1000)} s`));

    // --- settling -----------------------------------------------------------
    const settleBy = Date.now() + (options.settleTimeoutMs ?? 10 * 60_000);
    let loadDone = false;
    void loadEnded.then(() => (loadDone = true));
    const temporalClient = new Client({ connection: await Connection.connect({ address: temporal.address }), dataConverter: TEST_DATA_CONVERTER });
    cleanups.push(() => temporalClient.connection.close());
    // Done when nothing runs and every run asked for exists; the load is then done too, unless a run
    // ended without filing its ticket (a failure the books below report).
    for (let quiet = 0, round = 0; Date.now() < settleBy; round++) {
      const triggered = plan.every((r) => r.runId || r.error);
      const expectedRuns = plan.filter((r) => r.runId).length;
      const running = (await temporalClient.workflow.count(`WorkflowType = 'workflowRun' AND ExecutionStatus = 'Running'`)).count;
      const all = (await temporalClient.workflow.count(`WorkflowType = 'workflowRun'`)).count;
      quiet = triggered && running === 0 && all >= expectedRuns ? quiet + 1 : 0;
      if (quiet > 0 && (loadDone || quiet >= 5)) break;
      if (round % 5 === 0) log(`settling: ${running} runs running, ${all} of ${expectedRuns} seen${loadDone ? '' : ', load generator still going'}`);
      await sleep(2_000);
    }
    const expected = new Map(plan.filter((r) => r.runId).map((r) => [r.runId!, r]));

    // --- the books ----------------------------------------------------------
    const problems: string[] = [];
    for (const run of plan) {
      if (run.error) problems.push(`${run.requestId}: load generator: ${run.error}`);
      else if (!run.decisionEventId) problems.push(`${run.requestId}: no decision posted (the run filed no ticket)`);
    }
    const executions = new Map<string, string[]>();
    for await (const info of temporalClient.workflow.list({ query: `WorkflowType = 'workflowRun'` })) {
      if (info.status.name === 'CONTINUED_AS_NEW') continue;
      executions.set(info.workflowId, [...(executions.get(info.workflowId) ?? []), info.status.name]);
    }
    let completed = 0;
    let failed = 0;
    let lost = 0;
    let duplicated = 0;
    for (const [runId, run] of expected) {
      const statuses = executions.get(runId) ?? [];
      if (statuses.length > 1) {
        duplicated += statuses.length - 1;
        problems.push(`${run.requestId}: ${statuses.length} executions of ${runId}`);
      }
      if (statuses.includes('COMPLETED')) completed++;
      else if (statuses.length === 0 || statuses.includes('RUNNING')) {
        lost++;
        problems.push(`${run.requestId}: ${runId} ${statuses.length ? 'still running' : 'never started'}`);
      } else {
        failed++;
        problems.push(`${run.requestId}: ${runId} ended ${statuses.join(', ')}: ${await whyFailed(client, runId)}`);
      }
    }
    for (const runId of executions.keys()) {
      if (!expected.has(runId)) {
        duplicated++;
        problems.push(`an unexpected run ${runId}`);
      }
    }
    lost += plan.filter((r) => !r.runId).length;

    // Step states (GET /v1/runs/:id), and which event ended each wait.
    let stepsRunTwice = 0;
    const delivered = new Set<string>();
    for (const run of plan) if (run.triggerEventId && executions.has(run.runId!)) delivered.add(run.triggerEventId);
    await pool([...expected.values()], 8, async (run) => {
      if (!executions.get(run.runId!)?.includes('COMPLETED')) return;
      const res = await client.call('GET', `/v1/runs/${run.runId}`);
      if (res.status !== 200) {
        problems.push(`${run.requestId}: GET /v1/runs/${run.runId}: ${res.status}`);
        return;
      }
      for (const step of res.body.state?.steps ?? []) {
        if (step.runs > 1) {
          stepsRunTwice++;
          problems.push(`${run.requestId}: step ${step.id} ran ${step.runs} times`);
        }
        if (step.id === 'await_decision' && step.resolvedBy?.id) delivered.add(step.resolvedBy.id);
      }
    });

    const { rows: caseRows } = await admin.query<{ title: string; n: string }>(`SELECT title, count(*) AS n FROM cases WHERE title LIKE 'Review %' GROUP BY title`);
    const reviews = plan.filter((r) => r.kind === 'review' && executions.get(r.runId ?? '')?.includes('COMPLETED'));
    const casesByRequest = new Map(caseRows.map((r) => [r.title.slice('Review '.length), Number(r.n)]));
    let duplicateCases = 0;
    for (const [requestId, n] of casesByRequest) {
      if (n > 1) {
        duplicateCases += n - 1;
        problems.push(`${requestId}: ${n} cases`);
      }
    }
    for (const r of reviews) if (!casesByRequest.has(r.requestId)) problems.push(`${r.requestId}: no case`);

    const ticketsByRequest = new Map<string, number>();
    for (const t of desk.tickets.values()) ticketsByRequest.set(String(t.body.requestId), (ticketsByRequest.get(String(t.body.requestId)) ?? 0) + 1);
    let duplicateTickets = 0;
    for (const [requestId, n] of ticketsByRequest) {
      if (n > 1) {
        duplicateTickets += n - 1;
        problems.push(`${requestId}: ${n} tickets`);
      }
    }

    const idsBySubject = new Map<string, Set<string>>();
    for (const m of smtp.messages) {
      const subject = m.parsed.subject ?? '';
      idsBySubject.set(subject, (idsBySubject.get(subject) ?? new Set()).add(m.parsed.messageId ?? `(none ${Math.random()})`));
    }
    let duplicateEmails = 0;
    let emailsDistinct = 0;
    for (const [subject, ids] of idsBySubject) {
      emailsDistinct += ids.size;
      if (ids.size > 1) {
        duplicateEmails += ids.size - 1;
        problems.push(`"${subject}": ${ids.size} emails with different Message-IDs`);
      }
    }
    for (const r of reviews) if (!idsBySubject.has(`Review ${r.requestId}`)) problems.push(`${r.requestId}: no email`);

    const { rows: markRows } = await admin.query<{ n: string }>('SELECT count(*) AS n FROM test_marks WHERE attempts > 1');
    const { rows: storedRows } = await admin.query<{ id: string }>('SELECT id FROM events WHERE id = ANY($1::text[])', [[...posted]]);
    const stored = new Set(storedRows.map((r) => r.id));
    let eventsLost = 0;
    let notDelivered = 0;
    for (const id of posted) {
      if (!stored.has(id)) {
        eventsLost++;
        problems.push(`event ${id}: acknowledged but not stored`);
      } else if (!delivered.has(id)) {
        notDelivered++;
        problems.push(`event ${id}: stored but not delivered to its run`);
      }
    }

    return {
      options: { runs: options.runs, pgOutageMs: options.pgOutageMs, faultGapMs: options.faultGapMs, settleTimeoutMs: options.settleTimeoutMs },
      startedAt: startedAt.toISOString(),
      durationS: round((Date.now() - startedAt.getTime()) / 1000),
      runs: { started: expected.size, completed, failed, lost, duplicated, stepsRunTwice, triggersAnsweredWithExisting },
      sideEffects: {
        cases: caseRows.length,
        duplicateCases,
        tickets: desk.tickets.size,
        duplicateTickets,
        ticketReplays: desk.replays(),
        emailsReceived: smtp.messages.length,
        emailsDistinct,
        duplicateEmails,
        markAttemptsRetried: Number(markRows[0].n),
      },
      events: { posted: posted.size, stored: stored.size, delivered: [...posted].filter((id) => delivered.has(id)).length, notDelivered, lost: eventsLost, duplicatePostsAccepted },
      faults,
      clientRetries: { ...client.retries },
      serverErrors: { ...client.serverErrors },
      problems,
    };
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((err: Error) => log(`cleanup: ${err.message}`));
    rmSync(work, { recursive: true, force: true });
  }
}

/** The failed steps' errors, as the API shows them. */
async function whyFailed(client: RetryingClient, runId: string): Promise<string> {
  const res = await client.call('GET', `/v1/runs/${runId}`).catch((err: Error) => ({ status: 0, body: err.message }));
  if (res.status !== 200) return `(GET /v1/runs: ${res.status} ${JSON.stringify(res.body).slice(0, 300)})`;
  const failedSteps = (res.body.state?.steps ?? []).filter((s: any) => s.status === 'failed').map((s: any) => `step ${s.id}: ${s.error?.type} ${s.error?.message}`);
  return failedSteps.join('; ') || JSON.stringify(res.body.error ?? res.body.state?.error ?? res.body).slice(0, 500);
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

/** The figures as a two-column table. */
export function formatReport(r: ChaosReport): string {
  const rows: Array<[string, string | number]> = [
    ['runs started', r.runs.started],
    ['runs completed', r.runs.completed],
    ['runs failed', r.runs.failed],
    ['runs lost', r.runs.lost],
    ['runs duplicated', r.runs.duplicated],
    ['steps run twice', r.runs.stepsRunTwice],
    ['trigger retries answered with the existing run', r.runs.triggersAnsweredWithExisting],
    ['cases created / duplicated', `${r.sideEffects.cases} / ${r.sideEffects.duplicateCases}`],
    ['tickets created / duplicated / retries deduplicated', `${r.sideEffects.tickets} / ${r.sideEffects.duplicateTickets} / ${r.sideEffects.ticketReplays}`],
    ['emails received / distinct Message-IDs / duplicated', `${r.sideEffects.emailsReceived} / ${r.sideEffects.emailsDistinct} / ${r.sideEffects.duplicateEmails}`],
    ['test marks retried under the same key', r.sideEffects.markAttemptsRetried],
    ['events posted / stored / delivered', `${r.events.posted} / ${r.events.stored} / ${r.events.delivered}`],
    ['events lost / stored but not delivered', `${r.events.lost} / ${r.events.notDelivered}`],
    ['event re-posts accepted as duplicates', r.events.duplicatePostsAccepted],
    ['faults injected', r.faults.length],
    ...r.faults.map((f): [string, string] => [`  at ${f.atS} s: ${f.fault}`, `${f.runsInFlight} runs in flight; back after ${f.outageS} s`]),
    ['client retries (network / 5xx / 429)', `${r.clientRetries.network} / ${r.clientRetries.status5xx} / ${r.clientRetries.status429}`],
    ['5xx answers by code', Object.entries(r.serverErrors).map(([k, n]) => `${k}: ${n}`).join(', ') || 'none'],
    ['duration, s', r.durationS],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}
