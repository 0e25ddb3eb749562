/**
 * What we keep about schedules beside Temporal: whether an operator paused a
 * workflow's schedule (so the pause survives publishing a new version and a
 * schedule recreated after it went missing), and when a workflow was
 * archived. Everything else about a schedule lives in Temporal.
 */
import type { Db } from '../store/db';

export interface PauseState {
  paused: boolean;
  note: string | null;
}

export class ScheduleStore {
  constructor(private readonly db: Db) {}

  async pauseState(workflowId: string): Promise<PauseState> {
    const { rows } = await this.db.query<{ paused: boolean; note: string | null }>('SELECT paused, note FROM workflow_schedules WHERE workflow_id = $1', [workflowId]);
    return rows[0] ? { paused: rows[0].paused, note: rows[0].note } : { paused: false, note: null };
  }

  async setPaused(workflowId: string, state: PauseState): Promise<void> {
    await this.db.query(
      `INSERT INTO workflow_schedules (workflow_id, paused, note) VALUES ($1, $2, $3)
       ON CONFLICT (workflow_id) DO UPDATE SET paused = EXCLUDED.paused, note = EXCLUDED.note, updated_at = now()`,
      [workflowId, state.paused, state.note],
    );
  }

  /**
   * Archive: the workflow has no live version any more, so no trigger (API,
   * event, schedule) starts it; its draft and versions stay, runs in flight
   * go on. Returns when it was archived, or undefined when there is no such workflow.
   */
  async archive(workflowId: string): Promise<string | undefined> {
    const { rows } = await this.db.query<{ archived_at: Date | string }>(
      `UPDATE workflows SET live_version = NULL, archived_at = COALESCE(archived_at, now()), updated_at = now() WHERE id = $1 RETURNING archived_at`,
      [workflowId],
    );
    return rows[0] ? new Date(rows[0].archived_at).toISOString() : undefined;
  }

  /** Publishing an archived workflow brings it back. */
  async clearArchived(workflowId: string): Promise<void> {
    await this.db.query('UPDATE workflows SET archived_at = NULL WHERE id = $1 AND archived_at IS NOT NULL AND live_version IS NOT NULL', [workflowId]);
  }

  async archivedAt(workflowId: string): Promise<string | null> {
    const { rows } = await this.db.query<{ archived_at: Date | string | null }>('SELECT archived_at FROM workflows WHERE id = $1', [workflowId]);
    return rows[0]?.archived_at ? new Date(rows[0].archived_at).toISOString() : null;
  }
}
