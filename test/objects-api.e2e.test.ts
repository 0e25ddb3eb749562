/**
 * The object REST API against the real PostgreSQL: create / read / list with
 * filters / update for every type, every status transition (each illegal one
 * is a 409 that changes nothing and writes no event), tags on any object,
 * list items, and the 400s (with JSON Pointer paths) and 404s.
 */
import { api, createHarness, type Harness } from './support/harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ worker: false });
});
afterAll(async () => {
  await h?.close();
});

async function eventsOf(objectId: string): Promise<{ type: string; data: any; snapshot: any }[]> {
  const { rows } = await h.db.query<{ type: string; data: any; snapshot: any }>('SELECT type, data, snapshot FROM events WHERE object_id = $1 ORDER BY seq', [objectId]);
  return rows;
}
const typesOf = async (objectId: string) => (await eventsOf(objectId)).map((e) => e.type);

async function create(path: string, body: unknown): Promise<any> {
  const res = await api(h, 'POST', path, body);
  if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}
async function post(path: string, body?: unknown): Promise<any> {
  const res = await api(h, 'POST', path, body);
  if (res.status !== 200) throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}
const paths = (res: { body: any }) => res.body.error.details.map((d: { path: string }) => d.path).sort();

describe('inquiries', () => {
  let accountId: string;
  beforeAll(async () => {
    accountId = (await create('/v1/accounts', { referenceId: 'user-42' })).id;
  });

  it('creates, reads and lists with filters, newest first, in pages', async () => {
    const a = await create('/v1/inquiries', { template: 'kyc_basic', accountId, fields: { name_first: 'Ada', email: 'ADA@example.com', address: { city: 'London', country: 'gb' } }, scores: { selfie_liveness: 0.91 }, tags: ['vip'] });
    expect(a).toMatchObject({
      object: 'inquiry',
      template: 'kyc_basic',
      status: 'created',
      accountId,
      fields: { name_first: 'Ada', name_last: null, email: 'ada@example.com', address: { street: null, city: 'London', postal_code: null, country: 'GB' } },
      scores: { selfie_liveness: 0.91 },
      tags: ['vip'],
      redactedAt: null,
    });
    const b = await create('/v1/inquiries', { template: 'kyc_basic' });
    const c = await create('/v1/inquiries', { template: 'kyb' });
    await post(`/v1/inquiries/${c.id}/submit`);

    expect((await api(h, 'GET', `/v1/inquiries/${a.id}`)).body).toEqual(a);
    const ids = async (query: string) => (await api(h, 'GET', `/v1/inquiries?${query}`)).body.inquiries.map((i: { id: string }) => i.id);
    expect(await ids('template=kyc_basic')).toEqual([b.id, a.id]);
    expect(await ids(`account=${accountId}`)).toEqual([a.id]);
    expect(await ids('tag=vip')).toEqual([a.id]);
    expect(await ids('status=pending')).toEqual([c.id]);
    expect(await ids('status=pending&template=kyc_basic')).toEqual([]);

    const first = await api(h, 'GET', '/v1/inquiries?limit=2');
    expect(first.body.inquiries.map((i: { id: string }) => i.id)).toEqual([c.id, b.id]);
    expect(first.body.nextBefore).toBe(b.id);
    const second = await api(h, 'GET', `/v1/inquiries?limit=2&before=${first.body.nextBefore}`);
    expect(second.body.inquiries.map((i: { id: string }) => i.id)).toEqual([a.id]);
    expect(second.body.nextBefore).toBeUndefined();
  });

  it('updates fields and scores, emitting inquiry.updated with what changed and no values', async () => {
    const inq = await create('/v1/inquiries', { template: 'kyc', fields: { email: 'old@example.com' } });
    const res = await api(h, 'PATCH', `/v1/inquiries/${inq.id}`, { fields: { email: 'new@example.com', phone: '+44 20 7946 0000', name_last: null }, scores: { selfie_liveness: 0.5 }, accountId });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ fields: { email: 'new@example.com', phone: '+442079460000' }, scores: { selfie_liveness: 0.5 }, accountId });
    const events = await eventsOf(inq.id);
    expect(events.map((e) => e.type)).toEqual(['inquiry.created', 'inquiry.updated']);
    expect(events[1].data).toEqual({ changed: ['fields.email', 'fields.phone', 'scores.selfie_liveness', 'accountId'] });
    expect(events[1].snapshot).toEqual(res.body);

    // The same values again change nothing and announce nothing.
    const same = await api(h, 'PATCH', `/v1/inquiries/${inq.id}`, { fields: { email: 'new@example.com' } });
    expect(same.status).toBe(200);
    expect(await typesOf(inq.id)).toEqual(['inquiry.created', 'inquiry.updated']);
  });

  it('moves along the life cycle, one event per move, snapshot = the inquiry after it', async () => {
    const inq = await create('/v1/inquiries', { template: 'kyc' });
    for (const [verb, status] of [['submit', 'pending'], ['complete', 'completed'], ['mark-for-review', 'needs_review'], ['approve', 'approved']]) {
      expect((await post(`/v1/inquiries/${inq.id}/${verb}`)).status).toBe(status);
    }
    const events = await eventsOf(inq.id);
    expect(events.map((e) => [e.type, e.snapshot.status, e.data.from ?? null])).toEqual([
      ['inquiry.created', 'created', null],
      ['inquiry.pending', 'pending', 'created'],
      ['inquiry.completed', 'completed', 'pending'],
      ['inquiry.marked-for-review', 'needs_review', 'completed'],
      ['inquiry.approved', 'approved', 'needs_review'],
    ]);
    for (const [verb, event] of [['fail', 'inquiry.failed'], ['expire', 'inquiry.expired'], ['decline', 'inquiry.declined']]) {
      const other = await create('/v1/inquiries', { template: 'kyc' });
      if (verb !== 'expire') await post(`/v1/inquiries/${other.id}/submit`);
      if (verb === 'decline') await post(`/v1/inquiries/${other.id}/complete`);
      await post(`/v1/inquiries/${other.id}/${verb}`);
      expect((await typesOf(other.id)).at(-1)).toBe(event);
    }
  });

  it('answers every illegal move with 409 illegal_transition, changing nothing and writing no event', async () => {
    // How to reach each status from created.
    const route: Record<string, string[]> = {
      created: [],
      pending: ['submit'],
      completed: ['submit', 'complete'],
      failed: ['submit', 'fail'],
      expired: ['expire'],
      needs_review: ['submit', 'complete', 'mark-for-review'],
      approved: ['submit', 'complete', 'approve'],
      declined: ['submit', 'complete', 'decline'],
    };
    const verbs: Record<string, string> = { submit: 'pending', complete: 'completed', fail: 'failed', expire: 'expired', 'mark-for-review': 'needs_review', approve: 'approved', decline: 'declined' };
    const legal: Record<string, string[]> = {
      created: ['pending', 'expired'],
      pending: ['completed', 'failed', 'expired'],
      completed: ['needs_review', 'approved', 'declined'],
      failed: ['needs_review', 'approved', 'declined'],
      expired: ['needs_review', 'approved', 'declined'],
      needs_review: ['approved', 'declined'],
      approved: [],
      declined: [],
    };
    let refused = 0;
    for (const [status, steps] of Object.entries(route)) {
      const inq = await create('/v1/inquiries', { template: 'kyc' });
      for (const verb of steps) await post(`/v1/inquiries/${inq.id}/${verb}`);
      const before = await api(h, 'GET', `/v1/inquiries/${inq.id}`);
      const eventsBefore = await typesOf(inq.id);
      for (const [verb, to] of Object.entries(verbs)) {
        if (legal[status].includes(to)) continue;
        const res = await api(h, 'POST', `/v1/inquiries/${inq.id}/${verb}`);
        expect([verb, res.status, res.body.error.code]).toEqual([verb, 409, 'illegal_transition']);
        expect(res.body.error.message).toContain(`from ${status} to ${to}`);
        refused += 1;
      }
      expect((await api(h, 'GET', `/v1/inquiries/${inq.id}`)).body).toEqual(before.body);
      expect(await typesOf(inq.id)).toEqual(eventsBefore);
    }
    expect(refused).toBe(8 * 7 - 16);
  });

  it('rejects bad input with 400 and the path of every problem, storing nothing', async () => {
    const count = async () => Number((await h.db.query<{ n: string }>('SELECT count(*) AS n FROM inquiries')).rows[0].n);
    const before = await count();
    const bad = await api(h, 'POST', '/v1/inquiries', {
      template: '',
      fields: { email: 'nope', birthdate: '1990-13-01', country: 'Germany', address: { zip: '1' } },
      scores: { 'Bad Name': 1 },
      colour: 'red',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_request');
    expect(paths(bad)).toEqual(['/', '/fields/address', '/fields/birthdate', '/fields/country', '/fields/email', '/scores/Bad Name', '/template']);
    const unknownAccount = await api(h, 'POST', '/v1/inquiries', { template: 'kyc', accountId: 'act_nosuchaccount' });
    expect(unknownAccount.status).toBe(400);
    expect(unknownAccount.body.error.details).toEqual([{ path: '/accountId', message: 'no account "act_nosuchaccount"' }]);
    expect((await api(h, 'POST', '/v1/inquiries', { template: 'kyc', accountId: 'case_1' })).body.error.details[0].path).toBe('/accountId');
    expect(await count()).toBe(before);

    const inq = await create('/v1/inquiries', { template: 'kyc' });
    expect(paths(await api(h, 'PATCH', `/v1/inquiries/${inq.id}`, {}))).toEqual(['/']);
    expect(paths(await api(h, 'PATCH', `/v1/inquiries/${inq.id}`, { template: 'other' }))).toEqual(['/', '/']);
    expect(paths(await api(h, 'POST', `/v1/inquiries/${inq.id}/submit`, { force: true }))).toEqual(['/']);
    expect(paths(await api(h, 'GET', '/v1/inquiries?status=done&limit=0&colour=red'))).toEqual(['/', '/limit', '/status']);
  });

  it('answers unknown ids with 404', async () => {
    for (const [method, path] of [
      ['GET', '/v1/inquiries/inq_nosuchthing'],
      ['GET', '/v1/inquiries/act_wrongtype'],
      ['PATCH', '/v1/inquiries/inq_nosuchthing'],
      ['POST', '/v1/inquiries/inq_nosuchthing/approve'],
      ['POST', '/v1/inquiries/inq_nosuchthing/redact'],
      ['POST', '/v1/inquiries/inq_nosuchthing/tags'],
      ['GET', '/v1/objects/inq_nosuchthing'],
      ['GET', '/v1/objects/whatever'],
    ] as const) {
      const res = await api(h, method, path, method === 'GET' ? undefined : method === 'PATCH' ? { scores: { x: 1 } } : path.endsWith('tags') ? { tag: 't' } : {});
      expect([method, path, res.status, res.body.error.code]).toEqual([method, path, 404, 'not_found']);
    }
  });
});

describe('accounts', () => {
  it('creates, filters, updates, moves, and refuses illegal moves', async () => {
    const acc = await create('/v1/accounts', { referenceId: 'cust-7', fields: { name_first: 'Grace', birthdate: '1906-12-09' }, tags: ['beta'] });
    expect(acc).toMatchObject({ object: 'account', status: 'active', referenceId: 'cust-7', fields: { name_first: 'Grace', birthdate: '1906-12-09' }, tags: ['beta'] });
    expect((await api(h, 'GET', '/v1/accounts?reference=cust-7')).body.accounts.map((a: { id: string }) => a.id)).toEqual([acc.id]);
    expect((await api(h, 'PATCH', `/v1/accounts/${acc.id}`, { fields: { name_last: 'Hopper' } })).body.fields.name_last).toBe('Hopper');
    expect((await post(`/v1/accounts/${acc.id}/suspend`)).status).toBe('suspended');
    expect((await api(h, 'GET', '/v1/accounts?status=suspended')).body.accounts.map((a: { id: string }) => a.id)).toEqual([acc.id]);
    expect((await post(`/v1/accounts/${acc.id}/reactivate`)).status).toBe('active');
    const again = await api(h, 'POST', `/v1/accounts/${acc.id}/reactivate`);
    expect([again.status, again.body.error.code]).toEqual([409, 'illegal_transition']);
    expect((await post(`/v1/accounts/${acc.id}/close`)).status).toBe('closed');
    for (const verb of ['suspend', 'reactivate', 'close']) expect((await api(h, 'POST', `/v1/accounts/${acc.id}/${verb}`)).status).toBe(409);
    expect(await typesOf(acc.id)).toEqual(['account.created', 'account.updated', 'account.suspended', 'account.reactivated', 'account.closed']);
  });
});

describe('cases', () => {
  it('links objects, filters, updates, moves and resolves with a resolution', async () => {
    const inq = await create('/v1/inquiries', { template: 'kyc' });
    const acc = await create('/v1/accounts', {});
    const kase = await create('/v1/cases', { title: 'Blocklisted email', links: [inq.id, acc.id, inq.id], assignee: 'ana@risk.example', priority: 'high', tags: ['blocklist'] });
    expect(kase).toMatchObject({ object: 'case', status: 'open', resolution: null, links: [inq.id, acc.id], assignee: 'ana@risk.example', priority: 'high' });
    const other = await create('/v1/cases', {});
    expect(other).toMatchObject({ title: '', priority: 'normal', assignee: null, links: [] });

    const ids = async (query: string) => (await api(h, 'GET', `/v1/cases?${query}`)).body.cases.map((c: { id: string }) => c.id);
    expect(await ids(`object=${inq.id}`)).toEqual([kase.id]);
    expect(await ids('priority=high&assignee=ana%40risk.example')).toEqual([kase.id]);
    expect(await ids('tag=blocklist')).toEqual([kase.id]);

    expect((await api(h, 'PATCH', `/v1/cases/${kase.id}`, { assignee: null, priority: 'urgent' })).body).toMatchObject({ assignee: null, priority: 'urgent' });
    expect((await post(`/v1/cases/${kase.id}/mark-pending`)).status).toBe('pending');
    expect((await post(`/v1/cases/${kase.id}/open`)).status).toBe('open');
    const noResolution = await api(h, 'POST', `/v1/cases/${kase.id}/resolve`, {});
    expect([noResolution.status, paths(noResolution)]).toEqual([400, ['/resolution']]);
    const resolved = await post(`/v1/cases/${kase.id}/resolve`, { resolution: 'approved', note: 'false positive' });
    expect(resolved).toMatchObject({ status: 'resolved', resolution: 'approved' });
    expect(resolved.resolvedAt).not.toBeNull();
    expect(await ids('status=resolved&resolution=approved')).toEqual([kase.id]);

    for (const [verb, body] of [['resolve', { resolution: 'declined' }], ['open', {}], ['mark-pending', {}]] as const) {
      const res = await api(h, 'POST', `/v1/cases/${kase.id}/${verb}`, body);
      expect([verb, res.status, res.body.error.code]).toEqual([verb, 409, 'illegal_transition']);
    }
    expect((await api(h, 'GET', `/v1/cases/${kase.id}`)).body).toEqual(resolved);
    const events = await eventsOf(kase.id);
    expect(events.map((e) => e.type)).toEqual(['case.created', 'case.updated', 'case.pending', 'case.opened', 'case.resolved']);
    expect(events[4].data).toEqual({ from: 'open', to: 'resolved', resolution: 'approved', note: 'false positive' });
  });

  it('refuses links to objects that do not exist, with their paths', async () => {
    const inq = await create('/v1/inquiries', { template: 'kyc' });
    const res = await api(h, 'POST', '/v1/cases', { links: [inq.id, 'rep_missing', 'nonsense'] });
    expect(res.status).toBe(400);
    expect(paths(res)).toEqual(['/links/2']);
    const missing = await api(h, 'POST', '/v1/cases', { links: [inq.id, 'rep_missing'] });
    expect(missing.body.error.details).toEqual([{ path: '/links/1', message: 'no report "rep_missing"' }]);
    expect((await api(h, 'GET', `/v1/cases?object=${inq.id}`)).body.cases).toEqual([]);
  });
});

describe('reports', () => {
  it('becomes ready (and matched) or errored, once, with typed events', async () => {
    const inq = await create('/v1/inquiries', { template: 'kyc' });
    const hit = await create('/v1/reports', { type: 'watchlist', objectId: inq.id });
    expect(hit).toMatchObject({ object: 'report', type: 'watchlist', status: 'pending', objectId: inq.id, hasMatch: null, matches: [] });
    await api(h, 'PATCH', `/v1/reports/${hit.id}`, { details: { providerRef: 'chk-1' } });
    const ready = await post(`/v1/reports/${hit.id}/ready`, { matches: [{ name: 'A. Person', list: 'OFAC SDN', score: 0.93 }], details: { provider: 'acme' } });
    expect(ready).toMatchObject({ status: 'ready', hasMatch: true, matches: [{ name: 'A. Person' }], details: { providerRef: 'chk-1', provider: 'acme' } });
    expect(ready.completedAt).toBe(ready.updatedAt);
    const events = await eventsOf(hit.id);
    expect(events.map((e) => [e.type, e.data])).toEqual([
      ['report/watchlist.created', {}],
      ['report/watchlist.updated', { changed: ['details'] }],
      ['report/watchlist.ready', { from: 'pending', to: 'ready', hasMatch: true, matchCount: 1 }],
      ['report/watchlist.matched', { hasMatch: true, matchCount: 1 }],
    ]);

    const clean = await create('/v1/reports', { type: 'email_risk', objectId: inq.id });
    expect((await post(`/v1/reports/${clean.id}/ready`, {})).hasMatch).toBe(false);
    expect(await typesOf(clean.id)).toEqual(['report/email_risk.created', 'report/email_risk.ready']);
    expect((await api(h, 'PATCH', `/v1/reports/${clean.id}`, { details: { risk: 'low' } })).body.details).toEqual({ risk: 'low' });

    const broken = await create('/v1/reports', { type: 'phone_risk' });
    expect(await post(`/v1/reports/${broken.id}/error`, { error: 'provider timed out' })).toMatchObject({ status: 'errored', error: 'provider timed out' });
    expect((await api(h, 'POST', `/v1/reports/${broken.id}/ready`, {})).status).toBe(409);
    expect((await api(h, 'POST', `/v1/reports/${hit.id}/error`, { error: 'late' })).status).toBe(409);
    expect((await api(h, 'POST', `/v1/reports/${hit.id}/ready`, {})).status).toBe(409);
    expect(await typesOf(broken.id)).toEqual(['report/phone_risk.created', 'report/phone_risk.errored']);

    const ids = async (query: string) => (await api(h, 'GET', `/v1/reports?${query}`)).body.reports.map((r: { id: string }) => r.id);
    expect(await ids(`object=${inq.id}&hasMatch=true`)).toEqual([hit.id]);
    expect(await ids(`object=${inq.id}&hasMatch=false`)).toEqual([clean.id]);
    expect(await ids('type=phone_risk&status=errored')).toEqual([broken.id]);

    const bad = await api(h, 'POST', '/v1/reports', { type: 'horoscope', objectId: 'x' });
    expect(paths(bad)).toEqual(['/objectId', '/type']);
  });
});

describe('lists', () => {
  it('adds normalised, unique items, removes them, and emits item events', async () => {
    const list = await create('/v1/lists', { name: 'Blocked emails', kind: 'email', description: 'known fraud' });
    expect(list).toMatchObject({ object: 'list', name: 'Blocked emails', kind: 'email', itemCount: 0 });
    const added = await api(h, 'POST', `/v1/lists/${list.id}/items`, { value: ' Fraud@Example.COM ' });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ listId: list.id, value: 'fraud@example.com', added: true, list: { itemCount: 1 } });
    const dup = await api(h, 'POST', `/v1/lists/${list.id}/items`, { value: 'fraud@example.com' });
    expect([dup.status, dup.body.added]).toEqual([200, false]);
    await api(h, 'POST', `/v1/lists/${list.id}/items`, { value: 'a@example.com' });
    const notEmail = await api(h, 'POST', `/v1/lists/${list.id}/items`, { value: 'not an email' });
    expect([notEmail.status, paths(notEmail)]).toEqual([400, ['/value']]);
    expect((await api(h, 'GET', `/v1/lists/${list.id}/items`)).body.items.map((i: { value: string }) => i.value)).toEqual(['a@example.com', 'fraud@example.com']);
    expect((await api(h, 'GET', `/v1/lists/${list.id}/items?after=a%40example.com`)).body.items.map((i: { value: string }) => i.value)).toEqual(['fraud@example.com']);

    const removed = await api(h, 'DELETE', `/v1/lists/${list.id}/items/${encodeURIComponent('FRAUD@example.com')}`);
    expect(removed.body).toMatchObject({ removed: true, value: 'fraud@example.com', list: { itemCount: 1 } });
    expect((await api(h, 'DELETE', `/v1/lists/${list.id}/items/fraud%40example.com`)).status).toBe(404);
    expect((await api(h, 'PATCH', `/v1/lists/${list.id}`, { name: 'Blocked' })).body.name).toBe('Blocked');

    const events = await eventsOf(list.id);
    expect(events.map((e) => [e.type, e.data.value ?? null])).toEqual([
      ['list.created', null],
      ['list.item-added', 'fraud@example.com'],
      ['list.item-added', 'a@example.com'],
      ['list.item-removed', 'fraud@example.com'],
      ['list.updated', null],
    ]);
    const other = await create('/v1/lists', { name: 'IPs', kind: 'ip' });
    expect((await api(h, 'GET', '/v1/lists?kind=ip')).body.lists.map((l: { id: string }) => l.id)).toEqual([other.id]);
    expect(paths(await api(h, 'POST', '/v1/lists', { name: '', kind: 'colour' }))).toEqual(['/kind', '/name']);
    expect((await api(h, 'POST', '/v1/lists/lst_missing/items', { value: 'a@b.co' })).status).toBe(404);
    expect((await api(h, 'GET', '/v1/lists/lst_missing/items')).status).toBe(404);
  });
});

describe('devices', () => {
  it('is trusted once, untrusted once, and filtered', async () => {
    const inq = await create('/v1/inquiries', { template: 'kyc' });
    const dev = await create('/v1/devices', { fingerprint: 'fp-123', ip: '203.0.113.7', inquiryId: inq.id });
    expect(dev).toMatchObject({ object: 'device', fingerprint: 'fp-123', ip: '203.0.113.7', trusted: false, trustedAt: null, inquiryId: inq.id });
    const trusted = await post(`/v1/devices/${dev.id}/trust`);
    expect(trusted).toMatchObject({ trusted: true });
    expect(trusted.trustedAt).toBe(trusted.updatedAt);
    expect((await post(`/v1/devices/${dev.id}/trust`)).trusted).toBe(true);
    expect((await api(h, 'GET', '/v1/devices?trusted=true&fingerprint=fp-123')).body.devices.map((d: { id: string }) => d.id)).toEqual([dev.id]);
    expect((await post(`/v1/devices/${dev.id}/untrust`)).trusted).toBe(false);
    expect((await api(h, 'PATCH', `/v1/devices/${dev.id}`, { ip: '2001:db8::7' })).body.ip).toBe('2001:db8::7');
    expect(paths(await api(h, 'PATCH', `/v1/devices/${dev.id}`, { ip: '999.1.1.1' }))).toEqual(['/ip']);
    expect(await typesOf(dev.id)).toEqual(['device.created', 'device.trusted', 'device.untrusted', 'device.updated']);
    expect((await api(h, 'GET', `/v1/devices?inquiry=${inq.id}`)).body.devices.map((d: { id: string }) => d.id)).toEqual([dev.id]);
    expect((await api(h, 'POST', '/v1/devices/dev_missing/trust')).status).toBe(404);
  });
});

describe('tags', () => {
  it('adds and removes tags on every type, once each, with <type>.tag-added / tag-removed', async () => {
    const objects = [
      ['inquiries', (await create('/v1/inquiries', { template: 'kyc' })).id, 'inquiry'],
      ['accounts', (await create('/v1/accounts', {})).id, 'account'],
      ['cases', (await create('/v1/cases', {})).id, 'case'],
      ['reports', (await create('/v1/reports', { type: 'pep' })).id, 'report/pep'],
      ['lists', (await create('/v1/lists', { name: 'n', kind: 'name' })).id, 'list'],
      ['devices', (await create('/v1/devices', { fingerprint: 'f' })).id, 'device'],
    ];
    for (const [collection, id, prefix] of objects) {
      expect((await post(`/v1/${collection}/${id}/tags`, { tag: ' high risk ' })).tags).toEqual(['high risk']);
      expect((await post(`/v1/${collection}/${id}/tags`, { tag: 'high risk' })).tags).toEqual(['high risk']);
      expect((await post(`/v1/${collection}/${id}/tags`, { tag: 'second' })).tags).toEqual(['high risk', 'second']);
      expect((await api(h, 'GET', `/v1/${collection}?tag=high%20risk`)).body[collection].map((o: { id: string }) => o.id)).toEqual([id]);
      expect((await api(h, 'DELETE', `/v1/${collection}/${id}/tags/high%20risk`)).body.tags).toEqual(['second']);
      expect((await api(h, 'DELETE', `/v1/${collection}/${id}/tags/high%20risk`)).status).toBe(200);
      const events = await eventsOf(id);
      expect(events.slice(1).map((e) => [e.type, e.data.tag])).toEqual([
        [`${prefix}.tag-added`, 'high risk'],
        [`${prefix}.tag-added`, 'second'],
        [`${prefix}.tag-removed`, 'high risk'],
      ]);
      expect(events.at(-1)!.snapshot.tags).toEqual(['second']);
    }
    const [, inquiryId] = objects[0];
    expect((await api(h, 'POST', `/v1/cases/${inquiryId}/tags`, { tag: 'x' })).status).toBe(404);
    expect(paths(await api(h, 'POST', `/v1/inquiries/${inquiryId}/tags`, { tag: '' }))).toEqual(['/tag']);
    expect((await api(h, 'POST', `/v1/widgets/${inquiryId}/tags`, { tag: 'x' })).status).toBe(404);
    expect((await api(h, 'GET', `/v1/objects/${inquiryId}`)).body).toMatchObject({ id: inquiryId, object: 'inquiry', tags: ['second'] });
  });
});
