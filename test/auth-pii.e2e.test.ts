/**
 * PII masking: principals without pii:read (a viewer, a key without it) see
 * "***" where a person's data is, in objects, event snapshots, list items
 * and run state; with pii:read they see it, and the read is audited.
 */
import { ApiKeyStore } from '../src/auth/api-keys';
import { MASK, maskPii, type PiiScan } from '../src/auth/pii-masking';
import { ROLE_SCOPES, SCOPES } from '../src/auth/scopes';
import { api, createHarness, publishWorkflow, startRun, waitForRun, type Harness } from './support/harness';

let h: Harness;
let viewerKey: string;
let piiKey: string;
let writerKey: string;
let inquiryId: string;

const ada = { name_first: 'Ada', name_last: 'Lovelace', email: 'ada@example.com', birthdate: '1990-12-10', address: { city: 'London' }, country: 'GB' };

beforeAll(async () => {
  h = await createHarness();
  const keys = new ApiKeyStore(h.db);
  viewerKey = (await keys.create({ name: 'viewer', scopes: ROLE_SCOPES.viewer })).key;
  piiKey = (await keys.create({ name: 'pii reader', scopes: ['objects:read', 'runs:read', 'pii:read'] })).key;
  writerKey = (await keys.create({ name: 'writer', scopes: SCOPES.filter((s) => s !== 'pii:read') })).key;
  const created = await api(h, 'POST', '/v1/inquiries', { template: 'kyc', fields: ada });
  expect(created.status).toBe(201);
  inquiryId = created.body.id;
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const maskedFields = {
  name_first: MASK,
  name_last: MASK,
  birthdate: MASK,
  address: { street: null, city: MASK, postal_code: null, country: null },
  country: MASK,
  id_number: null,
  email: MASK,
  phone: null,
};

describe('masking for principals without pii:read', () => {
  it('masks a person fields in reads, lists and any-object reads, keeping nulls', async () => {
    const res = await fetch(`${h.baseUrl}/v1/inquiries/${inquiryId}`, { headers: { authorization: `Bearer ${viewerKey}` } });
    expect(res.headers.get('idw-pii')).toBe('masked');
    const one = await res.json();
    expect(one).toMatchObject({ id: inquiryId, template: 'kyc', status: 'created', fields: maskedFields });
    const listed = await api(h, 'GET', '/v1/inquiries', undefined, { key: viewerKey });
    expect(listed.body.inquiries.find((i: { id: string }) => i.id === inquiryId).fields).toEqual(maskedFields);
    expect((await api(h, 'GET', `/v1/objects/${inquiryId}`, undefined, { key: viewerKey })).body.fields).toEqual(maskedFields);
    expect(JSON.stringify(listed.body)).not.toMatch(/Lovelace|ada@example/);
  });

  it('masks the answers of writes for a writer without pii:read', async () => {
    const patched = await api(h, 'PATCH', `/v1/inquiries/${inquiryId}`, { fields: { phone: '+44 20 7946 0000' } }, { key: writerKey });
    expect(patched.status).toBe(200);
    expect(patched.body.fields).toMatchObject({ phone: MASK, email: MASK });
  });

  it('masks event snapshots and list items', async () => {
    const events = await api(h, 'GET', `/v1/events?objectId=${inquiryId}`, undefined, { key: viewerKey });
    expect(events.body.events.length).toBeGreaterThan(0);
    expect(JSON.stringify(events.body)).not.toMatch(/Lovelace|ada@example/);

    const list = await api(h, 'POST', '/v1/lists', { name: 'blocked e-mails', kind: 'email' });
    await api(h, 'POST', `/v1/lists/${list.body.id}/items`, { value: 'fraud@example.com' });
    const items = await api(h, 'GET', `/v1/lists/${list.body.id}/items`, undefined, { key: viewerKey });
    expect(items.body.items).toEqual([{ value: MASK, createdAt: expect.any(String) }]);
    expect((await api(h, 'GET', `/v1/lists/${list.body.id}/items`, undefined, { key: piiKey })).body.items[0].value).toBe('fraud@example.com');
  });

  it('masks PII field names in run state and trigger payloads', async () => {
    await publishWorkflow(h, 'pii_flow', {
      trigger: { type: 'api' },
      steps: [{ id: 'keep', type: 'action', action: 'set_variables', params: { variables: { contact: { email: '{{ trigger.email }}' } } } }],
    });
    const runId = await startRun(h, 'pii_flow', { email: 'grace@example.com', riskScore: 3 });
    const run = await waitForRun(h, runId, (r) => r.status === 'completed' && r.state !== undefined);
    expect(JSON.stringify(run)).toContain('grace@example.com');
    const masked = await api(h, 'GET', `/v1/runs/${runId}`, undefined, { key: viewerKey });
    expect(masked.status).toBe(200);
    expect(JSON.stringify(masked.body)).not.toContain('grace@example.com');
    expect(JSON.stringify(masked.body)).toContain(MASK);
  });
});

describe('reading PII with pii:read', () => {
  it('shows the data and writes a pii.read audit entry naming the object and fields', async () => {
    const shown = await api(h, 'GET', `/v1/inquiries/${inquiryId}`, undefined, { key: piiKey });
    expect(shown.body.fields).toMatchObject({ name_first: 'Ada', email: 'ada@example.com', address: { city: 'London' } });
    const audit = await api(h, 'GET', `/v1/audit?action=pii.read&target=${inquiryId}&actor=pii%20reader`);
    expect(audit.status).toBe(200);
    expect(audit.body.entries[0]).toMatchObject({
      actor: { kind: 'api_key', label: 'pii reader' },
      action: 'pii.read',
      target: inquiryId,
      details: { path: '/v1/inquiries/:id', objects: [inquiryId], fields: expect.arrayContaining(['email', 'name_first', 'address']) },
    });
    // The audit log names fields, never their values.
    expect(JSON.stringify(audit.body)).not.toMatch(/Lovelace|ada@example/);
  });

  it('writes no pii.read entry for a masked read', async () => {
    const before = (await api(h, 'GET', `/v1/audit?action=pii.read&actor=viewer`)).body.entries.length;
    await api(h, 'GET', `/v1/inquiries/${inquiryId}`, undefined, { key: viewerKey });
    expect((await api(h, 'GET', `/v1/audit?action=pii.read&actor=viewer`)).body.entries.length).toBe(before);
    expect(before).toBe(0);
  });
});

describe('the masking walk', () => {
  const table: [string, unknown, unknown][] = [
    ['a person fields object, including country', { id: 'inq_1', fields: { email: 'a@b.c', country: 'DE', phone: null } }, { id: 'inq_1', fields: { email: MASK, country: MASK, phone: null } }],
    ['PII names anywhere, at any depth', { trigger: { payload: { applicant: { firstName: 'A', dob: '2000-01-01', riskScore: 4 } } } }, { trigger: { payload: { applicant: { firstName: MASK, dob: MASK, riskScore: 4 } } } }],
    ['a bare country, a workflow name or a list\'s name is not a person', { country: 'DE', workflowName: 'kyc flow', list: { object: 'list', name: 'blocked' } }, { country: 'DE', workflowName: 'kyc flow', list: { object: 'list', name: 'blocked' } }],
    // Issue 13, finding 9: a bare `name` (a trigger's `{ "name": ... }`) is a person's.
    ['a bare name, in any case, and qualified e-mails', { name: 'Ada', Email: 'a@b.c', applicant_email: 'a@b.c', passport: 'P1' }, { name: MASK, Email: MASK, applicant_email: MASK, passport: MASK }],
    ['arrays of objects', [{ email: 'x@y.z' }, { email: null }], [{ email: MASK }, { email: null }]],
  ];
  it.each(table)('%s', (_name, input, expected) => {
    expect(maskPii(input, { mask: true })).toEqual(expected);
  });

  it('records which objects and fields held PII', () => {
    const scan: PiiScan = { objects: new Set(), fields: new Set() };
    maskPii({ inquiries: [{ id: 'inq_1', fields: { email: 'a@b.c', phone: null } }, { id: 'inq_2', fields: { email: null } }] }, { mask: false, scan });
    expect([...scan.objects]).toEqual(['inq_1']);
    expect([...scan.fields]).toEqual(['email']);
  });
});
