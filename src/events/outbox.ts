/**
 * Writing events. An object change calls emitEvent inside the same
 * transaction as the change, so a change without its event (or an event
 * without its change) cannot happen. After commit, the router dispatches it.
 */
import { ulid } from 'ulid';
import type { RunEvent } from '../interpreter';
import type { Queryable } from '../store/db';

export interface NewEvent {
  /** Given by upstream senders; generated for our own changes. */
  id?: string;
  type: string;
  objectType?: string;
  objectId?: string;
  /** The object as it is after the change. */
  snapshot?: unknown;
  /** Anything else about the change (e.g. the tag added, the resolution). */
  data?: Record<string, unknown>;
  source?: 'internal' | 'upstream';
  occurredAt?: string;
}

export interface StoredEvent {
  id: string;
  seq: number;
  /**
   * The event's place in commit order (taken when its transaction commits;
   * null only inside that transaction). Waits and run cursors use it.
   */
  position: number | null;
  type: string;
  objectType: string | null;
  objectId: string | null;
  snapshot: unknown;
  data: Record<string, unknown>;
  source: string;
  occurredAt: string;
  createdAt: string;
  dispatchedAt: string | null;
}

export interface EventRow {
  id: string;
  seq: string | number;
  pos: string | number | null;
  type: string;
  object_type: string | null;
  object_id: string | null;
  snapshot: unknown;
  data: Record<string, unknown>;
  source: string;
  occurred_at: Date | string;
  created_at: Date | string;
  dispatched_at: Date | string | null;
}

const iso = (v: Date | string): string => (v instanceof Date ? v.toISOString() : new Date(v).toISOString());

export function toStoredEvent(row: EventRow): StoredEvent {
  return {
    id: row.id,
    seq: Number(row.seq),
    position: row.pos === null || row.pos === undefined ? null : Number(row.pos),
    type: row.type,
    objectType: row.object_type,
    objectId: row.object_id,
    snapshot: row.snapshot,
    data: row.data ?? {},
    source: row.source,
    occurredAt: iso(row.occurred_at),
    createdAt: iso(row.created_at),
    dispatchedAt: row.dispatched_at === null ? null : iso(row.dispatched_at),
  };
}

export function newEventId(): string {
  return `evt_${ulid().toLowerCase()}`;
}

export const EVENTS_CHANNEL = 'idw_events';

/**
 * Insert an event in the caller's transaction. Returns undefined when an
 * event with this id exists already (a redelivery: accepted and ignored).
 */
export async function emitEvent(tx: Queryable, event: NewEvent): Promise<StoredEvent | undefined> {
  const { rows } = await tx.query<EventRow>(
    `INSERT INTO events (id, type, object_type, object_id, snapshot, data, source, occurred_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, COALESCE($8::timestamptz, now()))
     ON CONFLICT (id) DO NOTHING
     RETURNING *`,
    [
      event.id ?? newEventId(),
      event.type,
      event.objectType ?? null,
      event.objectId ?? null,
      event.snapshot === undefined ? null : JSON.stringify(event.snapshot),
      JSON.stringify(event.data ?? {}),
      event.source ?? 'internal',
      event.occurredAt ?? null,
    ],
  );
  if (rows.length === 0) return undefined;
  // Wakes routers in other processes; delivered only if the transaction commits.
  await tx.query(`SELECT pg_notify('${EVENTS_CHANNEL}', $1)`, [rows[0].id]);
  return toStoredEvent(rows[0]);
}

/** An event as a run sees it (the wait's output, the trigger's payload). */
export function toRunEvent(event: StoredEvent): RunEvent {
  return {
    id: event.id,
    type: event.type,
    objectId: event.objectId ?? undefined,
    objectType: event.objectType ?? undefined,
    data: event.data,
    object: event.snapshot ?? undefined,
    occurredAt: event.occurredAt,
    ...(event.position !== null ? { position: event.position } : {}),
  };
}

/**
 * The event log's high-water mark: every event with a position up to it is
 * committed and visible, and every event committed later gets a higher one
 * (positions are taken in commit order). A wait with `since: wait_start`
 * counts only events after it.
 */
export async function eventHighWater(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ pos: string | number | null }>('SELECT max(pos) AS pos FROM events');
  return rows[0]?.pos === null || rows[0]?.pos === undefined ? 0 : Number(rows[0].pos);
}

/**
 * Where a new run's waits start counting: the log's delivered horizon, the
 * highest position up to which the router has delivered every event (never
 * above the high-water mark). Events above it count for the run: those
 * recorded after it began, and those recorded just before and still being
 * routed, so an event posted in the same instant as the run's start, even
 * to another API process, is the run's to see. What the router had already
 * delivered before the run began never counts. Positions are in commit
 * order, so nothing below the horizon can appear later.
 */
export async function eventRunStartCursor(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ pos: string | number | null }>(
    `SELECT COALESCE((SELECT min(pos) - 1 FROM events WHERE dispatched_at IS NULL), (SELECT max(pos) FROM events), 0) AS pos`,
  );
  return rows[0]?.pos === null || rows[0]?.pos === undefined ? 0 : Number(rows[0].pos);
}
