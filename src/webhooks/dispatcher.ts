/**
 * The webhook dispatcher: sends due deliveries, records every attempt, and
 * schedules retries with exponential backoff.
 *
 * Durable and shared: deliveries are rows. A dispatcher claims a batch of
 * due rows with `FOR UPDATE SKIP LOCKED` and a lease (and a claim token),
 * so several API processes work side by side without sending one delivery
 * twice, and a process that dies mid-send loses nothing: its lease lapses
 * and another dispatcher picks the rows up. Only the holder of the claim
 * token records the outcome.
 *
 * Every destination goes through the SSRF guard (src/http) at send time,
 * redirects are not followed (a 3xx is a failed attempt), and a refused
 * destination fails the delivery at once: retrying reaches the same
 * address. Anything else that is not a 2xx is retried until the schedule's
 * attempts are used up.
 *
 * It wakes on NOTIFY from the fan-out trigger and from replays, on a nudge,
 * and on a poll that also picks up retries as they fall due.
 */
import { randomBytes } from 'node:crypto';
import { HttpRequestError, RequestBlockedError } from '../http/errors';
import { sendGuarded, type TlsTrust } from '../http/guarded-request';
import type { NetworkGuard } from '../http/network-guard';
import type { Db } from '../store/db';
import { WakeLoop } from '../store/wake-loop';
import { deliveryBody, deliveryHeaders } from './payload';
import type { WebhookStore } from './subscriptions';

export const WEBHOOKS_CHANNEL = 'idw_webhooks';

export interface RetrySchedule {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** The wait after the first failed attempt. */
  initialMs: number;
  /** Each wait is the previous one times this. */
  factor: number;
  maxMs: number;
  /** Waits are shortened by up to this fraction at random, so retries of many deliveries spread out. */
  jitter: number;
}

/** 30 s, 1 min, 2 min, ... up to 1 h between attempts: ten attempts over about four hours. */
export const DEFAULT_RETRY: RetrySchedule = { maxAttempts: 10, initialMs: 30_000, factor: 2, maxMs: 3_600_000, jitter: 0.2 };

/** The wait after failed attempt number `attempt` (1 = the first). */
export function retryDelayMs(schedule: RetrySchedule, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(schedule.maxMs, schedule.initialMs * schedule.factor ** Math.max(0, attempt - 1));
  return Math.round(base * (1 - schedule.jitter * random()));
}

export interface DispatcherOptions {
  db: Db;
  store: WebhookStore;
  guard: NetworkGuard;
  trust?: TlsTrust;
  retry?: Partial<RetrySchedule>;
  /** Deadline of one attempt: connecting, sending and reading the answer. */
  timeoutMs?: number;
  batchSize?: number;
  /** Deliveries sent at once by this dispatcher. */
  concurrency?: number;
  pollMs?: number;
  /** The lease on claimed rows; far longer than an attempt may take. */
  claimSeconds?: number;
  log?: (line: string) => void;
}

export interface AttemptReport {
  deliveryId: string;
  subscriptionId: string;
  eventId: string;
  attempt: number;
  status: 'succeeded' | 'failed' | 'retrying';
  responseStatus: number | null;
}

/** How much of a subscriber's answer is kept per attempt. */
export const RESPONSE_EXCERPT_BYTES = 1024;

interface ClaimedRow {
  id: string;
  subscription_id: string;
  attempts: number;
  claim_token: string;
  url: string;
  secret_ciphertext: string;
  event_id: string;
  event_type: string;
  object_type: string | null;
  object_id: string | null;
  snapshot: unknown;
  data: Record<string, unknown> | null;
  occurred_at: Date | string;
}

export class WebhookDispatcher {
  private readonly retry: RetrySchedule;
  private readonly log: (line: string) => void;
  private readonly loop: WakeLoop;
  private abort = new AbortController();
  /** Called after each attempt is recorded (tests watch it). */
  onAttempt?: (report: AttemptReport) => void;

  constructor(private readonly options: DispatcherOptions) {
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.log = options.log ?? ((line) => console.log(`[webhooks] ${line}`));
    this.loop = new WakeLoop({
      db: options.db,
      channel: WEBHOOKS_CHANNEL,
      pollMs: options.pollMs,
      pass: () => this.deliverDue(),
      onError: (err) => this.log(`delivery pass failed, will retry: ${err.message}`),
    });
  }

  private get stopped(): boolean {
    return this.loop.stopped;
  }

  async start(): Promise<void> {
    this.abort = new AbortController();
    await this.loop.start();
  }

  /** Stops claiming, aborts attempts in flight (their rows are handed back untouched) and waits for the pass to end. */
  async stop(): Promise<void> {
    const stopping = this.loop.stop();
    this.abort.abort();
    await stopping;
  }

  nudge(): void {
    this.loop.nudge();
  }

  /** Send every due delivery; returns how many attempts were made. */
  async deliverDue(): Promise<number> {
    let total = 0;
    while (!this.stopped) {
      const batch = await this.claim();
      if (batch.length === 0) break;
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < batch.length) {
          const row = batch[next++];
          if (this.stopped) {
            await this.release(row);
            continue;
          }
          if (await this.attempt(row)) total++;
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.options.concurrency ?? 8, batch.length) }, worker));
    }
    return total;
  }

  private async claim(): Promise<ClaimedRow[]> {
    const token = randomBytes(12).toString('base64url');
    const { rows } = await this.options.db.query<ClaimedRow>(
      `UPDATE webhook_deliveries d
       SET claimed_until = now() + make_interval(secs => $2), claim_token = $3
       FROM webhook_subscriptions s, events e
       WHERE d.id IN (
           SELECT q.id FROM webhook_deliveries q JOIN webhook_subscriptions qs ON qs.id = q.subscription_id AND qs.enabled
           WHERE q.status = 'pending' AND q.next_attempt_at <= now() AND (q.claimed_until IS NULL OR q.claimed_until < now())
           ORDER BY q.next_attempt_at, q.event_seq
           LIMIT $1
           FOR UPDATE OF q SKIP LOCKED)
         AND s.id = d.subscription_id AND e.id = d.event_id
       RETURNING d.id, d.subscription_id, d.attempts, d.claim_token, s.url, s.secret_ciphertext,
         e.id AS event_id, e.type AS event_type, e.object_type, e.object_id, e.snapshot, e.data, e.occurred_at`,
      [this.options.batchSize ?? 50, this.options.claimSeconds ?? 120, token],
    );
    return rows;
  }

  private async release(row: ClaimedRow): Promise<void> {
    await this.options.db.query('UPDATE webhook_deliveries SET claimed_until = NULL, claim_token = NULL WHERE id = $1 AND claim_token = $2', [row.id, row.claim_token]);
  }

  /** One attempt at one delivery; false when it was abandoned because the dispatcher stopped. */
  private async attempt(row: ClaimedRow): Promise<boolean> {
    const attempt = row.attempts + 1;
    const startedAt = new Date();
    const started = performance.now();
    let responseStatus: number | null = null;
    let excerpt: string | null = null;
    let error: string | null = null;
    let retryable = true;
    try {
      const secret = this.options.store.openSecret(row.subscription_id, row.secret_ciphertext);
      const body = deliveryBody({
        id: row.event_id,
        type: row.event_type,
        objectType: row.object_type,
        objectId: row.object_id,
        object: row.snapshot,
        data: row.data ?? {},
        occurredAt: new Date(row.occurred_at).toISOString(),
      });
      const { headers, originOnly } = deliveryHeaders({ secret, body, eventId: row.event_id, eventType: row.event_type, deliveryId: row.id, attempt });
      const response = await sendGuarded(
        this.options.guard,
        {
          method: 'POST',
          url: row.url,
          headers,
          originOnlyHeaders: originOnly,
          body: Buffer.from(body),
          timeoutMs: this.options.timeoutMs ?? 10_000,
          maxResponseBytes: RESPONSE_EXCERPT_BYTES,
          maxRedirects: 0,
          signal: this.abort.signal,
        },
        this.options.trust,
      );
      responseStatus = response.status;
      excerpt = cleanText(response.body.toString('utf8'));
      if (response.status < 200 || response.status > 299) {
        error = response.status >= 300 && response.status < 400 ? `the subscriber answered ${response.status} (redirects are not followed)` : `the subscriber answered ${response.status}`;
      }
    } catch (err) {
      if (this.abort.signal.aborted) {
        await this.release(row);
        return false;
      }
      if (err instanceof RequestBlockedError) retryable = false;
      error = cleanText(err instanceof HttpRequestError || err instanceof Error ? err.message : String(err));
    }
    const durationMs = Math.round(performance.now() - started);
    const succeeded = error === null;
    const finalFailure = !succeeded && (!retryable || attempt >= this.retry.maxAttempts);
    const status = succeeded ? 'succeeded' : finalFailure ? 'failed' : 'pending';
    const delayMs = status === 'pending' ? retryDelayMs(this.retry, attempt) : 0;
    const recorded = await this.options.db.transaction(async (tx) => {
      const { rows } = await tx.query(
        `UPDATE webhook_deliveries SET
           attempts = $3, status = $4, next_attempt_at = now() + make_interval(secs => $5::double precision),
           claimed_until = NULL, claim_token = NULL, last_response_status = $6, last_error = $7,
           completed_at = CASE WHEN $4 = 'pending' THEN NULL ELSE now() END
         WHERE id = $1 AND claim_token = $2 RETURNING id`,
        [row.id, row.claim_token, attempt, status, delayMs / 1000, responseStatus, error],
      );
      if (rows.length === 0) return false;
      await tx.query(
        `INSERT INTO webhook_delivery_attempts (delivery_id, attempt, started_at, duration_ms, response_status, response_body_excerpt, error)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [row.id, attempt, startedAt, durationMs, responseStatus, excerpt, error],
      );
      return true;
    });
    if (!recorded) {
      this.log(`delivery ${row.id}: the claim lapsed during attempt ${attempt}; its outcome is not recorded`);
      return true;
    }
    this.onAttempt?.({ deliveryId: row.id, subscriptionId: row.subscription_id, eventId: row.event_id, attempt, status: status === 'pending' ? 'retrying' : status, responseStatus });
    return true;
  }
}

/** PostgreSQL text holds no NUL characters; answers are whatever the subscriber sent. */
function cleanText(text: string): string {
  return text.replace(/\u0000/g, '\uFFFD');
}
