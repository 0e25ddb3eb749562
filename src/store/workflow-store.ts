/**
 * Workflow definitions: drafts (editable) and published versions (numbered,
 * immutable). A run is pinned to the version it started with, so publishing
 * never changes a run in flight.
 */
import { ulid } from 'ulid';
import type { Definition } from '../interpreter';
import type { Db } from './db';

export interface WorkflowRecord {
  id: string;
  name: string;
  description: string;
  draft: unknown;
  draftRevision: number;
  liveVersion: number | null;
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
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

function toVersion(row: VersionRow): VersionRecord {
  return { workflowId: row.workflow_id, version: Number(row.version), definition: row.definition, publishedAt: iso(row.published_at) };
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

  /** Freeze a validated definition as the next version and make it live, atomically. */
  async publish(id: string, definition: Definition): Promise<VersionRecord> {
    return this.db.transaction(async (tx) => {
      const locked = await tx.query<{ id: string }>('SELECT id FROM workflows WHERE id = $1 FOR UPDATE', [id]);
      if (locked.rows.length === 0) throw new Error(`no workflow ${id}`);
      const { rows } = await tx.query<VersionRow>(
        `INSERT INTO workflow_versions (workflow_id, version, definition)
         SELECT $1, COALESCE(MAX(version), 0) + 1, $2 FROM workflow_versions WHERE workflow_id = $1
         RETURNING *`,
        [id, JSON.stringify(definition)],
      );
      await tx.query('UPDATE workflows SET live_version = $2, updated_at = now() WHERE id = $1', [id, rows[0].version]);
      return toVersion(rows[0]);
    });
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
