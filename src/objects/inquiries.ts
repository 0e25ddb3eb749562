/**
 * Inquiries: one person's verification attempt, made from a template. Their
 * status moves only along INQUIRY_FLOW; field and score updates emit
 * `inquiry.updated` naming what changed (never the values: events outlive
 * redaction less easily than rows do).
 */
import type { Queryable } from '../store/db';
import { ObjectRedactedError } from './errors';
import { newObjectId } from './ids';
import type { CreateInquiryInput, UpdateInquiryInput } from './inputs';
import { moveStatus } from './lifecycle';
import { lockObject, readObject, recordChange, type Change } from './object-rows';
import { checkReference, insertRow, updateRow, type ColumnValues } from './object-writes';
import { mergePersonFields, type StoredPersonFields } from './person-fields';
import type { Inquiry } from './records';
import type { InquiryStatus } from './transitions';

export async function createInquiry(tx: Queryable, input: CreateInquiryInput): Promise<Change<Inquiry>> {
  if (input.accountId) await checkReference(tx, input.accountId, '/accountId', ['account']);
  const id = newObjectId('inquiry');
  await insertRow(tx, 'inquiry', {
    id,
    template: input.template,
    account_id: input.accountId ?? null,
    fields: JSON.stringify(mergePersonFields({}, input.fields).fields),
    scores: JSON.stringify(mergeScores({}, input.scores).scores),
    tags: input.tags,
  });
  const inquiry = (await readObject(tx, 'inquiry', id))!;
  return { object: inquiry, events: [await recordChange(tx, inquiry, 'created')] };
}

export async function updateInquiry(tx: Queryable, id: string, input: UpdateInquiryInput): Promise<Change<Inquiry>> {
  const { row, object } = await lockObject(tx, 'inquiry', id);
  const set: ColumnValues = {};
  const changed: string[] = [];
  if (input.fields) {
    if (object.redactedAt && Object.values(input.fields).some((v) => v !== null && v !== undefined)) throw new ObjectRedactedError('inquiry', id);
    const merged = mergePersonFields(row.fields as StoredPersonFields, input.fields);
    if (merged.changed.length > 0) {
      set.fields = JSON.stringify(merged.fields);
      changed.push(...merged.changed.map((f) => `fields.${f}`));
    }
  }
  if (input.scores) {
    const merged = mergeScores(object.scores, input.scores);
    if (merged.changed.length > 0) {
      set.scores = JSON.stringify(merged.scores);
      changed.push(...merged.changed.map((s) => `scores.${s}`));
    }
  }
  if (input.accountId !== undefined && input.accountId !== object.accountId) {
    if (input.accountId) await checkReference(tx, input.accountId, '/accountId', ['account']);
    set.account_id = input.accountId;
    changed.push('accountId');
  }
  // Nothing changed, nothing to tell anyone: no write, no event.
  if (changed.length === 0) return { object, events: [] };
  await updateRow(tx, 'inquiry', id, set);
  const after = (await readObject(tx, 'inquiry', id))!;
  return { object: after, events: [await recordChange(tx, after, 'updated', { changed })] };
}

export function moveInquiry(tx: Queryable, id: string, to: InquiryStatus): Promise<Change<Inquiry>> {
  return moveStatus(tx, 'inquiry', id, to);
}

/** Scores merge by name; null removes one. */
function mergeScores(current: Record<string, number>, input: Record<string, number | null>): { scores: Record<string, number>; changed: string[] } {
  const scores = { ...current };
  const changed: string[] = [];
  for (const [name, value] of Object.entries(input)) {
    if (value === null) {
      if (name in scores) {
        delete scores[name];
        changed.push(name);
      }
    } else if (scores[name] !== value) {
      scores[name] = value;
      changed.push(name);
    }
  }
  return { scores, changed };
}
