/**
 * The router: takes each stored event, in order, to
 *   1. every published workflow whose event trigger matches (type, then the
 *      trigger's CEL filter over `event` and `object`), starting one run whose
 *      id is derived from the event id and the workflow id, so a redelivered
 *      or re-dispatched event starts nothing twice;
 *   2. every run waiting on that object for that event type (its wait
 *      subscription), as a signal; runs drop an event id they have seen.
 * Dispatch is at-least-once and each effect is idempotent, so a router that
 * dies mid-batch loses nothing: its claim lapses and another takes over.
 * It wakes on NOTIFY from the outbox, on a nudge from this process, and on
 * a slow poll as a safety net. Every API process runs one: they share the
 * events through claims in PostgreSQL, never by assuming they are alone.
 */
import { createHash } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { RunEvent } from '../interpreter';
import type { RunService } from '../runs/run-service';
import { pickVersion } from '../runs/version-picker';
import type { Db } from '../store/db';
import { WakeLoop } from '../store/wake-loop';
import { WorkflowStore, type VersionRecord, type VersionRouting } from '../store/workflow-store';
import { deliverEventSignal } from '../workflows/run-contract';
import { EVENTS_CHANNEL, toRunEvent, toStoredEvent, type EventRow, type StoredEvent } from './outbox';
import { triggerFilterMatches } from './trigger-filter';

export interface RouterOptions {
  db: Db;
  runs: RunService;
  client: Client;
  log?: (line: string) => void;
  /** Events claimed per pass (default 100). */
  batchSize?: number;
  pollMs?: number;
  claimSeconds?: number;
  /** Objects whose events are dispatched at once (each object's in order; default 8). */
  objectConcurrency?: number;
  /** Signals of one event in flight at once (default 16). */
  signalConcurrency?: number;
}

export interface DispatchReport {
  event: string;
  started: string[];
  signalled: string[];
  /** When the event was stored, and when its last signal was answered (epoch ms): the router's own latency. */
  storedAtMs: number;
  doneAtMs: number;
}

/** How often expired wait subscriptions are swept, and how long after expiry. */
const SWEEP_EVERY_MS = 60_000;
const SWEEP_GRACE = '5 minutes';

/** The run id an event starts for a workflow: the same every time. */
export function eventRunId(eventId: string, workflowId: string): string {
  return `run_e${createHash('sha256').update(`${eventId}\n${workflowId}`).digest('hex').slice(0, 32)}`;
}

/** Run fn over items with at most `limit` at once; the first error rejects (the rest still settle). */
async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const lane = async (): Promise<void> => {
    while (next < items.length && failed === undefined) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failed !== undefined) throw failed;
}

export class EventRouter {
  private readonly log: (line: string) => void;
  private readonly loop: WakeLoop;
  private lastSweepMs = 0;
  /** Called after each event is dispatched (tests and benchmarks watch it). */
  onDispatched?: (report: DispatchReport) => void;

  constructor(private readonly options: RouterOptions) {
    this.log = options.log ?? ((line) => console.log(`[router] ${line}`));
    this.loop = new WakeLoop({
      db: options.db,
      channel: EVENTS_CHANNEL,
      pollMs: options.pollMs,
      pass: () => this.dispatchPending(),
      onError: (err) => this.log(`dispatch failed, will retry: ${err.message}`),
    });
  }

  start(): Promise<void> {
    return this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Dispatch soon; calls while a pass runs make it go round once more. */
  nudge(): void {
    this.loop.nudge();
  }

  /**
   * Dispatch every undispatched event; returns how many were done. Events
   * are claimed in batches (in position order, so in commit order) with
   * SKIP LOCKED and a lease, so several routers (one per API process) share
   * the work and a router that dies mid-batch loses nothing. Within a batch
   * the events of different objects go out concurrently; one object's in
   * order.
   */
  async dispatchPending(): Promise<number> {
    let total = 0;
    await this.sweep();
    for (;;) {
      const batch = await this.claim();
      if (batch.length === 0) return total;
      const byObject = new Map<string, StoredEvent[]>();
      for (const event of batch) {
        const key = event.objectId ?? '';
        const list = byObject.get(key);
        if (list) list.push(event);
        else byObject.set(key, [event]);
      }
      const routings = new Map<string, Promise<VersionRouting[]>>();
      const routingsFor = (type: string): Promise<VersionRouting[]> => {
        let found = routings.get(type);
        if (!found) routings.set(type, (found = new WorkflowStore(this.options.db).routingsForEvent(type)));
        return found;
      };
      const undone = new Set(batch.map((e) => e.id));
      try {
        await eachLimited([...byObject.values()], this.options.objectConcurrency ?? 8, async (events) => {
          for (const event of events) {
            await this.dispatch(event, await routingsFor(event.type));
            undone.delete(event.id);
            total++;
          }
        });
      } catch (err) {
        // Hand the rest back at once rather than waiting for the claim to lapse.
        await this.options.db.query('UPDATE events SET claimed_until = NULL WHERE id = ANY($1::text[])', [[...undone]]);
        throw err;
      }
    }
  }

  private async claim(): Promise<StoredEvent[]> {
    const { rows } = await this.options.db.query<EventRow>(
      `UPDATE events SET claimed_until = now() + make_interval(secs => $2)
       WHERE id IN (
         SELECT id FROM events
         WHERE dispatched_at IS NULL AND (claimed_until IS NULL OR claimed_until < now())
         ORDER BY pos LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [this.options.batchSize ?? 100, this.options.claimSeconds ?? 30],
    );
    return rows.map(toStoredEvent).sort((a, b) => (a.position ?? a.seq) - (b.position ?? b.seq));
  }

  /** Drop subscriptions of waits whose default resolution time passed long ago (their runs went on). */
  private async sweep(): Promise<void> {
    const nowMs = Date.now();
    if (nowMs - this.lastSweepMs < SWEEP_EVERY_MS) return;
    this.lastSweepMs = nowMs;
    await this.options.db.query(`DELETE FROM wait_subscriptions WHERE expires_at < now() - interval '${SWEEP_GRACE}'`);
  }

  private async dispatch(event: StoredEvent, routings: VersionRouting[]): Promise<void> {
    const runEvent = toRunEvent(event);
    const started: string[] = [];
    for (const routing of routings) {
      // The event id picks the version (a rollout's share, else the live one): a redelivery picks the same.
      const { version, via } = pickVersion(routing, event.id);
      const trigger = version.definition.trigger;
      if (trigger.type !== 'event' || trigger.event !== event.type) continue;
      if (!this.filterMatches(version, runEvent)) continue;
      const runId = eventRunId(event.id, version.workflowId);
      try {
        // The run's waits count events after the one that started it.
        await this.options.runs.start(version, { type: 'event', payload: { event: runEvent, object: runEvent.object ?? null } }, runId, {
          via,
          eventCursor: event.position ?? undefined,
        });
        started.push(runId);
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
    }
    const signalled = await this.deliver(event, runEvent);
    await this.options.db.query('UPDATE events SET dispatched_at = now(), claimed_until = NULL WHERE id = $1', [event.id]);
    this.onDispatched?.({ event: event.id, started, signalled, storedAtMs: Date.parse(event.createdAt), doneAtMs: Date.now() });
  }

  /**
   * Signal every run waiting on the event's object for its type, whose
   * cursor is before the event. A wait's subscription is claimed for this
   * event first, and removed once the signal is in: a router that dies
   * between finds the claim again when the event is dispatched anew, and a
   * wait that subscribed again meanwhile (its claim cleared) keeps its new
   * subscription. Standing ones (flow.cancelOn) stay. A run that has ended
   * loses all its subscriptions. Runs drop an event id they have seen, so a
   * second delivery after a crash changes nothing.
   */
  private async deliver(event: StoredEvent, runEvent: RunEvent): Promise<string[]> {
    const position = event.position ?? event.seq;
    // A subscription with no object waits for the type on any object.
    const { rows } = await this.options.db.query<{ run_id: string; wait_key: string; kind: string }>(
      `UPDATE wait_subscriptions SET claimed_pos = $3
       WHERE (object_id = $1 OR object_id IS NULL) AND $2 = ANY(event_types) AND after_pos < $3
         AND (kind = 'standing' OR claimed_pos IS NULL OR claimed_pos = $3)
       RETURNING run_id, wait_key, kind`,
      [event.objectId, event.type, position],
    );
    if (rows.length === 0) return [];
    const runIds = [...new Set(rows.map((r) => r.run_id))].sort();
    const ended = new Set<string>();
    await eachLimited(runIds, this.options.signalConcurrency ?? 16, async (runId) => {
      try {
        await this.options.client.workflow.getHandle(runId).signal(deliverEventSignal, runEvent);
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
        ended.add(runId);
      }
    });
    const waits = rows.filter((r) => r.kind === 'wait' && !ended.has(r.run_id));
    if (waits.length > 0) {
      await this.options.db.query(
        `DELETE FROM wait_subscriptions s USING unnest($1::text[], $2::text[]) AS d(run_id, wait_key)
         WHERE s.run_id = d.run_id AND s.wait_key = d.wait_key AND s.claimed_pos = $3 AND s.kind = 'wait'`,
        [waits.map((r) => r.run_id), waits.map((r) => r.wait_key), position],
      );
    }
    if (ended.size > 0) {
      // The run has finished: its subscriptions are stale.
      await this.options.db.query('DELETE FROM wait_subscriptions WHERE run_id = ANY($1::text[])', [[...ended]]);
    }
    return runIds.filter((id) => !ended.has(id));
  }

  private filterMatches(version: VersionRecord, event: RunEvent): boolean {
    return triggerFilterMatches({ db: this.options.db, log: this.log }, version, event);
  }
}
