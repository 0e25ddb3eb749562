/**
 * The internal activities behind waits on objects, and why they are race-free.
 *
 * registerWait first commits the run's subscription (object id + event
 * types), and only then reads the events already stored for that object
 * since the wait began. An event committed before that read is returned by
 * it; one committed after it is dispatched by the router after its commit,
 * when the subscription is already visible, so the router signals the run.
 * Either way the run gets it; when both happen, the run drops the second
 * copy by event id. The look-back starts a little before the wait began
 * (clock skew between Temporal and PostgreSQL), which can only add events,
 * never lose one.
 */
import type { RunEvent } from '../interpreter';
import { toRunEvent, toStoredEvent, type EventRow } from '../events/outbox';
import type { Db } from '../store/db';
import type { WaitRegistration } from '../workflows/run-contract';

const LOOK_BACK_SECONDS = 2;

export function createWaitActivities(deps: { db: Db }) {
  return {
    async registerWait(registration: WaitRegistration): Promise<RunEvent[]> {
      await deps.db.query(
        `INSERT INTO wait_subscriptions (run_id, wait_key, object_id, event_types) VALUES ($1, $2, $3, $4)
         ON CONFLICT (run_id, wait_key) DO UPDATE SET object_id = EXCLUDED.object_id, event_types = EXCLUDED.event_types`,
        [registration.runId, registration.waitKey, registration.objectId, registration.eventTypes],
      );
      const { rows } = await deps.db.query<EventRow>(
        `SELECT * FROM events
         WHERE ($1::text IS NULL OR object_id = $1) AND type = ANY($2::text[])
           AND created_at >= $3::timestamptz - make_interval(secs => $4)
         ORDER BY seq LIMIT 50`,
        [registration.objectId, registration.eventTypes, registration.notBefore, LOOK_BACK_SECONDS],
      );
      return rows.map((row) => toRunEvent(toStoredEvent(row)));
    },
    async unregisterWait(request: { runId: string; waitKey: string }): Promise<void> {
      await deps.db.query('DELETE FROM wait_subscriptions WHERE run_id = $1 AND wait_key = $2', [request.runId, request.waitKey]);
    },
  };
}
