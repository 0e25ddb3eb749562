/**
 * An event trigger's CEL filter, evaluated for the router.
 *
 * The filter is an author's expression run on the API process's thread, so
 * it runs under a small CEL budget (CEL_LIMITS.triggerFilterSteps, a count
 * of work: a few milliseconds at most, the same verdict every time).
 * A filter that exceeds it, or fails otherwise, does not start a run for
 * that workflow and the event goes on to the others; the failure is
 *   - recorded in `trigger_filter_failures` (one row per event and
 *     workflow, so a redelivered event records it once),
 *   - logged, and
 *   - counted (`idw_trigger_filter_failures_total`, by workflow and reason).
 * Because the verdict is the same on every try, the event is dispatched as
 * usual and never retried for it.
 */
import { CEL_LIMITS, CelBudgetError, evaluateCel, toCel, type RunEvent } from '../interpreter';
import type { Queryable } from '../store/db';
import type { VersionRecord } from '../store/workflow-store';

export type TriggerFilterFailureReason = 'budget' | 'error';

export interface TriggerFilterFailure {
  eventId: string;
  workflowId: string;
  version: number;
  reason: TriggerFilterFailureReason;
  message: string;
  failedAt: string;
}

export interface TriggerFilterDeps {
  db: Queryable;
  log: (line: string) => void;
}

/** Failures counted in this process, by workflow and reason (read by the metrics registry at scrape time). */
const failureCounts = new Map<string, { workflow: string; reason: TriggerFilterFailureReason; count: number }>();

export function triggerFilterFailureCounts(): { workflow: string; reason: TriggerFilterFailureReason; count: number }[] {
  return [...failureCounts.values()];
}

/**
 * Does the event pass the version's trigger filter? True without a filter.
 * Synchronous (the router calls it inline); a failure is recorded in the
 * background and the answer is false.
 */
export function triggerFilterMatches(deps: TriggerFilterDeps, version: VersionRecord, event: RunEvent): boolean {
  const trigger = version.definition.trigger;
  if (trigger.type !== 'event' || !trigger.filter) return true;
  try {
    return evaluateCel(trigger.filter, { event: toCel(event), object: toCel(event.object ?? null) }, CEL_LIMITS.triggerFilterSteps) === true;
  } catch (err) {
    const reason: TriggerFilterFailureReason = err instanceof CelBudgetError ? 'budget' : 'error';
    const message = (err as Error).message;
    deps.log(`filter of ${version.workflowId} v${version.version} failed on ${event.id} (${reason}): ${message}; not started`);
    const key = `${version.workflowId}\u0000${reason}`;
    const entry = failureCounts.get(key) ?? { workflow: version.workflowId, reason, count: 0 };
    entry.count++;
    failureCounts.set(key, entry);
    void recordFailure(deps.db, { eventId: event.id, workflowId: version.workflowId, version: version.version, reason, message }).catch((recordErr: Error) =>
      deps.log(`could not record the filter failure of ${version.workflowId} on ${event.id}: ${recordErr.message}`),
    );
    return false;
  }
}

async function recordFailure(db: Queryable, failure: Omit<TriggerFilterFailure, 'failedAt'>): Promise<void> {
  await db.query(
    `INSERT INTO trigger_filter_failures (event_id, workflow_id, version, reason, message)
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id, workflow_id) DO NOTHING`,
    [failure.eventId, failure.workflowId, failure.version, failure.reason, failure.message.slice(0, 2000)],
  );
}

interface FailureRow {
  event_id: string;
  workflow_id: string;
  version: number;
  reason: TriggerFilterFailureReason;
  message: string;
  failed_at: Date | string;
}

/** The filter failures recorded for a workflow, newest first. */
export async function listTriggerFilterFailures(db: Queryable, workflowId: string, limit = 100): Promise<TriggerFilterFailure[]> {
  const { rows } = await db.query<FailureRow>(
    `SELECT event_id, workflow_id, version, reason, message, failed_at FROM trigger_filter_failures
     WHERE workflow_id = $1 ORDER BY failed_at DESC, event_id LIMIT $2`,
    [workflowId, limit],
  );
  return rows.map((r) => ({
    eventId: r.event_id,
    workflowId: r.workflow_id,
    version: Number(r.version),
    reason: r.reason,
    message: r.message,
    failedAt: new Date(r.failed_at).toISOString(),
  }));
}
