/**
 * Outbound webhooks end to end: subscriptions through the API (scope,
 * validation, the SSRF guard when saved, the secret shown once), events
 * delivered to matching subscribers and signed as inbound events are,
 * retries with backoff recorded attempt by attempt, replays, a destination
 * refused at send time, and durability: deliveries made while no
 * dispatcher runs are sent when one starts, two dispatchers on the same
 * database send each delivery once, and a dead dispatcher's claim lapses
 * to another. Subscribers are real HTTP servers on loopback (allow-listed
 * by the test network policy, as for Make HTTPS Request).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiKeyStore } from '../src/auth/api-keys';
import { EventStore } from '../src/events/event-store';
import { verifySignature } from '../src/events/signature';
import { connectPostgres, type Db } from '../src/store/db';
import { createWebhooks, retryDelayMs, DEFAULT_RETRY } from '../src/webhooks';
import { TEST_CREDENTIALS_KEY, TEST_DATABASE_URL, api, createHarness, type Harness } from './support/harness';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

/** A subscriber: records every request; `answer` decides the status of each (nth from 1). */
class Subscriber {
  readonly received: Received[] = [];
  answer: (nth: number, req: Received) => number = () => 200;
  private server!: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const got = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        this.received.push(got);
        const status = this.answer(this.received.length, got);
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end(status < 300 ? 'ok' : `no thanks (${status})`);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
    return this;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  forEvent(id: string): Received[] {
    return this.received.filter((r) => r.headers['idw-event-id'] === id);
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let h: Harness;
const subscribers: Subscriber[] = [];
const fastRetry = { maxAttempts: 3, initialMs: 100, factor: 2, maxMs: 400, jitter: 0 };

beforeAll(async () => {
  h = await createHarness({ worker: false, webhooks: { retry: fastRetry, pollMs: 100 } });
});
afterAll(async () => {
  await h?.close();
  for (const s of subscribers) await s.close();
});

/** Records an upstream event as `POST /v1/events` does once the signature is checked. */
async function record(event: { id: string; type: string; objectType?: string; objectId?: string; data?: Record<string, unknown> }): Promise<void> {
  const { duplicate } = await new EventStore(h.db).ingest(event);
  expect(duplicate).toBe(false);
}

async function subscriber(): Promise<Subscriber> {
  const s = await new Subscriber().start();
  subscribers.push(s);
  return s;
}

async function subscribe(url: string, eventTypes: string[]): Promise<{ id: string; secret: string }> {
  const res = await api(h, 'POST', '/v1/webhooks', { url, eventTypes });
  expect(res.status).toBe(201);
  return res.body;
}

async function deliveriesOf(webhookId: string): Promise<any[]> {
  const res = await api(h, 'GET', `/v1/webhooks/${webhookId}/deliveries`);
  expect(res.status).toBe(200);
  return res.body.deliveries;
}

async function settledDelivery(webhookId: string, eventId: string): Promise<any> {
  return until(`the delivery of ${eventId}`, async () => (await deliveriesOf(webhookId)).find((d) => d.eventId === eventId && d.status !== 'pending'));
}

describe('subscriptions', () => {
  it('are created with a secret shown once, listed, changed and deleted', async () => {
    const created = await api(h, 'POST', '/v1/webhooks', { url: 'https://hooks.example.com/idw', eventTypes: ['inquiry.*', 'case.resolved'], description: 'CRM sync' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ url: 'https://hooks.example.com/idw', eventTypes: ['inquiry.*', 'case.resolved'], description: 'CRM sync', enabled: true });
    expect(created.body.id).toMatch(/^wh_/);
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    const id = created.body.id;

    const read = await api(h, 'GET', `/v1/webhooks/${id}`);
    expect(read.status).toBe(200);
    expect(read.body.secret).toBeUndefined();
    expect(JSON.stringify((await api(h, 'GET', '/v1/webhooks')).body)).not.toContain(created.body.secret);

    const changed = await api(h, 'PATCH', `/v1/webhooks/${id}`, { eventTypes: ['*'], enabled: false });
    expect(changed.body).toMatchObject({ eventTypes: ['*'], enabled: false, url: 'https://hooks.example.com/idw' });

    const rotated = await api(h, 'POST', `/v1/webhooks/${id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(created.body.secret);

    expect((await api(h, 'DELETE', `/v1/webhooks/${id}`)).status).toBe(204);
    expect((await api(h, 'GET', `/v1/webhooks/${id}`)).status).toBe(404);
    expect((await api(h, 'DELETE', `/v1/webhooks/${id}`)).status).toBe(404);
  });

  it('refuses bad input with the path of each problem, and destinations the SSRF guard refuses', async () => {
    const bad = await api(h, 'POST', '/v1/webhooks', { url: 'ftp://files.example.com/x', eventTypes: ['Inquiry Completed', 'inquiry.**'], extra: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['/', '/eventTypes/0', '/eventTypes/1', '/url']);

    for (const [url, reason] of [
      ['https://10.1.2.3/hook', /10\.1\.2\.3 is a private address/],
      ['https://169.254.169.254/latest/meta-data/', /cloud metadata address/],
      ['http://hooks.example.com/hook', /plain http is only allowed for allow-listed hosts/],
      ['https://user:pw@hooks.example.com/hook', /may not carry user:password/],
    ] as const) {
      const res = await api(h, 'POST', '/v1/webhooks', { url, eventTypes: ['*'] });
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([{ path: '/url', message: expect.stringMatching(reason) }]);
    }
    const { rows } = await h.db.query<{ n: string }>(`SELECT count(*) AS n FROM webhook_subscriptions WHERE url LIKE '%10.1.2.3%' OR url LIKE '%169.254%'`);
    expect(Number(rows[0].n)).toBe(0);
    const ok = await api(h, 'POST', '/v1/webhooks', { url: 'https://hooks.example.com/x', eventTypes: ['*'] });
    const patched = await api(h, 'PATCH', `/v1/webhooks/${ok.body.id}`, { url: 'https://[::ffff:10.0.0.1]/x' });
    expect(patched.status).toBe(400);
    expect((await api(h, 'GET', `/v1/webhooks/${ok.body.id}`)).body.url).toBe('https://hooks.example.com/x');
    await api(h, 'DELETE', `/v1/webhooks/${ok.body.id}`);
  });

  it('need the webhooks:manage scope', async () => {
    const { key } = await new ApiKeyStore(h.db).create({ name: 'reader', scopes: ['workflows:read', 'runs:read'] });
    const forbidden = await api(h, 'GET', '/v1/webhooks', undefined, { key });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error.code).toBe('forbidden');
    expect((await api(h, 'POST', '/v1/webhooks', { url: 'https://hooks.example.com/x', eventTypes: ['*'] }, { key })).status).toBe(403);
    expect((await api(h, 'POST', '/v1/webhook-deliveries/whd_00000000000000000000000000000000/replay', undefined, { key })).status).toBe(403);
    expect((await api(h, 'GET', '/v1/webhooks', undefined, { key: null })).status).toBe(401);
  });
});

describe('delivery', () => {
  it('sends every matching event, object changes and upstream events alike, signed with the subscriber\'s secret', async () => {
    const sub = await subscriber();
    const { id, secret } = await subscribe(sub.url, ['inquiry.*']);
    const other = await subscriber();
    await subscribe(other.url, ['case.resolved']);

    const inquiry = await api(h, 'POST', '/v1/inquiries', { template: 'kyc_basic' });
    expect(inquiry.status).toBe(201);
    await record({ id: 'up_wh_1', type: 'inquiry.completed', objectType: 'inquiry', objectId: inquiry.body.id, data: { vendor: 'x' } });
    await record( { id: 'up_wh_other', type: 'account.tag-added', objectId: 'acc_1' });

    const created = await until('inquiry.created', async () => (await api(h, 'GET', `/v1/events?objectId=${inquiry.body.id}&type=inquiry.created`)).body.events[0]);
    for (const eventId of [created.id, 'up_wh_1']) {
      const delivery = await settledDelivery(id, eventId);
      expect(delivery).toMatchObject({ status: 'succeeded', attempts: 1, lastResponseStatus: 200, subscriptionId: id });
      expect(delivery.attemptLog).toEqual([{ attempt: 1, startedAt: expect.any(String), durationMs: expect.any(Number), responseStatus: 200, responseBodyExcerpt: 'ok', error: null }]);
      const [got] = sub.forEvent(eventId);
      expect(got.headers).toMatchObject({ 'content-type': 'application/json', 'idw-delivery-id': delivery.id, 'idw-delivery-attempt': '1', 'user-agent': 'idw-webhooks/1' });
      expect(verifySignature(secret, got.headers['idw-signature'] as string, Buffer.from(got.body))).toEqual({ ok: true });
      expect(verifySignature('whsec_someone_else', got.headers['idw-signature'] as string, Buffer.from(got.body)).ok).toBe(false);
    }
    expect(JSON.parse(sub.forEvent('up_wh_1')[0].body)).toEqual({
      id: 'up_wh_1',
      type: 'inquiry.completed',
      objectType: 'inquiry',
      objectId: inquiry.body.id,
      data: { vendor: 'x' },
      occurredAt: expect.any(String),
    });
    expect(JSON.parse(sub.forEvent(created.id)[0].body)).toMatchObject({ type: 'inquiry.created', objectId: inquiry.body.id, object: { id: inquiry.body.id, status: 'created' } });
    // Neither the tag event nor anything about inquiries reached the case.resolved subscriber.
    expect(sub.forEvent('up_wh_other')).toEqual([]);
    expect(other.received).toEqual([]);
  });

  it('retries with backoff until the subscriber answers 2xx, recording every attempt', async () => {
    const sub = await subscriber();
    sub.answer = (nth) => (nth < 3 ? 503 : 204);
    const { id } = await subscribe(sub.url, ['case.resolved']);
    await record({ id: 'up_wh_retry', type: 'case.resolved', objectId: 'case_r' });
    const delivery = await settledDelivery(id, 'up_wh_retry');
    expect(delivery).toMatchObject({ status: 'succeeded', attempts: 3, lastResponseStatus: 204, lastError: null });
    expect(delivery.attemptLog.map((a: any) => [a.attempt, a.responseStatus, a.responseBodyExcerpt, a.error])).toEqual([
      [1, 503, 'no thanks (503)', 'the subscriber answered 503'],
      [2, 503, 'no thanks (503)', 'the subscriber answered 503'],
      [3, 204, '', null],
    ]);
    // The waits grow: 100 ms, then 200 ms, at least.
    const started = delivery.attemptLog.map((a: any) => Date.parse(a.startedAt));
    expect(started[1] - started[0]).toBeGreaterThanOrEqual(100);
    expect(started[2] - started[1]).toBeGreaterThanOrEqual(200);
    // Each attempt is signed afresh and numbered.
    expect(sub.forEvent('up_wh_retry').map((r) => r.headers['idw-delivery-attempt'])).toEqual(['1', '2', '3']);
  });

  it('gives up after the last attempt; a replay sends the event again as a new delivery', async () => {
    const sub = await subscriber();
    let healthy = false;
    sub.answer = () => (healthy ? 200 : 500);
    const { id } = await subscribe(sub.url, ['report/watchlist.*']);
    await record({ id: 'up_wh_fail', type: 'report/watchlist.matched', objectId: 'rep_1' });
    const failed = await settledDelivery(id, 'up_wh_fail');
    expect(failed).toMatchObject({ status: 'failed', attempts: 3, lastResponseStatus: 500, lastError: 'the subscriber answered 500', completedAt: expect.any(String) });

    healthy = true;
    const replay = await api(h, 'POST', `/v1/webhook-deliveries/${failed.id}/replay`);
    expect(replay.status).toBe(202);
    expect(replay.body).toMatchObject({ replayOf: failed.id, eventId: 'up_wh_fail', status: 'pending', attempts: 0 });
    const done = await until('the replay', async () => {
      const d = (await api(h, 'GET', `/v1/webhook-deliveries/${replay.body.id}`)).body;
      return d.status === 'succeeded' ? d : undefined;
    });
    expect(done.attemptLog.map((a: any) => a.responseStatus)).toEqual([200]);
    // The original stays as it was.
    expect((await api(h, 'GET', `/v1/webhook-deliveries/${failed.id}`)).body).toMatchObject({ status: 'failed', attempts: 3 });
    expect(sub.forEvent('up_wh_fail')).toHaveLength(4);
    expect((await api(h, 'POST', '/v1/webhook-deliveries/whd_00000000000000000000000000000000/replay')).status).toBe(404);
    const failedOnly = await api(h, 'GET', `/v1/webhooks/${id}/deliveries?status=failed`);
    expect(failedOnly.body.deliveries.map((d: any) => d.id)).toEqual([failed.id]);
    expect((await api(h, 'GET', `/v1/webhooks/${id}/deliveries?status=maybe`)).status).toBe(400);
  });

  it('does not send to a destination the guard refuses at send time (the address changed after it was saved), and does not retry', async () => {
    // As if the subscriber's name now resolved to a private address: saved directly, past the API's check.
    const sub = await h.webhooks.store.create({ url: 'https://10.9.8.7/hook', eventTypes: ['device.trusted'] });
    await record({ id: 'up_wh_ssrf', type: 'device.trusted', objectId: 'dev_1' });
    const delivery = await settledDelivery(sub.id, 'up_wh_ssrf');
    expect(delivery).toMatchObject({ status: 'failed', attempts: 1, lastResponseStatus: null });
    expect(delivery.lastError).toMatch(/10\.9\.8\.7 is a private address/);
    expect(delivery.attemptLog[0]).toMatchObject({ responseStatus: null, responseBodyExcerpt: null, error: expect.stringMatching(/private address/) });
  });

  it('does not follow redirects: a 3xx is a failed attempt', async () => {
    const sub = await subscriber();
    sub.answer = () => 307;
    const { id } = await subscribe(sub.url, ['list.item-added']);
    await record({ id: 'up_wh_redirect', type: 'list.item-added', objectId: 'lst_1' });
    const delivery = await settledDelivery(id, 'up_wh_redirect');
    expect(delivery).toMatchObject({ status: 'failed', attempts: 3, lastError: 'the subscriber answered 307 (redirects are not followed)' });
  });
});

describe('durability', () => {
  let second: Db | undefined;
  afterEach(async () => {
    await second?.close();
    second = undefined;
  });

  it('keeps deliveries made while no dispatcher runs, and two dispatchers send each of them once', async () => {
    const sub = await subscriber();
    const { id } = await subscribe(sub.url, ['inquiry.approved']);
    await h.webhooks.dispatcher.stop();
    const ids = Array.from({ length: 30 }, (_, i) => `up_wh_many_${i}`);
    try {
      for (const eventId of ids) await record({ id: eventId, type: 'inquiry.approved', objectId: eventId });
      const { rows } = await h.db.query<{ n: string }>(`SELECT count(*) AS n FROM webhook_deliveries WHERE subscription_id = $1 AND status = 'pending'`, [id]);
      expect(Number(rows[0].n)).toBe(30);
      expect(sub.received).toEqual([]);

      // Two "processes": separate pools on the same database, each with its own dispatcher.
      second = await connectPostgres({ url: TEST_DATABASE_URL, schema: h.schema, max: 3 });
      const network = { allowList: ['127.0.0.1'] };
      const a = createWebhooks({ db: h.db, key: TEST_CREDENTIALS_KEY, network, pollMs: 50, batchSize: 4, log: () => undefined });
      const b = createWebhooks({ db: second, key: TEST_CREDENTIALS_KEY, network, pollMs: 50, batchSize: 4, log: () => undefined });
      const sentBy = { a: 0, b: 0 };
      a.dispatcher.onAttempt = (r) => (sentBy.a += r.subscriptionId === id ? 1 : 0);
      b.dispatcher.onAttempt = (r) => (sentBy.b += r.subscriptionId === id ? 1 : 0);
      await Promise.all([a.dispatcher.start(), b.dispatcher.start()]);
      try {
        await until('all 30 deliveries', async () => (ids.every((e) => sub.forEvent(e).length > 0) ? true : undefined));
        await until('every attempt recorded', async () => (sentBy.a + sentBy.b === 30 ? true : undefined));
      } finally {
        await Promise.all([a.dispatcher.stop(), b.dispatcher.stop()]);
      }
      expect(ids.map((e) => sub.forEvent(e).length)).toEqual(ids.map(() => 1));
      expect(sentBy.a).toBeGreaterThan(0);
      expect(sentBy.b).toBeGreaterThan(0);
      const done = await h.db.query<{ n: string }>(`SELECT count(*) AS n FROM webhook_deliveries WHERE subscription_id = $1 AND status = 'succeeded' AND attempts = 1`, [id]);
      expect(Number(done.rows[0].n)).toBe(30);
    } finally {
      await h.webhooks.dispatcher.start();
    }
  });

  it('a dispatcher that died holding a claim delays its deliveries only until the lease lapses', async () => {
    const sub = await subscriber();
    const { id } = await subscribe(sub.url, ['inquiry.declined']);
    await h.webhooks.dispatcher.stop();
    try {
      await record({ id: 'up_wh_orphan', type: 'inquiry.declined', objectId: 'inq_o' });
      // Claimed by a process that then died: its lease runs for one more second.
      const claimed = await h.db.query(
        `UPDATE webhook_deliveries SET claimed_until = now() + interval '1 second', claim_token = 'dead' WHERE subscription_id = $1 AND status = 'pending' RETURNING id`,
        [id],
      );
      expect(claimed.rows).toHaveLength(1);
    } finally {
      await h.webhooks.dispatcher.start();
    }
    const delivery = await settledDelivery(id, 'up_wh_orphan');
    expect(delivery).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(sub.forEvent('up_wh_orphan')).toHaveLength(1);
  });
});

describe('retry schedule', () => {
  it.each([
    [1, 30_000],
    [2, 60_000],
    [5, 480_000],
    [8, 3_600_000],
    [9, 3_600_000],
  ])('after attempt %i the default waits %i ms (before jitter)', (attempt, ms) => {
    expect(retryDelayMs({ ...DEFAULT_RETRY, jitter: 0 }, attempt)).toBe(ms);
  });

  it('jitter only shortens the wait, by at most its fraction', () => {
    expect(retryDelayMs(DEFAULT_RETRY, 1, () => 0)).toBe(30_000);
    expect(retryDelayMs(DEFAULT_RETRY, 1, () => 0.999999)).toBe(24_000);
  });
});
