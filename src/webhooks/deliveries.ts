/**
 * Reading deliveries and their attempts, and replaying one. A delivery is
 * one event for one subscriber; the fan-out trigger (migration 14) makes
 * them as events are recorded, the dispatcher works them off.
 */
import type { Queryable } from '../store/db';

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

export interface DeliveryAttempt {
  attempt: number;
  startedAt: string;
  durationMs: number;
  /** null: no answer came (refused destination, network error, timeout); see `error`. */
  responseStatus: number | null;
  responseBodyExcerpt: string | null;
  error: string | null;
}

export interface WebhookDelivery {
  id: string;
  subscriptionId: string;
  eventId: string;
  eventType: string;
  replayOf: string | null;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: string | null;
  lastResponseStatus: number | null;
  lastError: string | null;
  createdAt: string;
  completedAt: string | null;
  attemptLog: DeliveryAttempt[];
}

interface DeliveryRow {
  id: string;
  subscription_id: string;
  event_id: string;
  event_type: string;
  replay_of: string | null;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: Date | string;
  last_response_status: number | null;
  last_error: string | null;
  created_at: Date | string;
  completed_at: Date | string | null;
}

interface AttemptRow {
  delivery_id: string;
  attempt: number;
  started_at: Date | string;
  duration_ms: number;
  response_status: number | null;
  response_body_excerpt: string | null;
  error: string | null;
}

const iso = (v: Date | string | null): string | null => (v === null ? null : new Date(v).toISOString());

function present(row: DeliveryRow, attempts: AttemptRow[]): WebhookDelivery {
  return {
    id: row.id,
    subscriptionId: row.subscription_id,
    eventId: row.event_id,
    eventType: row.event_type,
    replayOf: row.replay_of,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.status === 'pending' ? iso(row.next_attempt_at) : null,
    lastResponseStatus: row.last_response_status,
    lastError: row.last_error,
    createdAt: iso(row.created_at)!,
    completedAt: iso(row.completed_at),
    attemptLog: attempts.map((a) => ({
      attempt: a.attempt,
      startedAt: iso(a.started_at)!,
      durationMs: a.duration_ms,
      responseStatus: a.response_status,
      responseBodyExcerpt: a.response_body_excerpt,
      error: a.error,
    })),
  };
}

export class DeliveryLog {
  constructor(private readonly db: Queryable) {}

  async get(id: string): Promise<WebhookDelivery | undefined> {
    const { rows } = await this.db.query<DeliveryRow>('SELECT * FROM webhook_deliveries WHERE id = $1', [id]);
    if (!rows[0]) return undefined;
    return present(rows[0], (await this.attemptsOf([id])).get(id) ?? []);
  }

  /** Newest first; `before` is the id of the last delivery of the previous page. */
  async list(subscriptionId: string, filter: { status?: DeliveryStatus; eventId?: string; limit: number; before?: string }): Promise<WebhookDelivery[]> {
    const where = ['subscription_id = $1'];
    const params: unknown[] = [subscriptionId];
    const add = (sql: string, value: unknown): void => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.status) add('status = ?', filter.status);
    if (filter.eventId) add('event_id = ?', filter.eventId);
    if (filter.before) add('(created_at, id) < (SELECT created_at, id FROM webhook_deliveries WHERE id = ?)', filter.before);
    params.push(filter.limit);
    const { rows } = await this.db.query<DeliveryRow>(
      `SELECT * FROM webhook_deliveries WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    const attempts = await this.attemptsOf(rows.map((r) => r.id));
    return rows.map((r) => present(r, attempts.get(r.id) ?? []));
  }

  /**
   * Send the delivery's event again, as a new delivery with its own
   * attempts (the original stays as it was). Undefined when there is no
   * such delivery.
   */
  async replay(id: string): Promise<WebhookDelivery | undefined> {
    const { rows } = await this.db.query<DeliveryRow>(
      `INSERT INTO webhook_deliveries (id, subscription_id, event_id, event_type, event_seq, replay_of)
       SELECT 'whd_' || md5(gen_random_uuid()::text), subscription_id, event_id, event_type, event_seq, id
       FROM webhook_deliveries WHERE id = $1
       RETURNING *`,
      [id],
    );
    if (!rows[0]) return undefined;
    await this.db.query(`SELECT pg_notify('idw_webhooks', $1)`, [rows[0].event_id]);
    return present(rows[0], []);
  }

  private async attemptsOf(ids: string[]): Promise<Map<string, AttemptRow[]>> {
    const out = new Map<string, AttemptRow[]>();
    if (ids.length === 0) return out;
    const { rows } = await this.db.query<AttemptRow>('SELECT * FROM webhook_delivery_attempts WHERE delivery_id = ANY($1::text[]) ORDER BY delivery_id, attempt', [ids]);
    for (const row of rows) {
      const list = out.get(row.delivery_id) ?? [];
      list.push(row);
      out.set(row.delivery_id, list);
    }
    return out;
  }
}
