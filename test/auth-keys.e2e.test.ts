/** API keys through /v1/api-keys: shown once, stored hashed, scoped, revocable at once. */
import { createHash } from 'node:crypto';
import { api, createHarness, postEvent, type Harness } from './support/harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ worker: false });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe('API keys', () => {
  it('shows a new key once, lists it without the key, and stores only its SHA-256', async () => {
    const created = await api(h, 'POST', '/v1/api-keys', { name: 'ci reader', scopes: ['workflows:read', 'runs:read'] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'ci reader', scopes: ['workflows:read', 'runs:read'], revokedAt: null });
    const key: string = created.body.key;
    expect(key).toMatch(/^idw_[A-Za-z0-9_-]{43}$/);
    expect(created.body.prefix).toBe(key.slice(0, 8));

    const listed = await api(h, 'GET', '/v1/api-keys');
    const entry = listed.body.apiKeys.find((k: { id: string }) => k.id === created.body.id);
    expect(entry).toMatchObject({ id: created.body.id, name: 'ci reader', prefix: key.slice(0, 8) });
    expect(JSON.stringify(listed.body)).not.toContain(key);

    const { rows } = await h.db.query<Record<string, unknown>>('SELECT * FROM api_keys WHERE id = $1', [created.body.id]);
    expect(rows[0].key_hash).toBe(createHash('sha256').update(key).digest('hex'));
    const everything = await h.db.query('SELECT * FROM api_keys');
    expect(JSON.stringify(everything.rows)).not.toContain(key.slice(4));

    expect((await api(h, 'GET', '/v1/workflows', undefined, { key })).status).toBe(200);
    const denied = await api(h, 'POST', '/v1/workflows', { name: 'x', definition: {} }, { key });
    expect(denied.status).toBe(403);
    expect(denied.body.error).toMatchObject({ code: 'forbidden', details: [{ scope: 'workflows:write' }] });
  });

  it('stops accepting a revoked key on the very next request', async () => {
    const { body } = await api(h, 'POST', '/v1/api-keys', { name: 'short-lived', scopes: ['workflows:read'] });
    expect((await api(h, 'GET', '/v1/workflows', undefined, { key: body.key })).status).toBe(200);
    const revoked = await api(h, 'DELETE', `/v1/api-keys/${body.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).toEqual(expect.any(String));
    const after = await api(h, 'GET', '/v1/workflows', undefined, { key: body.key });
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('unauthenticated');
    expect((await api(h, 'GET', '/v1/api-keys')).body.apiKeys.map((k: { id: string }) => k.id)).not.toContain(body.id);
    expect((await api(h, 'GET', '/v1/api-keys?includeRevoked=true')).body.apiKeys.map((k: { id: string }) => k.id)).toContain(body.id);
    expect((await api(h, 'DELETE', '/v1/api-keys/key_nope')).status).toBe(404);
  });

  it('refuses to hand out scopes its maker does not hold, and bad bodies with paths', async () => {
    const { body: manager } = await api(h, 'POST', '/v1/api-keys', { name: 'key manager', scopes: ['keys:manage', 'workflows:read'] });
    const escalation = await api(h, 'POST', '/v1/api-keys', { name: 'sneaky', scopes: ['workflows:read', 'pii:read'] }, { key: manager.key });
    expect(escalation.status).toBe(403);
    expect(escalation.body.error.details).toEqual([expect.objectContaining({ path: '/scopes/1', code: 'missing_scope' })]);
    expect((await api(h, 'POST', '/v1/api-keys', { name: 'fine', scopes: ['workflows:read'] }, { key: manager.key })).status).toBe(201);

    const bad = await api(h, 'POST', '/v1/api-keys', { name: '', scopes: ['root'] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['/name', '/scopes/0']);
  });

  it('answers 401 for a malformed Authorization header or an unknown key', async () => {
    for (const header of ['Basic abc', 'Bearer', 'Bearer idw_unknown', `Bearer ${'idw_' + 'x'.repeat(300)}`]) {
      const res = await api(h, 'GET', '/v1/workflows', undefined, { key: null, headers: { authorization: header } });
      expect({ header, status: res.status, code: res.body.error.code }).toEqual({ header, status: 401, code: 'unauthenticated' });
    }
  });

  it('accepts upstream events by signature, or by a key with events:write instead', async () => {
    expect((await postEvent(h, { id: 'evt_signed', type: 'inquiry.created', objectId: 'inq_1' })).status).toBe(202);
    const { body: sender } = await api(h, 'POST', '/v1/api-keys', { name: 'sender', scopes: ['events:write'] });
    const byKey = await api(h, 'POST', '/v1/events', { id: 'evt_keyed', type: 'inquiry.created', objectId: 'inq_2' }, { key: sender.key });
    expect(byKey.status).toBe(202);
    const { body: reader } = await api(h, 'POST', '/v1/api-keys', { name: 'reader', scopes: ['objects:read'] });
    const noScope = await api(h, 'POST', '/v1/events', { id: 'evt_denied', type: 'inquiry.created' }, { key: reader.key });
    expect(noScope.status).toBe(403);
    const unsigned = await api(h, 'POST', '/v1/events', { id: 'evt_unsigned', type: 'inquiry.created' }, { key: null });
    expect(unsigned.status).toBe(401);
    const ids = (await api(h, 'GET', '/v1/events')).body.events.map((e: { id: string }) => e.id);
    expect(ids).toEqual(expect.arrayContaining(['evt_signed', 'evt_keyed']));
    expect(ids).not.toContain('evt_denied');
    expect(ids).not.toContain('evt_unsigned');
  });
});
