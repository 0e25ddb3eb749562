/**
 * The audit log: who did what to which target, when. Append-only: the
 * table refuses UPDATE, DELETE and TRUNCATE (migration 12), so an entry,
 * once written, stays as written. Entries carry ids and field names, never
 * the personal data itself.
 */
import { z } from 'zod';
import type { Queryable } from '../store/db';

export interface AuditActor {
  kind: string;
  id: string;
  label: string;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: AuditActor;
  action: string;
  target: string | null;
  details: Record<string, unknown>;
}

export const auditQuery = z.strictObject({
  /** An actor's id (key_..., usr_...) or label (a user's e-mail, a key's name). */
  actor: z.string().min(1).max(320).optional(),
  /** An action, or a family of them: `run.cancelled`, `run.*`. */
  action: z
    .string()
    .regex(/^[a-z_]+(\.[a-z_]+)*(\.\*)?$/, 'an action like "run.cancelled" or a family like "run.*"')
    .optional(),
  target: z.string().min(1).max(300).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  /** Older than this entry id: the next page. */
  before: z.coerce.number().int().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
export type AuditQuery = z.output<typeof auditQuery>;

type Row = Record<string, unknown>;
const present = (r: Row): AuditEntry => ({
  id: Number(r.id),
  at: new Date(r.at as string).toISOString(),
  actor: { kind: String(r.actor_kind), id: String(r.actor_id), label: String(r.actor_label) },
  action: String(r.action),
  target: (r.target as string | null) ?? null,
  details: (r.details ?? {}) as Record<string, unknown>,
});

export class AuditLog {
  constructor(private readonly db: Queryable) {}

  async record(entry: { actor: AuditActor; action: string; target?: string | null; details?: Record<string, unknown> }): Promise<void> {
    await this.db.query('INSERT INTO audit_log (actor_kind, actor_id, actor_label, action, target, details) VALUES ($1, $2, $3, $4, $5, $6)', [
      entry.actor.kind,
      entry.actor.id,
      entry.actor.label,
      entry.action,
      entry.target ?? null,
      JSON.stringify(entry.details ?? {}),
    ]);
  }

  /** Newest first. */
  async list(q: AuditQuery): Promise<AuditEntry[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (q.actor) {
      params.push(q.actor);
      where.push(`(actor_id = $${params.length} OR actor_label = $${params.length})`);
    }
    if (q.action?.endsWith('.*')) add(`starts_with(action, ?)`, q.action.slice(0, -1));
    else if (q.action) add('action = ?', q.action);
    if (q.target) add('target = ?', q.target);
    if (q.since) add('at >= ?', q.since);
    if (q.before) add('id < ?', q.before);
    params.push(q.limit);
    const { rows } = await this.db.query(
      `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(present);
  }
}
