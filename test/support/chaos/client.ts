/**
 * The load generator's HTTP client, behaving as a careful real client does
 * while the service has an outage: a connection error, a timeout, a 5xx or
 * a 429 is retried with backoff, and the request is sent again unchanged:
 * the same idempotency key in a run trigger's body (flow.idempotencyKey)
 * and the same event id, so a retry of a request that did arrive starts
 * nothing twice. Events are signed afresh at each attempt.
 */
import { signBody } from '../../../src/events/signature';

export interface Answer {
  status: number;
  body: any;
}

export class RetryingClient {
  /** Attempts that were retried, by why. */
  readonly retries = { network: 0, status5xx: 0, status429: 0 };
  /** The 5xx answers by status and error code, e.g. `503 unavailable`. */
  readonly serverErrors: Record<string, number> = {};
  private aborted = false;

  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string,
    private readonly eventsSecret: string,
    private readonly options: { attemptTimeoutMs?: number; giveUpAfterMs?: number } = {},
  ) {}

  /** Stop retrying: calls in progress fail at their next retry (the run is being torn down). */
  abort(): void {
    this.aborted = true;
  }

  /** An API call with the API key. */
  call(method: string, path: string, body?: unknown): Promise<Answer> {
    const text = body === undefined ? undefined : JSON.stringify(body);
    return this.send(method, path, () => ({
      authorization: `Bearer ${this.apiKey}`,
      ...(text === undefined ? {} : { 'content-type': 'application/json' }),
    }), text);
  }

  /** POST /v1/events as an upstream sender: signed with the shared secret. */
  postEvent(event: Record<string, unknown>): Promise<Answer> {
    const text = JSON.stringify(event);
    return this.send('POST', '/v1/events', () => ({ 'content-type': 'application/json', 'idw-signature': signBody(this.eventsSecret, text) }), text);
  }

  private async send(method: string, path: string, headers: () => Record<string, string>, body: string | undefined): Promise<Answer> {
    const giveUpAt = Date.now() + (this.options.giveUpAfterMs ?? 10 * 60_000);
    let delay = 250;
    for (;;) {
      let retryAfterMs: number | undefined;
      let why: string;
      try {
        const res = await fetch(`${this.baseUrl}${path}`, { method, headers: headers(), body, signal: AbortSignal.timeout(this.options.attemptTimeoutMs ?? 20_000) });
        const text = await res.text();
        if (res.status < 500 && res.status !== 429) {
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON: keep the text
          }
          return { status: res.status, body: parsed };
        }
        if (res.status === 429) {
          this.retries.status429++;
          retryAfterMs = Number(res.headers.get('retry-after') ?? '1') * 1000;
        } else {
          this.retries.status5xx++;
          let code = '';
          try {
            code = String(JSON.parse(text)?.error?.code ?? '');
          } catch {
            // not our JSON error
          }
          const key = `${res.status} ${code}`.trim();
          this.serverErrors[key] = (this.serverErrors[key] ?? 0) + 1;
        }
        why = `${res.status} ${text.slice(0, 200)}`;
      } catch (err) {
        this.retries.network++;
        why = (err as Error).message;
      }
      if (Date.now() > giveUpAt || this.aborted) throw new Error(`${method} ${path}: gave up after retrying: ${why}`);
      await new Promise((r) => setTimeout(r, retryAfterMs ?? delay * (0.5 + Math.random())));
      delay = Math.min(delay * 2, 2_000);
    }
  }
}
