/**
 * The review's (issue 13) smaller access and PII findings, each tried as
 * an attacker would: roles beyond the caller's scopes (6), list values in
 * events (7), personal data in the audit log and the request log (8),
 * TRUST_PROXY (11), prototype names as filter fields (12), bodies that are
 * not JSON (14), personal field names and `x-pii` (9).
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { Writable } from 'node:stream';
import { ApiKeyStore } from '../src/auth/api-keys';
import { isPiiName, MASK, maskPii } from '../src/auth/pii-masking';
import { ROLE_SCOPES } from '../src/auth/scopes';
import { createApp, type AppDeps } from '../src/api/app';
import { loadConfig, parseTrustProxy } from '../src/config';
import { createLogger } from '../src/observability/logger';
import { api, createHarness, createUser, type Harness } from './support/harness';

let h: Harness;
const servers: Server[] = [];

beforeAll(async () => {
  h = await createHarness({ worker: false });
}, 60_000);
afterAll(async () => {
  for (const s of servers) await new Promise<void>((resolve) => s.close(() => resolve()));
  await h?.close();
});

/** Another app on the harness's database and Temporal, with its own options; its base URL. */
async function serve(extra: Partial<AppDeps>): Promise<string> {
  const app = createApp({
    db: h.db,
    workflows: h.workflows,
    registry: h.registry,
    runs: undefined as never,
    credentials: h.credentials,
    eventsSigningSecret: h.eventsSecret,
    ...extra,
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const keyWith = async (scopes: readonly string[]) => (await new ApiKeyStore(h.db).create({ name: `scopes ${scopes.join(' ')}`, scopes: scopes as never })).key;

describe('6: users:manage cannot hand out more than the caller holds', () => {
  it('refuses to create (or enable, or disable) a user whose role exceeds the caller', async () => {
    const onlyUsers = await keyWith(['users:manage']);
    const viewerAndUsers = await keyWith([...ROLE_SCOPES.viewer, 'users:manage']);
    const password = 'a long enough password';
    for (const role of ['admin', 'editor', 'viewer']) {
      const res = await api(h, 'POST', '/v1/users', { email: `${role}-1@example.com`, password, role }, { key: onlyUsers });
      expect({ role, status: res.status, code: res.body.error?.code, path: res.body.error?.details?.[0]?.path }).toEqual({ role, status: 403, code: 'forbidden', path: '/role' });
    }
    for (const role of ['admin', 'editor']) {
      const res = await api(h, 'POST', '/v1/users', { email: `${role}-2@example.com`, password, role }, { key: viewerAndUsers });
      expect({ role, status: res.status }).toEqual({ role, status: 403 });
    }
    expect((await api(h, 'POST', '/v1/users', { email: 'viewer-2@example.com', password, role: 'viewer' }, { key: viewerAndUsers })).status).toBe(201);
    // No admin was made: nobody of those can sign in.
    expect((await api(h, 'POST', '/v1/auth/login', { email: 'admin-1@example.com', password }, { key: null })).status).toBe(401);
    // An all-scopes caller may make an admin.
    const admin = await api(h, 'POST', '/v1/users', { email: 'admin-3@example.com', password, role: 'admin' });
    expect(admin.status).toBe(201);
    // Disabling or re-enabling an admin is an admin's business too.
    for (const verb of ['disable', 'enable']) {
      const res = await api(h, 'POST', `/v1/users/${admin.body.id}/${verb}`, {}, { key: viewerAndUsers });
      expect({ verb, status: res.status }).toEqual({ verb, status: 403 });
    }
    expect((await api(h, 'POST', `/v1/users/${admin.body.id}/disable`, {})).status).toBe(200);
  });
});

describe('7: list item values in GET /v1/events', () => {
  it('are masked without pii:read, as the Idw-Pii header says', async () => {
    const list = await api(h, 'POST', '/v1/lists', { name: 'blocked e-mails', kind: 'email' });
    expect((await api(h, 'POST', `/v1/lists/${list.body.id}/items`, { value: 'leaky@example.com' })).status).toBe(201);
    const viewer = await keyWith(ROLE_SCOPES.viewer);
    const masked = await fetch(`${h.baseUrl}/v1/events?objectId=${list.body.id}`, { headers: { authorization: `Bearer ${viewer}` } });
    expect(masked.headers.get('idw-pii')).toBe('masked');
    const body = (await masked.json()) as { events: { type: string; data: { value?: unknown } }[] };
    const added = body.events.filter((e) => e.type.startsWith('list.item'));
    expect(added.length).toBeGreaterThan(0);
    for (const e of added) expect(e.data.value).toBe(MASK);
    expect(JSON.stringify(body)).not.toContain('leaky');
    const reader = await keyWith(['objects:read', 'pii:read']);
    const shown = await api(h, 'GET', `/v1/events?objectId=${list.body.id}`, undefined, { key: reader });
    expect(shown.body.events.find((e: { type: string }) => e.type.startsWith('list.item')).data.value).toBe('leaky@example.com');
  });
});

describe('8: personal data in a path stays out of the audit log and the request log', () => {
  it('keeps the route pattern in both', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({
      destination: new Writable({
        write(chunk, _encoding, done) {
          for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
          done();
        },
      }),
    });
    const base = await serve({ logger });
    const list = await api(h, 'POST', '/v1/lists', { name: 'watch', kind: 'email' });
    const listId = list.body.id as string;
    expect((await api(h, 'POST', `/v1/lists/${listId}/items`, { value: 'victim@example.com' })).status).toBe(201);
    const removed = await fetch(`${base}/v1/lists/${listId}/items/victim%40example.com?note=victim@example.com`, { method: 'DELETE', headers: { authorization: `Bearer ${h.apiKey}` } });
    expect(removed.status).toBe(200);
    const unmatched = await fetch(`${base}/v1/nothing/victim@example.com`, { headers: { authorization: `Bearer ${h.apiKey}` } });
    expect(unmatched.status).toBe(404);

    const audit = await api(h, 'GET', `/v1/audit?action=list.item_removed&target=${listId}`);
    expect(audit.body.entries).toHaveLength(1);
    expect(audit.body.entries[0].details).toEqual({ method: 'DELETE', path: '/v1/lists/:id/items/:value', status: 200 });
    const { rows } = await h.db.query<{ row: string }>('SELECT row_to_json(a)::text AS row FROM audit_log a');
    expect(rows.filter((r) => /victim/.test(r.row))).toEqual([]);

    const deleted = lines.find((l) => (l.req as { method?: string } | undefined)?.method === 'DELETE');
    expect(deleted).toMatchObject({ msg: 'DELETE /v1/lists/:id/items/:value 200', route: '/v1/lists/:id/items/:value' });
    expect(lines.find((l) => (l.res as { statusCode?: number } | undefined)?.statusCode === 404)).toMatchObject({ route: '[unmatched]', msg: 'GET [unmatched] 404' });
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(lines)).not.toContain('victim');
  });
});

describe('11: TRUST_PROXY', () => {
  const password = 'proxy user password';
  beforeAll(async () => {
    await createUser(h, { email: 'proxied@example.com', password, role: 'viewer' });
  });
  const login = (base: string, headers: Record<string, string>, pass = password) =>
    fetch(`${base}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ email: 'proxied@example.com', password: pass }) });
  const limits = { triggersPerMinute: 0, eventsPerMinute: 0, loginFailuresPerMinute: 2 };

  it('is validated: off by default, true refused, hops or addresses', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(parseTrustProxy('1')).toBe(1);
    expect(parseTrustProxy('loopback, 10.0.0.0/8, fd00::/8')).toEqual(['loopback', '10.0.0.0/8', 'fd00::/8']);
    for (const bad of ['true', 'proxy.example.com', '10.0.0.0/33', '99']) {
      expect(() => loadConfig({ TRUST_PROXY: bad })).toThrow(/TRUST_PROXY/);
    }
  });

  it('behind a trusted proxy: cookies keep Secure, and failed sign-ins count per client address', async () => {
    const base = await serve({ trustProxy: ['loopback'], rateLimits: limits });
    const ok = await login(base, { 'x-forwarded-proto': 'https', 'x-forwarded-for': '198.51.100.1' });
    expect(ok.status).toBe(200);
    const cookies = ok.headers.getSetCookie();
    expect(cookies.length).toBe(2);
    for (const c of cookies) expect(c).toMatch(/;\s*Secure/i);
    for (let i = 0; i < 2; i++) expect((await login(base, { 'x-forwarded-for': '198.51.100.7' }, 'wrong password!')).status).toBe(401);
    expect((await login(base, { 'x-forwarded-for': '198.51.100.7' }, 'wrong password!')).status).toBe(429);
    // Another client behind the same proxy is not locked out.
    expect((await login(base, { 'x-forwarded-for': '198.51.100.8' }, 'wrong password!')).status).toBe(401);
  });

  it('by default: X-Forwarded-* are ignored, so a client cannot pick its address or claim HTTPS', async () => {
    const base = await serve({ rateLimits: limits });
    const ok = await login(base, { 'x-forwarded-proto': 'https' });
    expect(ok.status).toBe(200);
    for (const c of ok.headers.getSetCookie()) expect(c).not.toMatch(/;\s*Secure/i);
    for (let i = 0; i < 2; i++) expect((await login(base, { 'x-forwarded-for': `203.0.113.${i}` }, 'wrong password!')).status).toBe(401);
    expect((await login(base, { 'x-forwarded-for': '203.0.113.99' }, 'wrong password!')).status).toBe(429);
  });
});

describe('12: prototype names as recurring-trigger filter fields', () => {
  const NAMES = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString', '__defineGetter__', '__lookupSetter__', 'prototype'];
  const definition = (filter: unknown) => ({
    trigger: { type: 'recurring', cron: '0 3 * * *', timezone: 'Europe/London', objectType: 'account', filter },
    steps: [{ id: 'done', type: 'end' }],
  });

  it.each(NAMES)('"%s" is an unknown field with its path, never a 500', async (name) => {
    const checked = await api(h, 'POST', '/v1/definitions/validate', definition({ field: name, op: 'eq', value: 'x' }));
    expect(checked.status).toBe(200);
    expect(checked.body.valid).toBe(false);
    expect(checked.body.problems).toEqual([expect.objectContaining({ path: '/trigger/filter/field' })]);
    const nested = await api(h, 'POST', '/v1/definitions/validate', definition({ all: [{ not: { field: name, op: 'exists' } }] }));
    expect(nested.body.problems).toEqual([expect.objectContaining({ path: '/trigger/filter/all/0/not/field' })]);
    const saved = await api(h, 'POST', '/v1/workflows', { id: `proto_${NAMES.indexOf(name)}`, name, definition: definition({ field: name, op: 'eq', value: 'x' }) });
    expect(saved.status).toBe(400);
    expect(JSON.stringify(saved.body.error.details)).toContain('/trigger/filter/field');
  });
});

describe('14: bodies that are not JSON', () => {
  const post = (path: string, body: string, type: string | undefined) =>
    fetch(`${h.baseUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${h.apiKey}`, ...(type ? { 'content-type': type } : {}) }, body });

  it('answers 415 for another media type where a route takes JSON, and starts nothing', async () => {
    await api(h, 'POST', '/v1/workflows', { id: 'plain_flow', name: 'Plain', definition: { trigger: { type: 'api' }, steps: [{ id: 'done', type: 'end' }] } });
    for (const [type, body] of [
      ['text/plain', '{"id":"sneaky","name":"x"}'],
      ['application/x-www-form-urlencoded', 'id=sneaky&name=x'],
      ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="id"\r\n\r\nsneaky\r\n--x--'],
      [undefined, '{"id":"sneaky"}'],
    ] as const) {
      const res = await post('/v1/workflows', body, type);
      expect({ type, status: res.status }).toEqual({ type, status: 415 });
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unsupported_media_type');
    }
    expect((await api(h, 'GET', '/v1/workflows/sneaky')).status).toBe(404);
    const run = await post('/v1/workflows/plain_flow/runs', 'email=a@example.com', 'application/x-www-form-urlencoded');
    expect(run.status).toBe(415);
    const unsigned = await fetch(`${h.baseUrl}/v1/events`, { method: 'POST', headers: { 'content-type': 'text/plain', authorization: `Bearer ${h.apiKey}` }, body: '{}' });
    expect(unsigned.status).toBe(415);
    // JSON with a charset is JSON.
    expect((await post('/v1/definitions/validate', '{"trigger":{"type":"api"},"steps":[{"id":"done","type":"end"}]}', 'application/json; charset=utf-8')).status).toBe(200);
  });

  it.each([
    ['a truncated object', '{"id": "x", "name": ', { offset: 20, line: 1, column: 21 }],
    ['a missing comma', '{"id": "x" "name": "y"}', { offset: 11, line: 1, column: 12 }],
    ['a bad literal on line 3', '{\n  "id": "x",\n  "name": tru\n}', { offset: 25, line: 3, column: 11 }],
    ['a trailing comma', '{"id": "x",}', { offset: 11, line: 1, column: 12 }],
  ])('says where %s broke (400 invalid_json)', async (_name, body, at) => {
    const res = await post('/v1/workflows', body, 'application/json');
    expect(res.status).toBe(400);
    const answer = (await res.json()) as { error: { code: string; message: string; details: Record<string, unknown>[] } };
    expect(answer.error.code).toBe('invalid_json');
    expect(answer.error.details[0]).toMatchObject(at);
    expect(answer.error.message).toContain(`line ${at.line}, column ${at.column}`);
  });
});

describe('the audit log and refused attempts', () => {
  it('writes no entry for a refused change (as documented), and one for the allowed one', async () => {
    const weak = await keyWith(['workflows:read']);
    expect((await api(h, 'POST', '/v1/workflows', { id: 'refused_flow', name: 'x', definition: { trigger: { type: 'api' }, steps: [{ id: 'done', type: 'end' }] } }, { key: weak })).status).toBe(403);
    expect((await api(h, 'GET', '/v1/audit?target=refused_flow')).body.entries).toEqual([]);
  });
});

describe('9: personal field names, in any case and spelling, and fields a schema marks "x-pii"', () => {
  it('recognises names by their parts, case-insensitively, and not a thing\'s name', () => {
    for (const name of ['name', 'Name', 'NAME', 'Email', 'EMAIL', 'applicant_email', 'applicantEmail', 'Applicant-Email', 'passport', 'Passport_Number', 'customerName', 'first_name', 'FirstName', 'dateOfBirth', 'date_of_birth', 'ssn', 'mobile', 'birthdate', 'contact_phone']) {
      expect({ name, pii: isPiiName(name) }).toEqual({ name, pii: true });
    }
    for (const name of ['workflowName', 'list_name', 'stepName', 'riskScore', 'country', 'status', 'id', 'emailCount_x'.replace('_x', 'Total'), 'type']) {
      expect({ name, pii: isPiiName(name) }).toEqual({ name, pii: false });
    }
  });

  it("masks the trigger input of the project's own examples/screen-and-notify.json", () => {
    const example = JSON.parse(readFileSync(join(__dirname, '..', 'examples', 'screen-and-notify.json'), 'utf8'));
    const props = Object.keys(example.definition.trigger.inputSchema.properties);
    const input = Object.fromEntries(props.map((p) => [p, `value of ${p}`]));
    const masked = maskPii({ trigger: input }, { mask: true }) as { trigger: Record<string, unknown> };
    for (const p of props.filter((p) => p !== 'country')) expect({ p, value: masked.trigger[p] }).toEqual({ p, value: MASK });
  });

  it('accepts "x-pii": true in an input schema (a boolean only), and masks those fields wherever they appear', async () => {
    const definition = (xPii: unknown) => ({
      trigger: { type: 'api', inputSchema: { type: 'object', properties: { customer_ref: { type: 'string', 'x-pii': xPii }, nested: { type: 'object', properties: { loyaltyCard: { type: 'string', 'x-pii': true } } } } } },
      steps: [{ id: 'done', type: 'end' }],
    });
    expect((await api(h, 'POST', '/v1/definitions/validate', definition(true))).body).toEqual({ valid: true, problems: [] });
    expect((await api(h, 'POST', '/v1/definitions/validate', definition('yes'))).body.valid).toBe(false);

    const event = { id: 'evt_xpii_1', type: 'partner.signup', data: { customerRef: 'CR-SECRET-77', nested: { LOYALTY_CARD: 'LC-SECRET-88' }, Email: 'upper@example.com', applicant_email: 'app@example.com', passport: 'P-SECRET-99', name: 'Secret Person', plan: 'gold' } };
    expect((await api(h, 'POST', '/v1/events', event, { key: h.apiKey })).status).toBe(202);
    const viewer = await keyWith(ROLE_SCOPES.viewer);
    const before = await api(h, 'GET', '/v1/events?type=partner.signup', undefined, { key: viewer });
    // Not marked yet: the schema's fields show; the built-in names do not.
    expect(JSON.stringify(before.body)).toContain('CR-SECRET-77');
    for (const secret of ['upper@example.com', 'app@example.com', 'P-SECRET-99', 'Secret Person']) expect(JSON.stringify(before.body)).not.toContain(secret);

    expect((await api(h, 'POST', '/v1/workflows', { id: 'xpii_flow', name: 'x-pii', definition: definition(true) })).status).toBe(201);
    const after = await api(h, 'GET', '/v1/events?type=partner.signup', undefined, { key: viewer });
    const data = after.body.events[0].data;
    expect(data).toEqual({ customerRef: MASK, nested: { LOYALTY_CARD: MASK }, Email: MASK, applicant_email: MASK, passport: MASK, name: MASK, plan: 'gold' });
    const shown = await api(h, 'GET', '/v1/events?type=partner.signup');
    expect(shown.body.events[0].data.customerRef).toBe('CR-SECRET-77');
  });
});

describe('9: redaction follows the names and the schema too', () => {
  it("nulls personal values in upstream events' data about the redacted inquiry", async () => {
    const definition = { trigger: { type: 'api', inputSchema: { type: 'object', properties: { memberCode: { type: 'string', 'x-pii': true } } } }, steps: [{ id: 'done', type: 'end' }] };
    expect((await api(h, 'POST', '/v1/workflows', { id: 'xpii_redact', name: 'x-pii redact', definition })).status).toBe(201);
    const inquiry = await api(h, 'POST', '/v1/inquiries', { template: 'kyc', fields: { name_first: 'Red', email: 'red@example.com' } });
    const event = { id: 'evt_redact_1', type: 'partner.update', objectType: 'inquiry', objectId: inquiry.body.id, data: { member_code: 'MC-SECRET-1', applicantEmail: 'red@example.com', Name: 'Red Acted', plan: 'gold' } };
    expect((await api(h, 'POST', '/v1/events', event, { key: h.apiKey })).status).toBe(202);
    expect((await api(h, 'POST', `/v1/inquiries/${inquiry.body.id}/redact`, {})).status).toBe(200);
    const { rows } = await h.db.query<{ data: unknown; snapshot: unknown }>('SELECT data, snapshot FROM events WHERE id = $1', ['evt_redact_1']);
    expect(rows[0].data).toEqual({ member_code: null, applicantEmail: null, Name: null, plan: 'gold' });
    const all = await h.db.query<{ row: string }>('SELECT row_to_json(e)::text AS row FROM events e WHERE object_id = $1', [inquiry.body.id]);
    expect(all.rows.filter((r) => /MC-SECRET|red@example|Red Acted/.test(r.row))).toEqual([]);
  });
});
