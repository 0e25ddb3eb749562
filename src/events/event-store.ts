/** Reading events, and taking in events posted by upstream services. */
import type { Db } from '../store/db';
import { emitEvent, toStoredEvent, type EventRow, type NewEvent, type StoredEvent } from './outbox';

export interface EventFilter {
  type?: string;
  objectId?: string;
  objectType?: string;
  /** Only events after this sequence number (for paging forward). */
  afterSeq?: number;
  limit: number;
}

export class EventStore {
  constructor(private readonly db: Db) {}

  /** Store an upstream event; `duplicate` when its id was seen before (accepted and ignored). */
  async ingest(event: NewEvent & { id: string }): Promise<{ event: StoredEvent; duplicate: boolean }> {
    const stored = await this.db.transaction((tx) => emitEvent(tx, { ...event, source: 'upstream' }));
    if (stored) return { event: stored, duplicate: false };
    const existing = await this.get(event.id);
    return { event: existing!, duplicate: true };
  }

  async get(id: string): Promise<StoredEvent | undefined> {
    const { rows } = await this.db.query<EventRow>('SELECT * FROM events WHERE id = $1', [id]);
    return rows[0] ? toStoredEvent(rows[0]) : undefined;
  }

  async list(filter: EventFilter): Promise<StoredEvent[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.type) add('type = ?', filter.type);
    if (filter.objectId) add('object_id = ?', filter.objectId);
    if (filter.objectType) add('object_type = ?', filter.objectType);
    if (filter.afterSeq !== undefined) add('seq > ?', filter.afterSeq);
    params.push(filter.limit);
    const order = filter.afterSeq !== undefined ? 'ASC' : 'DESC';
    const { rows } = await this.db.query<EventRow>(
      `SELECT * FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq ${order} LIMIT $${params.length}`,
      params,
    );
    return rows.map(toStoredEvent);
  }
}
