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
 * a slow poll as a safety net.
 */
import { createHash } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { RunEvent } from '../interpreter';
import type { RunService } from '../runs/run-service';
import { pickVersion } from '../runs/version-picker';
import type { Db } from '../store/db';
import { WakeLoop } from '../store/wake-loop';
import { WorkflowStore, type VersionRecord } from '../store/workflow-store';
import { deliverEventSignal } from '../workflows/run-contract';
import { EVENTS_CHANNEL, toRunEvent, toStoredEvent, type EventRow, type StoredEvent } from './outbox';
import { triggerFilterMatches } from './trigger-filter';

export interface RouterOptions {
  db: Db;
  runs: RunService;
  client: Client;
  log?: (line: string) => void;
  batchSize?: number;
  pollMs?: number;
  claimSeconds?: number;
}

export interface DispatchReport {
  event: string;
  started: string[];
  signalled: string[];
}

/** The run id an event starts for a workflow: the same every time. */
export function eventRunId(eventId: string, workflowId: string): string {
  return `run_e${createHash('sha256').update(`${eventId}\n${workflowId}`).digest('hex').slice(0, 32)}`;
}

export class EventRouter {
  private readonly log: (line: string) => void;
  private readonly loop: WakeLoop;
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

  /** Dispatch every undispatched event; returns how many were done. */
  async dispatchPending(): Promise<number> {
    let total = 0;
    for (;;) {
      const batch = await this.claim();
      if (batch.length === 0) return total;
      for (let i = 0; i < batch.length; i++) {
        try {
          await this.dispatch(batch[i]);
          total++;
        } catch (err) {
          // Hand the rest back at once rather than waiting for the claim to lapse.
          const rest = batch.slice(i).map((e) => e.id);
          await this.options.db.query('UPDATE events SET claimed_until = NULL WHERE id = ANY($1::text[])', [rest]);
          throw err;
        }
      }
    }
  }

  private async claim(): Promise<StoredEvent[]> {
    const { rows } = await this.options.db.query<EventRow>(
      `UPDATE events SET claimed_until = now() + make_interval(secs => $2)
       WHERE seq IN (
         SELECT seq FROM events
         WHERE dispatched_at IS NULL AND (claimed_until IS NULL OR claimed_until < now())
         ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [this.options.batchSize ?? 100, this.options.claimSeconds ?? 30],
    );
    return rows.map(toStoredEvent).sort((a, b) => a.seq - b.seq);
  }

  private async dispatch(event: StoredEvent): Promise<void> {
    const runEvent = toRunEvent(event);
    const started: string[] = [];
    for (const routing of await new WorkflowStore(this.options.db).routingsForEvent(event.type)) {
      // The event id picks the version (a rollout's share, else the live one): a redelivery picks the same.
      const { version, via } = pickVersion(routing, event.id);
      const trigger = version.definition.trigger;
      if (trigger.type !== 'event' || trigger.event !== event.type) continue;
      if (!this.filterMatches(version, runEvent)) continue;
      const runId = eventRunId(event.id, version.workflowId);
      try {
        await this.options.runs.start(version, { type: 'event', payload: { event: runEvent, object: runEvent.object ?? null } }, runId, { via });
        started.push(runId);
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
    }
    const signalled: string[] = [];
    // A subscription with no object waits for the type on any object.
    const { rows } = await this.options.db.query<{ run_id: string }>(
      `SELECT DISTINCT run_id FROM wait_subscriptions
       WHERE (object_id = $1 OR object_id IS NULL) AND $2 = ANY(event_types)
       ORDER BY run_id`,
      [event.objectId, event.type],
    );
    for (const { run_id: runId } of rows) {
      try {
        await this.options.client.workflow.getHandle(runId).signal(deliverEventSignal, runEvent);
        signalled.push(runId);
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
        // The run has finished: its subscriptions are stale.
        await this.options.db.query('DELETE FROM wait_subscriptions WHERE run_id = $1', [runId]);
      }
    }
    await this.options.db.query('UPDATE events SET dispatched_at = now(), claimed_until = NULL WHERE id = $1', [event.id]);
    this.onDispatched?.({ event: event.id, started, signalled });
  }

  private filterMatches(version: VersionRecord, event: RunEvent): boolean {
    return triggerFilterMatches({ db: this.options.db, log: this.log }, version, event);
  }
}
