/**
 * The object store on both databases it runs on (PGlite for `npm start`,
 * PostgreSQL in production): every change commits with its event, a failed
 * change commits neither, transitions follow the tables, list values are
 * normalised, and redaction deletes data from rows and old event snapshots.
 */
import type { Db } from '../src/store/db';
import { migrate } from '../src/store/migrations';
import {
  addListItem,
  changeTag,
  checkLists,
  createAccount,
  createAccountInput,
  createCase,
  createCaseInput,
  createInquiry,
  createInquiryInput,
  createList,
  createListInput,
  IllegalTransitionError,
  InvalidReferenceError,
  moveInquiry,
  redactObject,
  resolveCase,
} from '../src/objects';
import { DATABASE_BACKENDS } from './support/backends';


describe.each(DATABASE_BACKENDS)('%s', (_name, open) => {
  let db: Db;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ db, cleanup } = await open());
    await migrate(db);
  });
  afterAll(async () => cleanup());

  const eventsOf = async (objectId: string) =>
    (await db.query<{ type: string; snapshot: any; data: any }>('SELECT type, snapshot, data FROM events WHERE object_id = $1 ORDER BY seq', [objectId])).rows;

  it('writes an inquiry, its transitions and their events together', async () => {
    const input = createInquiryInput.parse({ template: 'kyc_basic', fields: { name_first: 'Ada', email: ' Ada@Example.COM ', birthdate: '1990-04-01' }, scores: { selfie_liveness: 0.97 } });
    const created = await db.transaction((tx) => createInquiry(tx, input));
    expect(created.object).toMatchObject({ object: 'inquiry', status: 'created', template: 'kyc_basic', fields: { name_first: 'Ada', email: 'ada@example.com', phone: null, address: null } });
    expect(created.object.id).toMatch(/^inq_[0-9a-z]{26}$/);
    const id = created.object.id;
    await db.transaction((tx) => moveInquiry(tx, id, 'pending'));
    await db.transaction((tx) => moveInquiry(tx, id, 'completed'));
    const approved = await db.transaction((tx) => moveInquiry(tx, id, 'approved'));
    expect(approved.events.map((e) => [e.type, e.data])).toEqual([['inquiry.approved', { from: 'completed', to: 'approved' }]]);
    expect((await eventsOf(id)).map((e) => [e.type, e.snapshot.status])).toEqual([
      ['inquiry.created', 'created'],
      ['inquiry.pending', 'pending'],
      ['inquiry.completed', 'completed'],
      ['inquiry.approved', 'approved'],
    ]);
  });

  it('refuses an illegal transition and writes neither the change nor an event', async () => {
    const { object } = await db.transaction((tx) => createInquiry(tx, createInquiryInput.parse({ template: 't' })));
    const err = await db.transaction((tx) => moveInquiry(tx, object.id, 'approved')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IllegalTransitionError);
    expect(err).toMatchObject({ from: 'created', to: 'approved', allowed: ['pending', 'expired'] });
    const { rows } = await db.query<{ status: string }>('SELECT status FROM inquiries WHERE id = $1', [object.id]);
    expect(rows[0].status).toBe('created');
    expect((await eventsOf(object.id)).map((e) => e.type)).toEqual(['inquiry.created']);
  });

  it('rolls back a change whose later part fails: no case, no event', async () => {
    const before = await db.query<{ n: string }>(`SELECT count(*) AS n FROM events WHERE type = 'case.created'`);
    const err = await db
      .transaction((tx) => createCase(tx, createCaseInput.parse({ title: 'x', links: ['inq_doesnotexist'] })))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidReferenceError);
    expect(err).toMatchObject({ path: '/links/0' });
    const after = await db.query<{ n: string }>(`SELECT count(*) AS n FROM events WHERE type = 'case.created'`);
    expect(after.rows[0].n).toBe(before.rows[0].n);
    expect((await db.query(`SELECT 1 FROM cases WHERE title = 'x'`)).rows).toHaveLength(0);
  });

  it('resolves a case with its resolution in the event data', async () => {
    const { object } = await db.transaction((tx) => createCase(tx, createCaseInput.parse({ title: 'review' })));
    const resolved = await db.transaction((tx) => resolveCase(tx, object.id, { resolution: 'declined' }));
    expect(resolved.object).toMatchObject({ status: 'resolved', resolution: 'declined' });
    expect(resolved.events[0]).toMatchObject({ type: 'case.resolved', data: { from: 'open', to: 'resolved', resolution: 'declined' } });
  });

  it('normalises list values on the way in and on lookup; tags change once', async () => {
    const { object: list } = await db.transaction((tx) => createList(tx, createListInput.parse({ name: 'blocked emails', kind: 'email' })));
    const added = await db.transaction((tx) => addListItem(tx, list.id, '  Fraud@Example.com '));
    expect(added).toMatchObject({ value: 'fraud@example.com', changed: true, object: { itemCount: 1 } });
    const again = await db.transaction((tx) => addListItem(tx, list.id, 'FRAUD@example.com'));
    expect(again).toMatchObject({ changed: false, events: [] });
    expect(await checkLists(db, [list.id], { value: 'fraud@EXAMPLE.com' }, false)).toEqual({
      matched: true,
      matches: [{ listId: list.id, listName: 'blocked emails', kind: 'email', key: null, value: 'fraud@example.com' }],
    });
    expect(await checkLists(db, [list.id], { email: 'ok@example.com', phone: null }, true)).toEqual({ matched: false, matches: [] });

    const tagged = await db.transaction((tx) => changeTag(tx, list.id, 'fraud', 'add'));
    expect(tagged.events.map((e) => e.type)).toEqual(['list.tag-added']);
    expect((await db.transaction((tx) => changeTag(tx, list.id, 'fraud', 'add'))).events).toEqual([]);
  });

  it('redacts an account and its inquiries in the rows and in earlier event snapshots', async () => {
    const { object: account } = await db.transaction((tx) => createAccount(tx, createAccountInput.parse({ fields: { name_last: 'Lovelace', email: 'ada@example.com' } })));
    const { object: inquiry } = await db.transaction((tx) =>
      createInquiry(tx, createInquiryInput.parse({ template: 'kyc', accountId: account.id, fields: { name_last: 'Lovelace', id_number: 'X123' } })),
    );
    const redaction = await db.transaction((tx) => redactObject(tx, account.id));
    expect(redaction.changes.map((c) => c.object.id)).toEqual([account.id, inquiry.id]);
    const rows = await db.query<{ id: string; fields: unknown; redacted_at: unknown }>(
      `SELECT id, fields, redacted_at FROM accounts WHERE id = $1 UNION ALL SELECT id, fields, redacted_at FROM inquiries WHERE id = $2`,
      [account.id, inquiry.id],
    );
    for (const row of rows.rows) {
      expect(row.fields).toEqual({});
      expect(row.redacted_at).not.toBeNull();
    }
    const text = JSON.stringify([...(await eventsOf(account.id)), ...(await eventsOf(inquiry.id))]);
    expect(text).not.toContain('Lovelace');
    expect(text).not.toContain('X123');
    expect((await eventsOf(inquiry.id)).map((e) => e.type)).toEqual(['inquiry.created', 'inquiry.redacted']);
  });
});
