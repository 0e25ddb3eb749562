/**
 * The internal activities behind waits on objects, and why no event slips
 * between them and the router.
 *
 * registerWait first commits the run's subscription (object id, event types
 * and the run's cursor for the object), and only then reads the stored
 * events after that cursor. Event positions are taken in commit order (see
 * migration 15), so an event is either visible to that read, or committed
 * after it, and then dispatched by the router after its commit, when the
 * subscription is already visible. Either way the run gets it; when both
 * happen, the run drops the second copy by event id.
 *
 * The router removes a `wait` subscription as it delivers to it, so a wait
 * needs no unsubscribe step. When the read returns events, the subscription
 * is dropped here at once (the wait takes one of them, or subscribes again
 * if it passes them over). Expired subscriptions are swept by the router.
 */
import type { RunEvent } from '../interpreter';
import { eventHighWater, eventRunStartCursor, toRunEvent, toStoredEvent, type EventRow } from '../events/outbox';
import type { Db } from '../store/db';
import type { WaitRegistration, WaitSubscribed } from '../workflows/run-contract';

/** Stored events returned to one registration; the wait takes the first that matches. */
const READ_LIMIT = 50;

export function createWaitActivities(deps: { db: Db }) {
  return {
    async registerWait(registration: WaitRegistration): Promise<WaitSubscribed> {
      const after = registration.since === 'wait_start' ? Math.max(registration.afterPosition, await eventHighWater(deps.db)) : registration.afterPosition;
      await deps.db.query(
        `INSERT INTO wait_subscriptions (run_id, wait_key, object_id, event_types, after_pos, kind, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (run_id, wait_key) DO UPDATE SET object_id = EXCLUDED.object_id, event_types = EXCLUDED.event_types,
           after_pos = EXCLUDED.after_pos, kind = EXCLUDED.kind, expires_at = EXCLUDED.expires_at, claimed_pos = NULL`,
        [registration.runId, registration.waitKey, registration.objectId, registration.eventTypes, after, registration.kind, registration.expiresAt ?? null],
      );
      const { rows } = await deps.db.query<EventRow>(
        `SELECT * FROM events
         WHERE ($1::text IS NULL OR object_id = $1) AND type = ANY($2::text[]) AND pos > $3 AND NOT (id = ANY($4::text[]))
         ORDER BY pos LIMIT ${READ_LIMIT}`,
        [registration.objectId, registration.eventTypes, after, registration.passedOver],
      );
      const events: RunEvent[] = rows.map((row) => toRunEvent(toStoredEvent(row)));
      let subscribed = true;
      if (events.length > 0 && registration.kind === 'wait') {
        await deps.db.query('DELETE FROM wait_subscriptions WHERE run_id = $1 AND wait_key = $2', [registration.runId, registration.waitKey]);
        subscribed = false;
      }
      return { events, afterPosition: after, subscribed };
    },
    async unregisterWait(request: { runId: string; waitKey: string }): Promise<void> {
      await deps.db.query('DELETE FROM wait_subscriptions WHERE run_id = $1 AND wait_key = $2', [request.runId, request.waitKey]);
    },
    async eventCursor(): Promise<number> {
      return eventRunStartCursor(deps.db);
    },
  };
}
