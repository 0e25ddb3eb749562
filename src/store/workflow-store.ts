/**
 * Workflow definitions: drafts (editable) and published versions (numbered,
 * immutable), the one live version, and a percentage rollout of another
 * version beside it. A run is pinned to the version it started with, so
 * publishing, rolling back or rolling out never changes a run in flight.
 * Every change of what is live is logged (workflow_version_changes).
 */
import { ulid } from 'ulid';
import type { Definition } from '../interpreter';
import type { Db, Queryable } from './db';

export interface WorkflowRecord {
  id: string;
  name: string;
  description: string;
  draft: unknown;
  draftRevision: number;
  liveVersion: number | null;
  /** A version taking `percent` % of new runs beside the live one. */
  rollout: { version: number; percent: number; startedAt: string } | null;
  createdAt: string;
  updatedAt: string;
}

export interface VersionRecord {
  workflowId: string;
  version: number;
  definition: Definition;
  publishedAt: string;
}

interface WorkflowRow {
  id: string;
  name: string;
  description: string;
  draft: unknown;
  draft_revision: number;
  live_version: number | null;
  rollout_version?: number | null;
  rollout_percent?: string | number | null;
  rollout_started_at?: Date | string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

interface VersionRow {
  workflow_id: string;
  version: number;
  definition: Definition;
  published_at: Date | string;
}

const iso = (v: Date | string): string => (v instanceof Date ? v.toISOString() : new Date(v).toISOString());

function toWorkflow(row: WorkflowRow): WorkflowRecord {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    draft: row.draft,
    draftRevision: Number(row.draft_revision),
    liveVersion: row.live_version === null ? null : Number(row.live_version),
    rollout:
      row.rollout_version === null || row.rollout_version === undefined
        ? null
        : { version: Number(row.rollout_version), percent: Number(row.rollout_percent), startedAt: iso(row.rollout_started_at!) },
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

function toVersion(row: VersionRow): VersionRecord {
  return { workflowId: row.workflow_id, version: Number(row.version), definition: row.definition, publishedAt: iso(row.published_at) };
}

/** Where new runs of a workflow go: the live version, and a rollout's version for its share. */
export interface VersionRouting {
  workflowId: string;
  live: VersionRecord;
  rollout?: { version: VersionRecord; percent: number };
}

export type VersionChangeKind = 'publish' | 'rollback' | 'rollout' | 'promote' | 'abort';

export interface VersionChange {
  change: VersionChangeKind;
  version: number;
  /** What was live after the change. */
  liveVersion: number | null;
  percent?: number;
  at: string;
}

/** A version change that the workflow's state does not allow (the API answers 409 with `code`). */
export class VersionConflictError extends Error {
  constructor(
    readonly code: 'not_published' | 'unknown_version' | 'already_live' | 'rollout_in_progress' | 'no_rollout',
    message: string,
  ) {
    super(message);
  }
}

export function newWorkflowId(): string {
  return `wfl_${ulid().toLowerCase()}`;
}

export class WorkflowStore {
  constructor(private readonly db: Db) {}

  async create(input: { name: string; description?: string; draft: unknown; id?: string }): Promise<WorkflowRecord> {
    const { rows } = await this.db.query<WorkflowRow>(
      `INSERT INTO workflows (id, name, description, draft) VALUES ($1, $2, $3, $4) RETURNING *`,
      [input.id ?? newWorkflowId(), input.name, input.description ?? '', JSON.stringify(input.draft)],
    );
    return toWorkflow(rows[0]);
  }

  async get(id: string): Promise<WorkflowRecord | undefined> {
    const { rows } = await this.db.query<WorkflowRow>('SELECT * FROM workflows WHERE id = $1', [id]);
    return rows[0] ? toWorkflow(rows[0]) : undefined;
  }

  async list(): Promise<WorkflowRecord[]> {
    const { rows } = await this.db.query<WorkflowRow>('SELECT * FROM workflows ORDER BY created_at DESC, id DESC');
    return rows.map(toWorkflow);
  }

  async exists(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const { rows } = await this.db.query<{ id: string }>('SELECT id FROM workflows WHERE id = ANY($1::text[])', [ids]);
    return new Set(rows.map((r) => r.id));
  }

  async updateDraft(id: string, patch: { name?: string; description?: string; draft?: unknown }): Promise<WorkflowRecord | undefined> {
    const { rows } = await this.db.query<WorkflowRow>(
      `UPDATE workflows SET
         name = COALESCE($2, name),
         description = COALESCE($3, description),
         draft = COALESCE($4::jsonb, draft),
         draft_revision = draft_revision + CASE WHEN $4::jsonb IS NULL THEN 0 ELSE 1 END,
         updated_at = now()
       WHERE id = $1 RETURNING *`,
      [id, patch.name ?? null, patch.description ?? null, patch.draft === undefined ? null : JSON.stringify(patch.draft)],
    );
    return rows[0] ? toWorkflow(rows[0]) : undefined;
  }

  /**
   * Freeze a validated definition as the next version, atomically; make it
   * live unless `live` is false (then it waits for a rollout or a rollback
   * to it). Making a version live while a rollout runs is refused: promote
   * or abort the rollout first.
   */
  async publish(id: string, definition: Definition, options: { live?: boolean } = {}): Promise<VersionRecord> {
    const live = options.live ?? true;
    return this.db.transaction(async (tx) => {
      const locked = await tx.query<WorkflowRow>('SELECT * FROM workflows WHERE id = $1 FOR UPDATE', [id]);
      if (locked.rows.length === 0) throw new Error(`no workflow ${id}`);
      const current = toWorkflow(locked.rows[0]);
      if (live && current.rollout) {
        throw new VersionConflictError(
          'rollout_in_progress',
          `version ${current.rollout.version} is rolling out to ${current.rollout.percent}% of runs; promote or abort it before making another version live`,
        );
      }
      const { rows } = await tx.query<VersionRow>(
        `INSERT INTO workflow_versions (workflow_id, version, definition)
         SELECT $1, COALESCE(MAX(version), 0) + 1, $2 FROM workflow_versions WHERE workflow_id = $1
         RETURNING *`,
        [id, JSON.stringify(definition)],
      );
      const version = Number(rows[0].version);
      if (live) await tx.query('UPDATE workflows SET live_version = $2, updated_at = now() WHERE id = $1', [id, version]);
      await logChange(tx, id, 'publish', version, live ? version : current.liveVersion);
      return toVersion(rows[0]);
    });
  }

  /** Make an earlier (or any other published) version live again; a rollout in progress ends. */
  async rollback(id: string, version: number): Promise<WorkflowRecord> {
    return this.change(id, async (tx, current) => {
      await this.requireVersion(tx, id, version);
      if (current.liveVersion === version && !current.rollout) throw new VersionConflictError('already_live', `version ${version} is already live`);
      await logChange(tx, id, 'rollback', version, version);
      return tx.query<WorkflowRow>(
        `UPDATE workflows SET live_version = $2, rollout_version = NULL, rollout_percent = NULL, rollout_started_at = NULL, updated_at = now()
         WHERE id = $1 RETURNING *`,
        [id, version],
      );
    });
  }

  /**
   * Send `percent` % of new runs to `version`, the rest to the live version.
   * Calling it again for the same version changes the share (its start time
   * stays); for another version it replaces the rollout.
   */
  async startRollout(id: string, version: number, percent: number): Promise<WorkflowRecord> {
    return this.change(id, async (tx, current) => {
      if (current.liveVersion === null) throw new VersionConflictError('not_published', `workflow "${id}" has no live version to roll out beside; publish one first`);
      await this.requireVersion(tx, id, version);
      if (current.liveVersion === version) throw new VersionConflictError('already_live', `version ${version} is already live`);
      await logChange(tx, id, 'rollout', version, current.liveVersion, percent);
      return tx.query<WorkflowRow>(
        `UPDATE workflows SET rollout_version = $2, rollout_percent = $3,
           rollout_started_at = CASE WHEN rollout_version = $2 THEN rollout_started_at ELSE now() END, updated_at = now()
         WHERE id = $1 RETURNING *`,
        [id, version, percent],
      );
    });
  }

  /** The rollout's version becomes live for every new run. */
  async promoteRollout(id: string): Promise<WorkflowRecord> {
    return this.change(id, async (tx, current) => {
      if (!current.rollout) throw new VersionConflictError('no_rollout', `workflow "${id}" has no rollout in progress`);
      await logChange(tx, id, 'promote', current.rollout.version, current.rollout.version);
      return tx.query<WorkflowRow>(
        `UPDATE workflows SET live_version = rollout_version, rollout_version = NULL, rollout_percent = NULL, rollout_started_at = NULL, updated_at = now()
         WHERE id = $1 RETURNING *`,
        [id],
      );
    });
  }

  /** Every new run goes to the live version again; runs already on the rollout's version go on there. */
  async abortRollout(id: string): Promise<WorkflowRecord> {
    return this.change(id, async (tx, current) => {
      if (!current.rollout) throw new VersionConflictError('no_rollout', `workflow "${id}" has no rollout in progress`);
      await logChange(tx, id, 'abort', current.rollout.version, current.liveVersion);
      return tx.query<WorkflowRow>(
        `UPDATE workflows SET rollout_version = NULL, rollout_percent = NULL, rollout_started_at = NULL, updated_at = now() WHERE id = $1 RETURNING *`,
        [id],
      );
    });
  }

  /** What was made live or rolled out, oldest first. */
  async changes(id: string): Promise<VersionChange[]> {
    const { rows } = await this.db.query<{ change: VersionChangeKind; version: number; live_version: number | null; percent: string | null; created_at: Date | string }>(
      'SELECT change, version, live_version, percent, created_at FROM workflow_version_changes WHERE workflow_id = $1 ORDER BY seq',
      [id],
    );
    return rows.map((r) => ({
      change: r.change,
      version: Number(r.version),
      liveVersion: r.live_version === null ? null : Number(r.live_version),
      ...(r.percent === null ? {} : { percent: Number(r.percent) }),
      at: iso(r.created_at),
    }));
  }

  /** The live version and any rollout beside it; undefined when nothing is live. */
  async routing(id: string): Promise<VersionRouting | undefined> {
    return (await this.routings({ workflowId: id }))[0];
  }

  /**
   * The routings of every workflow whose live or rolling-out version has an
   * event trigger for `eventType` (each version's own trigger decides
   * whether the event starts it, once the version is picked).
   */
  async routingsForEvent(eventType: string): Promise<VersionRouting[]> {
    return this.routings({ eventType });
  }

  private async routings(filter: { workflowId?: string; eventType?: string }): Promise<VersionRouting[]> {
    const { rows } = await this.db.query<{
      id: string;
      rollout_percent: string | null;
      live: VersionRow;
      rollout: VersionRow | null;
    }>(
      `SELECT w.id, w.rollout_percent, to_jsonb(l) AS live, to_jsonb(r) AS rollout
       FROM workflows w
       JOIN workflow_versions l ON l.workflow_id = w.id AND l.version = w.live_version
       LEFT JOIN workflow_versions r ON r.workflow_id = w.id AND r.version = w.rollout_version
       WHERE ($1::text IS NULL OR w.id = $1)
         AND ($2::text IS NULL OR EXISTS (
           SELECT 1 FROM workflow_versions v
           WHERE v.workflow_id = w.id AND v.version IN (w.live_version, w.rollout_version)
             AND v.definition->'trigger'->>'type' = 'event' AND v.definition->'trigger'->>'event' = $2))
       ORDER BY w.id`,
      [filter.workflowId ?? null, filter.eventType ?? null],
    );
    return rows.map((r) => ({
      workflowId: r.id,
      live: toVersion(r.live),
      ...(r.rollout ? { rollout: { version: toVersion(r.rollout), percent: Number(r.rollout_percent) } } : {}),
    }));
  }

  private async change(id: string, apply: (tx: Queryable, current: WorkflowRecord) => Promise<{ rows: WorkflowRow[] }>): Promise<WorkflowRecord> {
    return this.db.transaction(async (tx) => {
      const locked = await tx.query<WorkflowRow>('SELECT * FROM workflows WHERE id = $1 FOR UPDATE', [id]);
      if (locked.rows.length === 0) throw new Error(`no workflow ${id}`);
      const { rows } = await apply(tx, toWorkflow(locked.rows[0]));
      return toWorkflow(rows[0]);
    });
  }

  private async requireVersion(tx: Queryable, id: string, version: number): Promise<void> {
    const { rows } = await tx.query('SELECT 1 FROM workflow_versions WHERE workflow_id = $1 AND version = $2', [id, version]);
    if (rows.length === 0) throw new VersionConflictError('unknown_version', `workflow "${id}" has no published version ${version}`);
  }

  async versions(id: string): Promise<VersionRecord[]> {
    const { rows } = await this.db.query<VersionRow>('SELECT * FROM workflow_versions WHERE workflow_id = $1 ORDER BY version DESC', [id]);
    return rows.map(toVersion);
  }

  async version(id: string, version: number): Promise<VersionRecord | undefined> {
    const { rows } = await this.db.query<VersionRow>('SELECT * FROM workflow_versions WHERE workflow_id = $1 AND version = $2', [id, version]);
    return rows[0] ? toVersion(rows[0]) : undefined;
  }

  async liveVersion(id: string): Promise<VersionRecord | undefined> {
    const { rows } = await this.db.query<VersionRow>(
      `SELECT v.* FROM workflow_versions v JOIN workflows w ON w.id = v.workflow_id AND w.live_version = v.version WHERE w.id = $1`,
      [id],
    );
    return rows[0] ? toVersion(rows[0]) : undefined;
  }
}

async function logChange(tx: Queryable, workflowId: string, change: VersionChangeKind, version: number, liveVersion: number | null, percent?: number): Promise<void> {
  await tx.query('INSERT INTO workflow_version_changes (workflow_id, change, version, live_version, percent) VALUES ($1, $2, $3, $4, $5)', [
    workflowId,
    change,
    version,
    liveVersion,
    percent ?? null,
  ]);
}
