/**
 * The event path, `POST /v1/events` (HMAC-signed) through the router:
 *   (a) to the first step of the run it starts (an event-triggered workflow);
 *   (b) to the next step of a run waiting for it (wait_for_event on its case).
 * Latency: from just before the POST to the step's start as the run records
 * it (Temporal's clock; same machine). Two modes: one event at a time
 * (unloaded), and sustained, `concurrency` events in flight, each waiting
 * for its run to finish, in `reps` slices: events/s per slice.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { eventRunId } from '../src/events/router';
import { runStateQuery } from '../src/workflows/run-contract';
import type { Service, Stack } from './stack';
import { distribution, pool, sleep, spread, type Distribution, type Spread } from './stats';

export interface EventPathOptions {
  sequential: number;
  sustained: number;
  concurrency: number;
  reps: number;
  warmup: number;
}

export interface EventPathResult {
  sequentialMs: Distribution;
  sustainedMs: Distribution;
  eventsPerSecond: Spread;
}

/** The run's result once it exists (an event-started run may not have started yet). */
async function finished(client: Client, runId: string): Promise<void> {
  for (;;) {
    try {
      await client.workflow.getHandle(runId).result();
      return;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      await sleep(5);
    }
  }
}

async function stepStart(client: Client, runId: string, stepId: string): Promise<number> {
  const state = await client.workflow.getHandle(runId).query(runStateQuery);
  return Date.parse(state.steps.find((s) => s.id === stepId)!.startedAt!);
}

let serial = 0;

interface Path {
  /** Make what event i needs (a waiting run), before any timing. */
  prepare(count: number): Promise<void>;
  eventFor(i: number): Record<string, unknown>;
  runFor(i: number): string;
  stepId: string;
}

async function measure(stack: Stack, path: Path, o: EventPathOptions): Promise<EventPathResult> {
  const { client, service } = stack;
  const total = o.warmup + o.sequential + o.sustained;
  await path.prepare(total);
  const postedAt = new Array<number>(total);
  const deliver = async (i: number) => {
    postedAt[i] = Date.now();
    await service.postEvent(path.eventFor(i));
    await finished(client, path.runFor(i));
  };
  for (let i = 0; i < o.warmup; i++) await deliver(i);
  const sequential: number[] = [];
  for (let i = o.warmup; i < o.warmup + o.sequential; i++) await deliver(i);
  for (let i = o.warmup; i < o.warmup + o.sequential; i++) sequential.push((await stepStart(client, path.runFor(i), path.stepId)) - postedAt[i]);

  const first = o.warmup + o.sequential;
  const slice = Math.ceil(o.sustained / o.reps);
  const rates: number[] = [];
  for (let from = first; from < total; from += slice) {
    const count = Math.min(slice, total - from);
    const t0 = performance.now();
    await pool(count, o.concurrency, (k) => deliver(from + k));
    rates.push(count / ((performance.now() - t0) / 1000));
  }
  const sustained: number[] = [];
  await pool(o.sustained, 16, async (k) => {
    sustained.push((await stepStart(client, path.runFor(first + k), path.stepId)) - postedAt[first + k]);
  });
  return { sequentialMs: distribution(sequential), sustainedMs: distribution(sustained), eventsPerSecond: spread(rates) };
}

/** (a) An event starts a run: latency to its first step. */
export async function eventTriggerSection(stack: Stack, o: EventPathOptions): Promise<EventPathResult> {
  const workflowId = 'bench_event_trigger';
  await stack.service.publish(workflowId, {
    trigger: { type: 'event', event: 'bench.triggered' },
    steps: [{ id: 'first', type: 'action', action: 'set_variables', params: { variables: { seen: { $cel: 'trigger.event.id' } } } }],
  });
  const prefix = `evt_t_${Date.now().toString(36)}_${serial++}`;
  return measure(
    stack,
    {
      prepare: async () => undefined,
      eventFor: (i) => ({ id: `${prefix}_${i}`, type: 'bench.triggered', objectType: 'case', objectId: `case_t_${i}` }),
      runFor: (i) => eventRunId(`${prefix}_${i}`, workflowId),
      stepId: 'first',
    },
    o,
  );
}

/** Start `count` runs that wait on their own case, and wait until every one has subscribed. */
export async function parkWaitingRuns(service: Service, workflowId: string, count: number, caseId: (i: number) => string, concurrency = 16): Promise<string[]> {
  const runIds: string[] = new Array(count);
  const before = await service.count(`SELECT count(*) AS n FROM wait_subscriptions`);
  await pool(count, concurrency, async (i) => {
    runIds[i] = String((await service.post(`/v1/workflows/${workflowId}/runs`, { caseId: caseId(i) })).runId);
  });
  while ((await service.count(`SELECT count(*) AS n FROM wait_subscriptions`)) < before + count) await sleep(50);
  return runIds;
}

export const WAITING_DEFINITION = {
  trigger: { type: 'api', inputSchema: { type: 'object', required: ['caseId'], properties: { caseId: { type: 'string' } } } },
  steps: [
    { id: 'await_case', type: 'wait_for_event', events: ['case.resolved'], object: 'trigger.caseId', timeout: '1h', next: 'after' },
    { id: 'after', type: 'action', action: 'set_variables', params: { variables: { done: true } } },
  ],
};

/** (b) An event wakes a waiting run: latency to the step after the wait. */
export async function eventWakeSection(stack: Stack, o: EventPathOptions): Promise<EventPathResult> {
  const workflowId = 'bench_event_wait';
  await stack.service.publish(workflowId, WAITING_DEFINITION);
  const prefix = `w${Date.now().toString(36)}_${serial++}`;
  let runIds: string[] = [];
  return measure(
    stack,
    {
      prepare: async (count) => {
        runIds = await parkWaitingRuns(stack.service, workflowId, count, (i) => `case_${prefix}_${i}`);
      },
      eventFor: (i) => ({ id: `evt_${prefix}_${i}`, type: 'case.resolved', objectType: 'case', objectId: `case_${prefix}_${i}` }),
      runFor: (i) => runIds[i],
      stepId: 'after',
    },
    o,
  );
}

export interface PacedOptions {
  /** Events per second, posted open-loop (not waiting for the runs). */
  rate: number;
  events: number;
  /** Runs still waiting when the last event is posted. */
  waiting: number;
}

export interface PacedResult {
  options: PacedOptions;
  /** POST -> the waiting run's next step. */
  wakeMs: Distribution;
  /** The router alone: event stored -> its signals answered. */
  routerMs: Distribution;
  /** The rate actually achieved. */
  postedPerSecond: number;
}

/**
 * (c) The issue-12 load: `rate` events/s, open-loop, each waking one of
 * `events + waiting` parked runs (so at least `waiting` runs wait
 * throughout); latency from the POST to the woken run's next step, and the
 * router's own store -> signal time.
 */
export async function eventPacedSection(stack: Stack, o: PacedOptions): Promise<PacedResult> {
  const workflowId = 'bench_event_paced';
  await stack.service.publish(workflowId, WAITING_DEFINITION);
  const prefix = `p${Date.now().toString(36)}_${serial++}`;
  const total = o.events + o.waiting;
  const runIds = await parkWaitingRuns(stack.service, workflowId, total, (i) => `case_${prefix}_${i}`);
  await stack.service.routerLatency(true);
  const postedAt: number[] = new Array(o.events);
  const posts: Promise<void>[] = [];
  const t0 = Date.now();
  for (let i = 0; i < o.events; i++) {
    const due = t0 + (i * 1000) / o.rate;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    postedAt[i] = Date.now();
    posts.push(stack.service.postEvent({ id: `evt_${prefix}_${i}`, type: 'case.resolved', objectType: 'case', objectId: `case_${prefix}_${i}` }));
  }
  await Promise.all(posts);
  const postedPerSecond = o.events / ((Date.now() - t0) / 1000);
  await pool(o.events, 16, (i) => finished(stack.client, runIds[i]));
  const wake: number[] = [];
  await pool(o.events, 16, async (i) => {
    wake.push((await stepStart(stack.client, runIds[i], 'after')) - postedAt[i]);
  });
  const router = await stack.service.routerLatency(true);
  // The runs left waiting are woken now, so the next section starts clean.
  await pool(o.waiting, 16, (k) => stack.service.postEvent({ id: `evt_${prefix}_${o.events + k}`, type: 'case.resolved', objectType: 'case', objectId: `case_${prefix}_${o.events + k}` }));
  return { options: o, wakeMs: distribution(wake), routerMs: distribution(router), postedPerSecond };
}
