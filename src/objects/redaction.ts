/**
 * Redaction: removing a person's data for good. The fields are deleted from
 * the row (not flagged or masked), and every event already written about
 * the object has the same fields nulled in its snapshot, because the
 * outbox keeps old snapshots and they hold the same PII. The platform's own
 * event data carries field names only, but an upstream sender's may carry
 * values: those under a personal field name, or a name a workflow's schema
 * marks `"x-pii": true`, are nulled too. Redacting an account redacts each of its inquiries the same way,
 * in the same transaction.
 */
import { nullPii, schemaPiiNames } from '../auth/pii-masking';
import type { Queryable } from '../store/db';
import { InvalidReferenceError } from './errors';
import { objectTypeOf } from './ids';
import { lockObject, readObject, recordChange, type Change } from './object-rows';
import { NOW, updateRow, type ColumnValues } from './object-writes';
import { PII_FIELDS, type PersonFieldName, type StoredPersonFields } from './person-fields';
import type { Account, Inquiry } from './records';

export interface Redaction {
  /** The object asked for, then (for an account) each of its inquiries. */
  changes: Change<Inquiry | Account>[];
  fields: PersonFieldName[];
}

type PersonType = 'inquiry' | 'account';

export async function redactObject(tx: Queryable, objectId: string, fields?: PersonFieldName[]): Promise<Redaction> {
  const type = objectTypeOf(objectId);
  if (type !== 'inquiry' && type !== 'account') {
    throw new InvalidReferenceError('/objectId', `"${objectId}" is not an inquiry or an account; only they hold personal data to redact`);
  }
  const names = fields ? [...new Set(fields)] : [...PII_FIELDS];
  const own = await redactOne(tx, type, objectId, names, {});
  const changes: Change<Inquiry | Account>[] = [own];
  if (type === 'account') {
    const { rows } = await tx.query<{ id: string }>('SELECT id FROM inquiries WHERE account_id = $1 ORDER BY id', [objectId]);
    for (const { id } of rows) changes.push(await redactOne(tx, 'inquiry', id, names, { accountId: objectId }));
  }
  return { changes, fields: names };
}

async function redactOne(tx: Queryable, type: PersonType, id: string, names: PersonFieldName[], cause: Record<string, unknown>): Promise<Change<Inquiry | Account>> {
  const { row, object } = await lockObject(tx, type, id);
  const remaining: StoredPersonFields = { ...(row.fields as StoredPersonFields) };
  for (const name of names) delete remaining[name];
  // "Redacted" as a state means everything was asked for: a targeted clean-up of one field does not close the record.
  const full = PII_FIELDS.every((name) => names.includes(name));
  await scrubEventSnapshots(tx, id, names);
  await scrubEventData(tx, id);

  // Asked again for what is gone already: the scrub above is enough, nothing new to announce.
  if (object.redactedAt) return { object, events: [] };
  const set: ColumnValues = { fields: JSON.stringify(remaining) };
  if (full) set.redacted_at = NOW;
  await updateRow(tx, type, id, set);
  const after = (await readObject(tx, type, id))!;
  return { object: after, events: [await recordChange(tx, after, 'redacted', { fields: names, full, ...cause })] };
}

/** Null the fields in the snapshot of every earlier event about this object, whoever sent it. */
async function scrubEventSnapshots(tx: Queryable, objectId: string, names: PersonFieldName[]): Promise<void> {
  const nulls = JSON.stringify(Object.fromEntries(names.map((n) => [n, null])));
  await tx.query(
    `UPDATE events SET snapshot = jsonb_set(snapshot, '{fields}', (snapshot->'fields') || $2::jsonb)
     WHERE object_id = $1 AND jsonb_typeof(snapshot->'fields') = 'object'`,
    [objectId, nulls],
  );
}

/** Null personal values in the data of every event about this object (upstream senders put what they like there). */
async function scrubEventData(tx: Queryable, objectId: string): Promise<void> {
  const schemaNames = await schemaPiiNames(tx);
  const { rows } = await tx.query<{ id: string; data: unknown }>(`SELECT id, data FROM events WHERE object_id = $1 AND data IS NOT NULL`, [objectId]);
  for (const row of rows) {
    const scrubbed = nullPii(row.data, schemaNames);
    if (scrubbed.changed) await tx.query(`UPDATE events SET data = $2::jsonb WHERE id = $1`, [row.id, JSON.stringify(scrubbed.value)]);
  }
}
