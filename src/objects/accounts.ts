/**
 * Accounts: one verified person across inquiries (an inquiry links its
 * account through `accountId`). Status moves along ACCOUNT_FLOW.
 */
import type { Queryable } from '../store/db';
import { ObjectRedactedError } from './errors';
import { newObjectId } from './ids';
import type { CreateAccountInput, UpdateAccountInput } from './inputs';
import { moveStatus } from './lifecycle';
import { lockObject, readObject, recordChange, type Change } from './object-rows';
import { insertRow, updateRow, type ColumnValues } from './object-writes';
import { mergePersonFields, type StoredPersonFields } from './person-fields';
import type { Account } from './records';
import type { AccountStatus } from './transitions';

export async function createAccount(tx: Queryable, input: CreateAccountInput): Promise<Change<Account>> {
  const id = newObjectId('account');
  await insertRow(tx, 'account', {
    id,
    reference_id: input.referenceId ?? null,
    fields: JSON.stringify(mergePersonFields({}, input.fields).fields),
    tags: input.tags,
  });
  const account = (await readObject(tx, 'account', id))!;
  return { object: account, events: [await recordChange(tx, account, 'created')] };
}

export async function updateAccount(tx: Queryable, id: string, input: UpdateAccountInput): Promise<Change<Account>> {
  const { row, object } = await lockObject(tx, 'account', id);
  const set: ColumnValues = {};
  const changed: string[] = [];
  if (input.fields) {
    if (object.redactedAt && Object.values(input.fields).some((v) => v !== null && v !== undefined)) throw new ObjectRedactedError('account', id);
    const merged = mergePersonFields(row.fields as StoredPersonFields, input.fields);
    if (merged.changed.length > 0) {
      set.fields = JSON.stringify(merged.fields);
      changed.push(...merged.changed.map((f) => `fields.${f}`));
    }
  }
  if (input.referenceId !== undefined && input.referenceId !== object.referenceId) {
    set.reference_id = input.referenceId;
    changed.push('referenceId');
  }
  if (changed.length === 0) return { object, events: [] };
  await updateRow(tx, 'account', id, set);
  const after = (await readObject(tx, 'account', id))!;
  return { object: after, events: [await recordChange(tx, after, 'updated', { changed })] };
}

export function moveAccount(tx: Queryable, id: string, to: AccountStatus): Promise<Change<Account>> {
  return moveStatus(tx, 'account', id, to);
}
