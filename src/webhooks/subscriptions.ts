/**
 * Webhook subscriptions: a URL, the event types it wants, and a signing
 * secret. The secret is made here, returned in clear only by `create` and
 * `rotateSecret`, and otherwise kept sealed (AES-256-GCM under the
 * credentials key, bound to the subscription's id) until the dispatcher
 * signs a delivery with it.
 */
import { randomBytes } from 'node:crypto';
import { ulid } from 'ulid';
import { z } from 'zod';
import { SecretBox } from '../credentials/secret-box';
import type { Queryable } from '../store/db';

export const WEBHOOK_ID_PATTERN = /^wh_[0-9a-z]{1,64}$/;
export const WEBHOOK_SECRET_PREFIX = 'whsec_';

/**
 * What a subscription may listen to: every event (`*`), a family
 * (`inquiry.*`, `report/watchlist.*`), or one type (`case.resolved`).
 * The fan-out trigger (migration 14) matches the same three forms.
 */
export const eventPatternSchema = z
  .string()
  .max(200)
  .regex(
    /^(\*|[a-z][a-z0-9_-]*(\/[a-z0-9_-]+)?(\.[a-z0-9_-]+)*\.\*|[a-z][a-z0-9_-]*(\/[a-z0-9_-]+)?(\.[a-z0-9_-]+)+)$/,
    'must be "*", a family such as "inquiry.*", or an event type such as "inquiry.completed"',
  );

export interface WebhookSubscription {
  id: string;
  url: string;
  eventTypes: string[];
  description: string;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
}

interface Row {
  id: string;
  url: string;
  event_types: string[];
  description: string;
  enabled: boolean;
  secret_ciphertext: string;
  created_at: Date | string;
  updated_at: Date | string;
}

const iso = (v: Date | string): string => new Date(v).toISOString();

function present(row: Row): WebhookSubscription {
  return {
    id: row.id,
    url: row.url,
    eventTypes: row.event_types,
    description: row.description,
    enabled: row.enabled,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

const associated = (id: string): string => `webhook:${id}`;
const newSecret = (): string => `${WEBHOOK_SECRET_PREFIX}${randomBytes(32).toString('base64url')}`;

export class WebhookStore {
  private readonly box: SecretBox;

  constructor(
    private readonly db: Queryable,
    key: Buffer,
  ) {
    this.box = new SecretBox(key);
  }

  async create(input: { url: string; eventTypes: string[]; description?: string; enabled?: boolean }): Promise<WebhookSubscription & { secret: string }> {
    const id = `wh_${ulid().toLowerCase()}`;
    const secret = newSecret();
    const { rows } = await this.db.query<Row>(
      `INSERT INTO webhook_subscriptions (id, url, event_types, description, enabled, secret_ciphertext)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
      [id, input.url, [...new Set(input.eventTypes)], input.description ?? '', input.enabled ?? true, this.box.seal(secret, associated(id))],
    );
    return { ...present(rows[0]), secret };
  }

  async get(id: string): Promise<WebhookSubscription | undefined> {
    const { rows } = await this.db.query<Row>('SELECT * FROM webhook_subscriptions WHERE id = $1', [id]);
    return rows[0] ? present(rows[0]) : undefined;
  }

  async list(): Promise<WebhookSubscription[]> {
    const { rows } = await this.db.query<Row>('SELECT * FROM webhook_subscriptions ORDER BY created_at, id');
    return rows.map(present);
  }

  async update(id: string, patch: { url?: string; eventTypes?: string[]; description?: string; enabled?: boolean }): Promise<WebhookSubscription | undefined> {
    const { rows } = await this.db.query<Row>(
      `UPDATE webhook_subscriptions SET
         url = COALESCE($2, url),
         event_types = COALESCE($3, event_types),
         description = COALESCE($4, description),
         enabled = COALESCE($5, enabled),
         updated_at = now()
       WHERE id = $1 RETURNING *`,
      [id, patch.url ?? null, patch.eventTypes ? [...new Set(patch.eventTypes)] : null, patch.description ?? null, patch.enabled ?? null],
    );
    return rows[0] ? present(rows[0]) : undefined;
  }

  /** A new secret, returned once; deliveries signed from now on use it. */
  async rotateSecret(id: string): Promise<(WebhookSubscription & { secret: string }) | undefined> {
    const secret = newSecret();
    const { rows } = await this.db.query<Row>('UPDATE webhook_subscriptions SET secret_ciphertext = $2, updated_at = now() WHERE id = $1 RETURNING *', [
      id,
      this.box.seal(secret, associated(id)),
    ]);
    return rows[0] ? { ...present(rows[0]), secret } : undefined;
  }

  /** Deletes the subscription with its deliveries and their attempts. */
  async delete(id: string): Promise<boolean> {
    const { rows } = await this.db.query('DELETE FROM webhook_subscriptions WHERE id = $1 RETURNING id', [id]);
    return rows.length > 0;
  }

  /** The clear secret of a subscription, from the ciphertext stored with it. */
  openSecret(id: string, ciphertext: string): string {
    return this.box.open(ciphertext, associated(id));
  }
}
