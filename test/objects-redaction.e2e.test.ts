/**
 * Redaction through the API, checked in the tables themselves: the data is
 * deleted from the rows and from every earlier event snapshot (not masked in
 * responses), chosen fields or everything, and an account takes its
 * inquiries with it.
 */
import { api, createHarness, type Harness } from './support/harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ worker: false });
});
afterAll(async () => {
  await h?.close();
});

const PERSON = {
  name_first: 'Zelda',
  name_last: 'Quixote-Marsh',
  birthdate: '1988-07-14',
  address: { street: '12 Secret Lane', city: 'Hiddenville', postal_code: 'ZZ9 9ZZ', country: 'GB' },
  country: 'GB',
  id_number: 'QX-889-001',
  email: 'zelda.qm@example.org',
  phone: '+447700900123',
};
const TRACES = ['Zelda', 'Quixote-Marsh', '1988-07-14', 'Secret Lane', 'QX-889-001', 'zelda.qm@example.org', '+447700900123'];

async function create(path: string, body: unknown): Promise<any> {
  const res = await api(h, 'POST', path, body);
  if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Everything the database holds about these objects, as text. */
async function stored(ids: string[]): Promise<string> {
  const rows = await h.db.query(
    `SELECT row_to_json(i)::text AS t FROM inquiries i WHERE id = ANY($1::text[])
     UNION ALL SELECT row_to_json(a)::text FROM accounts a WHERE id = ANY($1::text[])
     UNION ALL SELECT row_to_json(e)::text FROM events e WHERE object_id = ANY($1::text[])`,
    [ids],
  );
  return rows.rows.map((r) => (r as { t: string }).t).join('\n');
}

async function rowFields(table: 'inquiries' | 'accounts', id: string): Promise<{ fields: Record<string, unknown>; redacted_at: unknown }> {
  const { rows } = await h.db.query<{ fields: Record<string, unknown>; redacted_at: unknown }>(`SELECT fields, redacted_at FROM ${table} WHERE id = $1`, [id]);
  return rows[0];
}

it('removes chosen fields from the row and from earlier event snapshots, keeping the rest', async () => {
  const inq = await create('/v1/inquiries', { template: 'kyc', fields: PERSON, scores: { selfie_liveness: 0.8 } });
  await api(h, 'POST', `/v1/inquiries/${inq.id}/submit`);
  const res = await api(h, 'POST', `/v1/inquiries/${inq.id}/redact`, { fields: ['email', 'phone', 'id_number'] });
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ redacted: [inq.id], fields: ['email', 'phone', 'id_number'], object: { redactedAt: null, fields: { email: null, phone: null, id_number: null, name_first: 'Zelda' } } });

  const row = await rowFields('inquiries', inq.id);
  expect(Object.keys(row.fields).sort()).toEqual(['address', 'birthdate', 'country', 'name_first', 'name_last']);
  expect(row.redacted_at).toBeNull();
  const text = await stored([inq.id]);
  for (const gone of ['QX-889-001', 'zelda.qm@example.org', '+447700900123']) expect(text).not.toContain(gone);
  expect(text).toContain('Quixote-Marsh');

  const { rows } = await h.db.query<{ type: string; data: any }>('SELECT type, data FROM events WHERE object_id = $1 ORDER BY seq', [inq.id]);
  expect(rows.map((r) => r.type)).toEqual(['inquiry.created', 'inquiry.pending', 'inquiry.redacted']);
  expect(rows[2].data).toEqual({ fields: ['email', 'phone', 'id_number'], full: false });
  // A targeted clean-up does not close the record: the field can be collected again.
  expect((await api(h, 'PATCH', `/v1/inquiries/${inq.id}`, { fields: { email: 'fresh@example.org' } })).status).toBe(200);
});

it('redacts everything, refuses new personal data afterwards, and does not announce a second redaction', async () => {
  const inq = await create('/v1/inquiries', { template: 'kyc', fields: PERSON, scores: { selfie_liveness: 0.8 } });
  await api(h, 'PATCH', `/v1/inquiries/${inq.id}`, { fields: { email: 'second.address@example.org' } });
  const res = await api(h, 'POST', `/v1/inquiries/${inq.id}/redact`, {});
  expect(res.status).toBe(200);
  expect(res.body.fields).toEqual(['name_first', 'name_last', 'birthdate', 'address', 'country', 'id_number', 'email', 'phone']);
  expect(res.body.object.redactedAt).not.toBeNull();
  expect(Object.values(res.body.object.fields).every((v) => v === null)).toBe(true);
  expect(res.body.object.scores).toEqual({ selfie_liveness: 0.8 });

  const row = await rowFields('inquiries', inq.id);
  expect(row.fields).toEqual({});
  expect(row.redacted_at).not.toBeNull();
  const text = await stored([inq.id]);
  for (const gone of [...TRACES, 'second.address@example.org']) expect(text).not.toContain(gone);

  const refused = await api(h, 'PATCH', `/v1/inquiries/${inq.id}`, { fields: { email: 'back@example.org' } });
  expect([refused.status, refused.body.error.code]).toEqual([409, 'object_redacted']);
  expect((await api(h, 'POST', `/v1/inquiries/${inq.id}/redact`, { fields: ['email'] })).status).toBe(200);
  const { rows } = await h.db.query<{ type: string }>('SELECT type FROM events WHERE object_id = $1 ORDER BY seq', [inq.id]);
  expect(rows.map((r) => r.type)).toEqual(['inquiry.created', 'inquiry.updated', 'inquiry.redacted']);
});

it("redacts an account with all of its inquiries, and nobody else's", async () => {
  const acc = await create('/v1/accounts', { referenceId: 'cust-redact', fields: PERSON });
  const other = await create('/v1/accounts', { fields: { name_first: 'Keep', email: 'keep@example.org' } });
  const mine = [
    await create('/v1/inquiries', { template: 'kyc', accountId: acc.id, fields: PERSON }),
    await create('/v1/inquiries', { template: 'kyc_again', accountId: acc.id, fields: { email: PERSON.email } }),
  ];
  const theirs = await create('/v1/inquiries', { template: 'kyc', accountId: other.id, fields: { email: 'keep@example.org' } });

  const res = await api(h, 'POST', `/v1/accounts/${acc.id}/redact`, {});
  expect(res.status).toBe(200);
  expect(res.body.redacted.sort()).toEqual([acc.id, ...mine.map((i) => i.id)].sort());
  expect(res.body.object).toMatchObject({ id: acc.id, redactedAt: expect.any(String), referenceId: 'cust-redact' });

  for (const id of mine.map((i) => i.id)) {
    expect(await rowFields('inquiries', id)).toMatchObject({ fields: {}, redacted_at: expect.anything() });
  }
  expect((await rowFields('accounts', acc.id)).fields).toEqual({});
  const text = await stored([acc.id, ...mine.map((i) => i.id)]);
  for (const gone of TRACES) expect(text).not.toContain(gone);
  expect((await rowFields('inquiries', theirs.id)).fields).toEqual({ email: 'keep@example.org' });
  expect((await rowFields('accounts', other.id)).fields).toEqual({ name_first: 'Keep', email: 'keep@example.org' });

  const { rows } = await h.db.query<{ object_id: string; type: string; data: any; snapshot: any }>(
    `SELECT object_id, type, data, snapshot FROM events WHERE type LIKE '%.redacted' AND object_id = ANY($1::text[]) ORDER BY seq`,
    [[acc.id, ...mine.map((i) => i.id)]],
  );
  expect(rows.map((r) => [r.object_id, r.type, r.data.accountId ?? null])).toEqual([
    [acc.id, 'account.redacted', null],
    [mine[0].id, 'inquiry.redacted', acc.id],
    [mine[1].id, 'inquiry.redacted', acc.id],
  ]);
  expect(rows.every((r) => Object.values(r.snapshot.fields).every((v) => v === null))).toBe(true);
});

it('checks redaction requests: 400 for unknown fields, 404 for unknown or mistyped ids', async () => {
  const inq = await create('/v1/inquiries', { template: 'kyc', fields: { email: 'a@example.org' } });
  const bad = await api(h, 'POST', `/v1/inquiries/${inq.id}/redact`, { fields: ['email', 'shoe_size'] });
  expect(bad.status).toBe(400);
  expect(bad.body.error.details.map((d: { path: string }) => d.path)).toEqual(['/fields/1']);
  expect((await api(h, 'POST', `/v1/accounts/${inq.id}/redact`, {})).status).toBe(404);
  expect((await api(h, 'POST', '/v1/accounts/act_missing/redact', {})).status).toBe(404);
  expect((await rowFields('inquiries', inq.id)).fields).toEqual({ email: 'a@example.org' });
});
