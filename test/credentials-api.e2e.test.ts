/**
 * /v1/credentials and /v1/request-templates over real HTTP, on the real
 * PostgreSQL server: secrets go in and never come out (not in any answer,
 * not in the row), bad secrets get a 400 naming each path, unknown ids a
 * 404, and a credential a template uses cannot be deleted.
 */
import { api, createHarness, type Harness } from './support/harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ worker: false });
});
afterAll(async () => {
  await h?.close();
});

const SECRET_VALUES = ['tw1l10-AUTH-token', 'AC-account-sid-123', 'p4ss-W0RD-smtp', 'xoxb-slack-SECRET'];

/** Every answer of this file is checked against every secret value. */
async function call(method: string, path: string, body?: unknown) {
  const res = await api(h, method, path, body);
  const text = JSON.stringify(res.body ?? '');
  for (const secret of SECRET_VALUES) expect(text).not.toContain(secret);
  return res;
}

describe('credentials', () => {
  it('creates, reads, lists, replaces and deletes, never answering with the secret', async () => {
    const created = await call('POST', '/v1/credentials', {
      kind: 'twilio',
      name: 'SMS account',
      secret: { accountSid: 'AC-account-sid-123', authToken: 'tw1l10-AUTH-token', from: '+15550100' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^cred_[0-9a-z]+$/),
      kind: 'twilio',
      name: 'SMS account',
      secretFields: ['accountSid', 'authToken', 'from'],
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const id = created.body.id;

    const read = await call('GET', `/v1/credentials/${id}`);
    expect(read).toEqual({ status: 200, body: created.body });
    const listed = await call('GET', '/v1/credentials?kind=twilio');
    expect(listed.body.credentials.map((c: { id: string }) => c.id)).toContain(id);
    expect((await call('GET', '/v1/credentials?kind=smtp')).body.credentials.map((c: { id: string }) => c.id)).not.toContain(id);

    const replaced = await call('PUT', `/v1/credentials/${id}`, { name: 'SMS (EU)', secret: { accountSid: 'AC-account-sid-123', authToken: 'tw1l10-AUTH-token', messagingServiceSid: 'MG1' } });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ id, name: 'SMS (EU)', secretFields: ['accountSid', 'authToken', 'messagingServiceSid'] });
    expect(await h.credentials.resolve(id, 'twilio')).toEqual({ accountSid: 'AC-account-sid-123', authToken: 'tw1l10-AUTH-token', messagingServiceSid: 'MG1' });

    // At rest: only ciphertext.
    const { rows } = await h.db.query('SELECT * FROM credentials WHERE id = $1', [id]);
    for (const secret of SECRET_VALUES) expect(JSON.stringify(rows)).not.toContain(secret);

    expect((await call('DELETE', `/v1/credentials/${id}`)).status).toBe(204);
    expect((await call('GET', `/v1/credentials/${id}`)).body.error).toEqual({ code: 'not_found', message: `no credential "${id}"` });
  });

  it('answers a secret that does not fit its kind with 400 and the path of every problem, storing nothing', async () => {
    const before = (await call('GET', '/v1/credentials')).body.credentials.length;
    const bad = await call('POST', '/v1/credentials', { kind: 'smtp', name: 'relay', secret: { host: 'smtp.example.com', port: '587', password: 'p4ss-W0RD-smtp', tls: true } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_request');
    expect(bad.body.error.message).toBe('the secret does not fit a smtp credential');
    expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['/secret', '/secret/port']);
    expect(bad.body.error.details.find((d: { path: string }) => d.path === '/secret').message).toMatch(/tls/);

    const nested = await call('POST', '/v1/credentials', { kind: 'https', name: 'hook', secret: { allowedHosts: ['hooks.example.com'], basicAuth: { username: 'u' } } });
    expect(nested.body.error.details.map((d: { path: string }) => d.path)).toEqual(['/secret/basicAuth/password']);

    const envelope = await call('POST', '/v1/credentials', { kind: 'ftp', secret: {}, extra: 1 });
    expect(envelope.status).toBe(400);
    expect(envelope.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['/', '/kind', '/name']);
    expect((await call('POST', '/v1/credentials', { kind: 'slack', name: 'no secret' })).body.error.details).toEqual([{ path: '/secret', message: 'a secret is required' }]);

    expect((await call('GET', '/v1/credentials')).body.credentials.length).toBe(before);
  });

  it('checks a replacement secret against the kind the credential already has', async () => {
    const slack = await call('POST', '/v1/credentials', { kind: 'slack', name: 'alerts', secret: { token: 'xoxb-slack-SECRET' } });
    const wrong = await call('PUT', `/v1/credentials/${slack.body.id}`, { secret: { accountSid: 'x', authToken: 'y' } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['/secret', '/secret/token']);
    expect(await h.credentials.resolve(slack.body.id, 'slack')).toEqual({ token: 'xoxb-slack-SECRET' });
    expect((await call('PUT', '/v1/credentials/cred_nothere', { secret: { token: 't' } })).status).toBe(404);
    expect((await call('DELETE', '/v1/credentials/cred_nothere')).status).toBe(404);
    expect((await call('GET', '/v1/credentials?kind=carrier-pigeon')).body.error.details[0].path).toBe('/kind');
  });
});

describe('the addresses a credential points at are checked when saved (finding 17)', () => {
  it('refuses base URLs and an SMTP host on private, loopback or metadata addresses, and plain http, with the path; stores nothing', async () => {
    const before = (await call('GET', '/v1/credentials')).body.credentials.length;
    const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
      ['hubspot', { accessToken: 'pat-1', basePath: 'https://10.0.0.5/crm' }, '/secret/basePath', /10\.0\.0\.5 is a private address/],
      ['twilio', { accountSid: 'AC1', authToken: 'x', baseUrl: 'https://169.254.169.254/' }, '/secret/baseUrl', /169\.254\.169\.254 is a cloud metadata address/],
      ['slack', { token: 'xoxb-1', apiUrl: 'http://192.168.1.20/api/' }, '/secret/apiUrl', /192\.168\.1\.20 is a private address/],
      ['zendesk', { email: 'a@b.c', token: 't', remoteUri: 'https://[fd12::1]/api/v2' }, '/secret/remoteUri', /a unique-local/],
      ['salesforce', { instanceUrl: 'https://login.example.com', loginUrl: 'ftp://10.1.1.1/' }, '/secret/loginUrl', /only https URLs may be requested/],
      ['smtp', { host: '10.9.9.9', port: 587, user: 'u', password: 'p4ss-W0RD-smtp' }, '/secret/host', /10\.9\.9\.9 is a private address/],
    ];
    for (const [kind, secret, path, message] of cases) {
      const res = await call('POST', '/v1/credentials', { kind, name: `bad ${kind}`, secret });
      expect([kind, res.status]).toEqual([kind, 400]);
      expect(res.body.error.details).toEqual([{ path, message: expect.stringMatching(message) }]);
    }
    // The hint for loopback over plain http names the loopback address, not "use https://127.0.0.2".
    const loopback = await call('POST', '/v1/credentials', { kind: 'twilio', name: 'lo', secret: { accountSid: 'AC1', authToken: 'x', baseUrl: 'http://127.0.0.2:8080' } });
    expect(loopback.body.error.details).toEqual([{ path: '/secret/baseUrl', message: "127.0.0.2 is a loopback address; only an operator's network allow-list can open it" }]);
    expect(JSON.stringify(loopback.body)).not.toContain('use https://');
    expect((await call('GET', '/v1/credentials')).body.credentials.length).toBe(before);
  });

  it('refuses the same on replacement (PUT), and accepts what the allow-list names (this harness lists 127.0.0.1)', async () => {
    const ok = await call('POST', '/v1/credentials', { kind: 'hubspot', name: 'peer', secret: { accessToken: 'pat-1', basePath: 'http://127.0.0.1:9/' } });
    expect(ok.status).toBe(201);
    const bad = await call('PUT', `/v1/credentials/${ok.body.id}`, { secret: { accessToken: 'pat-1', basePath: 'http://10.0.0.7/' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual([{ path: '/secret/basePath', message: expect.stringMatching(/10\.0\.0\.7 is a private address/) }]);
    expect(await h.credentials.resolve(ok.body.id, 'hubspot')).toEqual({ accessToken: 'pat-1', basePath: 'http://127.0.0.1:9/' });
    // A public name that does not resolve (yet) is accepted over https: it is checked again at every use.
    const later = await call('POST', '/v1/credentials', { kind: 'slack', name: 'later', secret: { token: 'xoxb-1', apiUrl: 'https://slack-proxy.invalid/api/' } });
    expect(later.status).toBe(201);
  });
});

describe('request templates', () => {
  it('CRUD, a credential reference that must be https, and a credential that cannot be deleted while used', async () => {
    const https = await call('POST', '/v1/credentials', { kind: 'https', name: 'partner', secret: { allowedHosts: ['partner.example.com'], bearerToken: 'tw1l10-AUTH-token' } });
    const slack = await call('POST', '/v1/credentials', { kind: 'slack', name: 'chat', secret: { token: 'xoxb-slack-SECRET' } });

    const created = await call('POST', '/v1/request-templates', {
      name: 'Partner webhook',
      description: 'Tell the partner about decisions',
      method: 'POST',
      url: 'https://partner.example.com/hooks/decisions',
      headers: { 'X-Source': 'identity-workflows' },
      credential: https.body.id,
      sign: false,
      timeoutMs: 5000,
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^rt_[0-9a-z]+$/),
      name: 'Partner webhook',
      description: 'Tell the partner about decisions',
      method: 'POST',
      url: 'https://partner.example.com/hooks/decisions',
      headers: { 'X-Source': 'identity-workflows' },
      credential: https.body.id,
      sign: false,
      timeoutMs: 5000,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const id = created.body.id;
    expect((await call('GET', `/v1/request-templates/${id}`)).body).toEqual(created.body);
    expect((await call('GET', '/v1/request-templates')).body.templates.map((t: { id: string }) => t.id)).toContain(id);

    const inUse = await call('DELETE', `/v1/credentials/${https.body.id}`);
    expect(inUse.status).toBe(409);
    expect(inUse.body.error).toEqual({ code: 'credential_in_use', message: `credential "${https.body.id}" is used by request template ${id}` });

    const wrongKind = await call('PUT', `/v1/request-templates/${id}`, { name: 'x', url: 'https://partner.example.com/', credential: slack.body.id });
    expect(wrongKind.status).toBe(400);
    expect(wrongKind.body.error.details).toEqual([{ path: '/credential', message: `credential "${slack.body.id}" is of kind slack; a request template needs one of kind https` }]);

    const replaced = await call('PUT', `/v1/request-templates/${id}`, { name: 'Partner webhook v2', url: 'https://partner.example.com/v2/hooks', method: 'PUT' });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ id, name: 'Partner webhook v2', method: 'PUT', url: 'https://partner.example.com/v2/hooks' });
    expect(replaced.body.credential).toBeUndefined();
    expect((await call('DELETE', `/v1/credentials/${https.body.id}`)).status).toBe(204);

    expect((await call('DELETE', `/v1/request-templates/${id}`)).status).toBe(204);
    expect((await call('GET', `/v1/request-templates/${id}`)).status).toBe(404);
  });

  it('validates a template at the edge: URL, method, header names and values, credential', async () => {
    const bad = await call('POST', '/v1/request-templates', {
      name: '',
      url: 'ftp://files.example.com/x',
      method: 'TRACE',
      headers: { 'Bad Header': 'x', Host: 'evil.example', 'X-Ok': 'line\r\nInjected: 1' },
      credential: 'not-a-credential',
      timeoutMs: 999999,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual([
      '/credential',
      '/headers/Bad Header',
      '/headers/Host',
      '/headers/X-Ok',
      '/method',
      '/name',
      '/timeoutMs',
      '/url',
    ]);
    const missing = await call('POST', '/v1/request-templates', { name: 'x', url: 'https://example.com/', credential: 'cred_nothere' });
    expect(missing.body.error.details).toEqual([{ path: '/credential', message: 'no credential "cred_nothere"' }]);
  });
});
