/**
 * No event is ever lost, under a burst: a wait resolves on the first event
 * for its object recorded after its run began, however early it arrived.
 *
 * 102 runs are started in one burst, each waiting on its own case, and each
 * run's `case.resolved` is posted
 *   (a) in the same instant as the start request,
 *   (b) right after the 201,
 *   (c) while the run is busy in a step before the wait,
 *   (d) after the run reports the wait as waiting,
 *   (e) twice with the same id (the second answered `duplicate: true`),
 *   (f) while the worker is stopped (the run resumes on a new worker).
 * Every run must wake by its own event (none by the default resolution
 * time), and no event reaches a run twice. Then the same with two API
 * processes (two routers) on one database: each event is dispatched once,
 * and each run is signalled at most once for it.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../src/api/app';
import { eventRunStartCursor } from '../src/events/outbox';
import { EventRouter, type DispatchReport } from '../src/events/router';
import { RunService } from '../src/runs/run-service';
import { connectPostgres, type Db } from '../src/store/db';
import { WorkflowStore } from '../src/store/workflow-store';
import { api, createHarness, postEvent, publishWorkflow, stepOf, TEST_DATA_CONVERTER, TEST_DATABASE_URL, waitForRun, type Harness } from './support/harness';

let h: Harness;
const reports: DispatchReport[] = [];

beforeAll(async () => {
  h = await createHarness({ rateLimits: { triggersPerMinute: 0, eventsPerMinute: 0 } });
  h.router.onDispatched = (r) => reports.push(r);
  // Generous default resolution time: a lost event shows as `timedOut: true` long before the test's own limit.
  const wait = { id: 'wait', type: 'wait_for_event', events: ['case.resolved'], object: 'trigger.caseId', timeout: '150s', onTimeout: 'continue' };
  const input = { type: 'object', required: ['caseId'], properties: { caseId: { type: 'string' } } };
  await publishWorkflow(h, 'race_plain', { trigger: { type: 'api', inputSchema: input }, steps: [wait] });
  await publishWorkflow(h, 'race_busy', {
    trigger: { type: 'api', inputSchema: input },
    steps: [{ id: 'busy', type: 'wait_for_time', duration: '3s', next: 'wait' }, wait],
  });
});
afterAll(async () => {
  await h?.close();
});

type Case = 'a' | 'b' | 'c' | 'd' | 'e' | 'f';
interface Planned {
  kind: Case;
  caseId: string;
  eventId: string;
  runId?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitDispatched(id: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { rows } = await h.db.query('SELECT 1 FROM events WHERE id = $1 AND dispatched_at IS NOT NULL', [id]);
    if (rows.length > 0) return;
    await sleep(50);
  }
  throw new Error(`event ${id} was not dispatched`);
}

async function start(baseUrl: string, workflowId: string, caseId: string): Promise<string> {
  const res = await api({ ...h, baseUrl }, 'POST', `/v1/workflows/${workflowId}/runs`, { caseId });
  if (res.status !== 201) throw new Error(`start ${caseId}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.runId as string;
}

async function resolve(baseUrl: string, p: Planned): Promise<{ status: number; body: any }> {
  const res = await postEvent({ ...h, baseUrl }, { id: p.eventId, type: 'case.resolved', objectType: 'case', objectId: p.caseId, data: { resolution: 'approved' } });
  if (res.status !== 202) throw new Error(`event ${p.eventId}: ${res.status} ${JSON.stringify(res.body)}`);
  return res;
}

/** Every run closes woken by its own event: not by the default resolution time, not by another run's. */
async function expectAllWokeByTheirEvent(planned: Planned[]): Promise<void> {
  const outcomes = await Promise.all(
    planned.map(async (p) => {
      await h.client.workflow.getHandle(p.runId!).result();
      const run = (await api(h, 'GET', `/v1/runs/${p.runId}`)).body;
      const output = stepOf(run, 'wait').output;
      return { kind: p.kind, caseId: p.caseId, status: run.status, timedOut: output.timedOut, event: output.event?.id, expected: p.eventId };
    }),
  );
  const wrong = outcomes.filter((o) => o.status !== 'completed' || o.timedOut !== false || o.event !== o.expected);
  expect(wrong).toEqual([]);
}

/** No run was signalled twice with the same event, and each event was dispatched once. */
function expectDeliveredOnce(eventIds: string[], seen: DispatchReport[]): void {
  const dispatched = new Map<string, number>();
  const signals = new Map<string, number>();
  for (const r of seen) {
    dispatched.set(r.event, (dispatched.get(r.event) ?? 0) + 1);
    for (const run of r.signalled) signals.set(`${r.event} -> ${run}`, (signals.get(`${r.event} -> ${run}`) ?? 0) + 1);
  }
  expect(eventIds.filter((id) => dispatched.get(id) !== 1)).toEqual([]);
  expect([...signals].filter(([, n]) => n > 1)).toEqual([]);
}

it('wakes each of 102 runs started in one burst by its own event, whenever the event came', async () => {
  const kinds: Case[] = ['a', 'b', 'c', 'd', 'e', 'f'];
  const planned: Planned[] = Array.from({ length: 102 }, (_, i) => ({ kind: kinds[i % 6], caseId: `case_burst_${i}`, eventId: `evt_burst_${i}` }));
  const duplicates: { status: number; body: any }[] = [];

  // The burst: every start request at once; (a)'s events go out in the same instant as their start.
  await Promise.all(
    planned.map(async (p) => {
      const workflow = p.kind === 'c' ? 'race_busy' : 'race_plain';
      if (p.kind === 'a') {
        const [runId] = await Promise.all([start(h.baseUrl, workflow, p.caseId), resolve(h.baseUrl, p)]);
        p.runId = runId;
        return;
      }
      p.runId = await start(h.baseUrl, workflow, p.caseId);
      if (p.kind === 'b') await resolve(h.baseUrl, p);
      if (p.kind === 'e') {
        await resolve(h.baseUrl, p);
        duplicates.push(await resolve(h.baseUrl, p));
      }
    }),
  );
  // (c): the runs are in their 3 s step (or not even at it yet).
  await Promise.all(planned.filter((p) => p.kind === 'c').map((p) => resolve(h.baseUrl, p)));
  // (d): once each run says its wait is waiting.
  await Promise.all(
    planned
      .filter((p) => p.kind === 'd')
      .map(async (p) => {
        await waitForRun(h, p.runId!, (run) => run.state?.steps?.some((s: any) => s.id === 'wait' && s.status === 'waiting'), 120_000);
        await resolve(h.baseUrl, p);
      }),
  );
  // (f): the worker goes away; the events come while no worker runs; a new worker picks the runs up.
  await h.stopWorker();
  await Promise.all(planned.filter((p) => p.kind === 'f').map((p) => resolve(h.baseUrl, p)));
  await sleep(500);
  await h.startWorker();

  await expectAllWokeByTheirEvent(planned);
  expect(duplicates).toHaveLength(17);
  for (const d of duplicates) expect(d.body).toMatchObject({ accepted: true, duplicate: true });
  expectDeliveredOnce(
    planned.map((p) => p.eventId),
    reports,
  );
  // Nothing is left subscribed: each wait's subscription went with its delivery (or was never needed).
  const { rows } = await h.db.query<{ n: string }>("SELECT count(*) AS n FROM wait_subscriptions WHERE object_id LIKE 'case_burst_%'");
  expect(Number(rows[0].n)).toBe(0);
}, 400_000);

it('resolves a second wait on the same object only with a new event (a run consumes an event once)', async () => {
  await publishWorkflow(h, 'race_twice', {
    trigger: { type: 'api', inputSchema: { type: 'object', required: ['caseId'], properties: { caseId: { type: 'string' } } } },
    steps: [
      { id: 'first', type: 'wait_for_event', events: ['case.resolved'], object: 'trigger.caseId', timeout: '60s', next: 'second' },
      { id: 'second', type: 'wait_for_event', events: ['case.resolved'], object: 'trigger.caseId', timeout: '3s', next: 'third' },
      { id: 'third', type: 'wait_for_event', events: ['case.resolved'], object: 'trigger.caseId', timeout: '60s', since: 'wait_start' },
    ],
  });
  const caseId = 'case_twice';
  // Recorded and delivered before the run began: never the run's.
  await resolve(h.baseUrl, { kind: 'b', caseId: 'case_twice', eventId: 'evt_before_run' });
  await waitDispatched('evt_before_run');
  const runId = await start(h.baseUrl, 'race_twice', caseId);
  await resolve(h.baseUrl, { kind: 'b', caseId, eventId: 'evt_twice_1' });
  // `second` finds nothing new: the one event is `first`'s. Then `third` counts only what comes after it began.
  await waitForRun(h, runId, (run) => run.state?.steps?.some((s: any) => s.id === 'third' && s.status === 'waiting'), 60_000);
  await resolve(h.baseUrl, { kind: 'b', caseId, eventId: 'evt_twice_2' });
  await h.client.workflow.getHandle(runId).result();
  const run = (await api(h, 'GET', `/v1/runs/${runId}`)).body;
  expect(stepOf(run, 'first').output).toMatchObject({ timedOut: false, event: { id: 'evt_twice_1' } });
  expect(stepOf(run, 'second').output).toEqual({ timedOut: true });
  expect(stepOf(run, 'third').output).toMatchObject({ timedOut: false, event: { id: 'evt_twice_2' } });
}, 120_000);

it('delivers each event to each run once with two API processes (two routers) on one database', async () => {
  const second = await startSecondApi();
  const seen: DispatchReport[] = [];
  h.router.onDispatched = (r) => seen.push(r);
  second.router.onDispatched = (r) => seen.push(r);
  try {
    const planned: Planned[] = Array.from({ length: 60 }, (_, i) => ({ kind: (['a', 'b', 'd'] as Case[])[i % 3], caseId: `case_two_${i}`, eventId: `evt_two_${i}` }));
    await Promise.all(
      planned.map(async (p, i) => {
        // Starts and events alternate between the two APIs; each router dispatches what it claims.
        const [startOn, postOn] = i % 2 === 0 ? [h.baseUrl, second.baseUrl] : [second.baseUrl, h.baseUrl];
        if (p.kind === 'a') {
          [p.runId] = await Promise.all([start(startOn, 'race_plain', p.caseId), resolve(postOn, p)]);
          return;
        }
        p.runId = await start(startOn, 'race_plain', p.caseId);
        if (p.kind === 'd') await waitForRun(h, p.runId, (run) => run.state?.steps?.some((s: any) => s.id === 'wait' && s.status === 'waiting'), 120_000);
        await resolve(postOn, p);
      }),
    );
    await expectAllWokeByTheirEvent(planned);
    expectDeliveredOnce(
      planned.map((p) => p.eventId),
      seen,
    );
  } finally {
    h.router.onDispatched = (r) => reports.push(r);
    await second.close();
  }
}, 400_000);

/** A second API over the same schema: its own pool, Temporal connection, run service, router and HTTP server. */
async function startSecondApi(): Promise<{ baseUrl: string; router: EventRouter; close(): Promise<void> }> {
  const db: Db = await connectPostgres({ url: TEST_DATABASE_URL, schema: h.schema, max: 5 });
  // As main.ts does: start cursors read on a connection of their own.
  const cursorDb: Db = await connectPostgres({ url: TEST_DATABASE_URL, schema: h.schema, max: 1 });
  const runStartCursor = () => eventRunStartCursor(cursorDb);
  const connection = await Connection.connect({ address: h.address });
  const client = new Client({ connection, namespace: 'default', dataConverter: TEST_DATA_CONVERTER });
  const runs = new RunService({ runStartCursor, client, taskQueue: h.taskQueue, namespace: 'default', registry: h.registry });
  const router = new EventRouter({ db, runs, client, pollMs: 500, log: () => undefined });
  await router.start();
  const app = createApp({
    db,
    runStartCursor,
    workflows: new WorkflowStore(db),
    registry: h.registry,
    runs,
    router,
    credentials: h.credentials,
    eventsSigningSecret: h.eventsSecret,
    rateLimits: { triggersPerMinute: 0, eventsPerMinute: 0 },
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    router,
    async close() {
      await router.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await connection.close();
      await db.close();
      await cursorDb.close();
    },
  };
}
