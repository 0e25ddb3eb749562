/**
 * The audit log: each kind of action leaves an entry naming its principal,
 * GET /v1/audit filters them, failed requests leave none, and the table
 * refuses to change what it holds.
 */
import { api, createHarness, publishWorkflow, startRun, type Harness } from './support/harness';

let h: Harness;
let harnessKeyId: string;
beforeAll(async () => {
  h = await createHarness();
  const { rows } = await h.db.query<{ id: string }>(`SELECT id FROM api_keys WHERE name = 'test harness'`);
  harnessKeyId = rows[0].id;
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const entries = async (query: string): Promise<any[]> => {
  const res = await api(h, 'GET', `/v1/audit?${query}`);
  expect(res.status).toBe(200);
  return res.body.entries;
};

const waiting = { trigger: { type: 'api' }, steps: [{ id: 'pause', type: 'wait_for_time', duration: '1h' }] };

describe('audit entries', () => {
  it('records workflows created, changed and published, runs triggered and cancelled', async () => {
    const since = new Date().toISOString();
    await publishWorkflow(h, 'audited_flow', waiting);
    expect((await api(h, 'PUT', '/v1/workflows/audited_flow', { name: 'Audited flow' })).status).toBe(200);
    const runId = await startRun(h, 'audited_flow', {});
    expect((await api(h, 'POST', `/v1/runs/${runId}/cancel`)).status).toBe(202);

    const all = await entries(`since=${encodeURIComponent(since)}&actor=${harnessKeyId}`);
    const actions = all.map((e) => `${e.action} ${e.target}`).reverse();
    expect(actions).toEqual([
      'workflow.created audited_flow',
      'workflow.published audited_flow',
      'workflow.updated audited_flow',
      `run.triggered ${runId}`,
      `run.cancelled ${runId}`,
    ]);
    expect(all[0]).toEqual({
      id: expect.any(Number),
      at: expect.any(String),
      actor: { kind: 'api_key', id: harnessKeyId, label: 'test harness' },
      action: 'run.cancelled',
      target: runId,
      details: { method: 'POST', path: '/v1/runs/:id/cancel', status: 202 },
    });
    expect(all.find((e) => e.action === 'run.triggered').details.id).toBe('audited_flow');
    // A family of actions.
    expect((await entries('action=run.*')).map((e) => e.action).sort()).toEqual(['run.cancelled', 'run.triggered']);
  });

  it('records object changes and redactions, with their target', async () => {
    const inquiry = await api(h, 'POST', '/v1/inquiries', { template: 'kyc', fields: { email: 'z@example.com' } });
    const id = inquiry.body.id;
    expect((await api(h, 'PATCH', `/v1/inquiries/${id}`, { fields: { phone: '+4420794600' } })).status).toBe(200);
    await api(h, 'POST', `/v1/inquiries/${id}/tags`, { tag: 'checked' });
    await api(h, 'POST', `/v1/inquiries/${id}/redact`, {});
    const forId = await entries(`target=${id}`);
    expect(forId.map((e) => e.action).filter((a) => a !== 'pii.read').reverse()).toEqual(['object.created', 'object.updated', 'object.tag_added', 'object.redacted']);
    expect(JSON.stringify(forId)).not.toContain('z@example.com');
  });

  it('records keys made and revoked, users made and disabled, sign-ins and failed sign-ins', async () => {
    const key = await api(h, 'POST', '/v1/api-keys', { name: 'audited key', scopes: ['workflows:read'] });
    await api(h, 'DELETE', `/v1/api-keys/${key.body.id}`);
    expect((await entries(`target=${key.body.id}`)).map((e) => e.action)).toEqual(['api_key.revoked', 'api_key.created']);
    // The key itself is never logged.
    expect(JSON.stringify(await entries('action=api_key.created'))).not.toContain(key.body.key);

    const user = await api(h, 'POST', '/v1/users', { email: 'audited@example.com', password: 'audited password', role: 'editor' });
    const login = (password: string) =>
      fetch(`${h.baseUrl}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'audited@example.com', password }) });
    expect((await login('wrong password')).status).toBe(401);
    const ok = await login('audited password');
    const cookie = ok.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const { csrfToken } = (await ok.json()) as { csrfToken: string };
    // The session's user is the actor of what it does.
    const created = await fetch(`${h.baseUrl}/v1/accounts`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrfToken, 'content-type': 'application/json' }, body: '{}' });
    expect(created.status).toBe(201);
    await fetch(`${h.baseUrl}/v1/auth/logout`, { method: 'POST', headers: { cookie } });
    await api(h, 'POST', `/v1/users/${user.body.id}/disable`);

    expect((await entries(`target=${user.body.id}`)).map((e) => e.action)).toEqual(['user.disabled', 'auth.logout', 'auth.login', 'user.created']);
    const byUser = await entries('actor=audited@example.com');
    expect(byUser.map((e) => e.action)).toEqual(['auth.logout', 'object.created', 'auth.login', 'auth.login_failed']);
    expect(byUser[1].actor).toEqual({ kind: 'user', id: user.body.id, label: 'audited@example.com' });
    expect(byUser[3]).toMatchObject({ actor: { kind: 'anonymous', label: 'audited@example.com' }, target: null });
  });

  it('records credential changes without their secrets', async () => {
    const created = await api(h, 'POST', '/v1/credentials', { kind: 'slack', name: 'alerts', secret: { token: 'xoxb-very-secret' } });
    expect(created.status).toBe(201);
    const logged = await entries(`target=${created.body.id}`);
    expect(logged.map((e) => e.action)).toEqual(['credential.created']);
    expect(JSON.stringify(logged)).not.toContain('xoxb-very-secret');
  });

  it('writes nothing for a request that failed', async () => {
    const before = (await entries('action=workflow.created')).length;
    expect((await api(h, 'POST', '/v1/workflows', { id: 'broken_flow', name: 'x', definition: { trigger: { type: 'nope' } } })).status).toBe(400);
    expect((await entries('action=workflow.created')).length).toBe(before);
  });
});

describe('GET /v1/audit', () => {
  it('pages with limit and nextBefore, newest first', async () => {
    const first = await api(h, 'GET', '/v1/audit?limit=2');
    expect(first.body.entries).toHaveLength(2);
    expect(first.body.entries[0].id).toBeGreaterThan(first.body.entries[1].id);
    const next = await api(h, 'GET', `/v1/audit?limit=2&before=${first.body.nextBefore}`);
    expect(next.body.entries[0].id).toBeLessThan(first.body.entries[1].id);
  });

  it('rejects bad filters with their paths, and needs audit:read', async () => {
    const bad = await api(h, 'GET', '/v1/audit?since=yesterday&limit=0&action=DROP%20TABLE');
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['/action', '/limit', '/since']);
    const key = await api(h, 'POST', '/v1/api-keys', { name: 'no audit', scopes: ['workflows:read'] });
    expect((await api(h, 'GET', '/v1/audit', undefined, { key: key.body.key })).status).toBe(403);
  });
});

describe('append-only', () => {
  it('refuses to update, delete or truncate entries', async () => {
    await expect(h.db.query(`UPDATE audit_log SET action = 'nothing'`)).rejects.toThrow(/append-only/);
    await expect(h.db.query('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
    await expect(h.db.query('TRUNCATE audit_log')).rejects.toThrow(/append-only/);
    expect((await entries('limit=1')).length).toBe(1);
  });
});
