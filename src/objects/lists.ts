/**
 * Lists: allow / block lists of one kind of value. Items are unique per list
 * and stored normalised (see list-values.ts), so a lookup needs no fuzzy
 * matching. Adding an item that is there already changes nothing and emits
 * nothing.
 */
import type { Queryable } from '../store/db';
import { InvalidValueError, ObjectNotFoundError } from './errors';
import { newObjectId } from './ids';
import type { CreateListInput, UpdateListInput } from './inputs';
import { normaliseListValue } from './list-values';
import { lockObject, readObject, recordChange, type Change } from './object-rows';
import { insertRow, updateRow, type ColumnValues } from './object-writes';
import type { List } from './records';

export async function createList(tx: Queryable, input: CreateListInput): Promise<Change<List>> {
  const id = newObjectId('list');
  await insertRow(tx, 'list', { id, name: input.name, kind: input.kind, description: input.description, tags: input.tags });
  const list = (await readObject(tx, 'list', id))!;
  return { object: list, events: [await recordChange(tx, list, 'created')] };
}

export async function updateList(tx: Queryable, id: string, input: UpdateListInput): Promise<Change<List>> {
  const { object } = await lockObject(tx, 'list', id);
  const set: ColumnValues = {};
  const changed: string[] = [];
  if (input.name !== undefined && input.name !== object.name) {
    set.name = input.name;
    changed.push('name');
  }
  if (input.description !== undefined && input.description !== object.description) {
    set.description = input.description;
    changed.push('description');
  }
  if (changed.length === 0) return { object, events: [] };
  await updateRow(tx, 'list', id, set);
  const after = (await readObject(tx, 'list', id))!;
  return { object: after, events: [await recordChange(tx, after, 'updated', { changed })] };
}

export interface ItemChange extends Change<List> {
  /** The value as stored (normalised). */
  value: string;
  /** False when the item was there already (add) or was not there (remove). */
  changed: boolean;
}

export async function addListItem(tx: Queryable, listId: string, raw: string, path = '/value'): Promise<ItemChange> {
  const { object } = await lockObject(tx, 'list', listId);
  const normalised = normaliseListValue(object.kind, raw);
  if (!normalised.ok) throw new InvalidValueError(path, normalised.message);
  const inserted = await tx.query(`INSERT INTO list_items (list_id, value) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING value`, [listId, normalised.value]);
  if (inserted.rows.length === 0) return { object, events: [], value: normalised.value, changed: false };
  await updateRow(tx, 'list', listId, {});
  const after = (await readObject(tx, 'list', listId))!;
  return { object: after, events: [await recordChange(tx, after, 'item-added', { value: normalised.value })], value: normalised.value, changed: true };
}

/** Removes the item whose normalised form equals raw's; the caller decides whether "not there" is an error. */
export async function removeListItem(tx: Queryable, listId: string, raw: string): Promise<ItemChange> {
  const { object } = await lockObject(tx, 'list', listId);
  const normalised = normaliseListValue(object.kind, raw);
  // A value that cannot be normalised cannot be on the list either: try it as given.
  const value = normalised.ok ? normalised.value : raw;
  const deleted = await tx.query(`DELETE FROM list_items WHERE list_id = $1 AND value = $2 RETURNING value`, [listId, value]);
  if (deleted.rows.length === 0) return { object, events: [], value, changed: false };
  await updateRow(tx, 'list', listId, {});
  const after = (await readObject(tx, 'list', listId))!;
  return { object: after, events: [await recordChange(tx, after, 'item-removed', { value })], value, changed: true };
}

export interface ListItem {
  value: string;
  createdAt: string;
}

/** A page of items, in value order, after the `after` value. */
export async function listItems(q: Queryable, listId: string, options: { limit: number; after?: string }): Promise<ListItem[]> {
  if (!(await readObject(q, 'list', listId))) throw new ObjectNotFoundError('list', listId);
  const { rows } = await q.query<{ value: string; created_at: Date | string }>(
    `SELECT value, created_at FROM list_items WHERE list_id = $1 AND ($2::text IS NULL OR value > $2) ORDER BY value LIMIT $3`,
    [listId, options.after ?? null, options.limit],
  );
  return rows.map((r) => ({ value: r.value, createdAt: new Date(r.created_at).toISOString() }));
}
