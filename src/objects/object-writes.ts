/**
 * The two writes every change is made of: inserting a new row and updating
 * named columns of a locked one. Column names come from our code, never
 * from input; values always travel as parameters.
 */
import type { Queryable } from '../store/db';
import { InvalidReferenceError } from './errors';
import { objectTypeOf, type ObjectType } from './ids';
import { TABLE } from './records';

/** jsonb columns take JSON text; everything else goes as it is. */
export type ColumnValues = Record<string, unknown>;

/**
 * The transaction's time, as `updated_at` gets it: a status's own timestamp
 * (resolvedAt, trustedAt...) then equals the updatedAt of the same change.
 */
export const NOW: unique symbol = Symbol('now()');

export async function updateRow(tx: Queryable, type: ObjectType, id: string, values: ColumnValues): Promise<void> {
  const params: unknown[] = [id];
  const sets = Object.entries(values).map(([column, value]) => {
    if (value === NOW) return `${column} = now()`;
    params.push(value);
    return `${column} = $${params.length}`;
  });
  await tx.query(`UPDATE ${TABLE[type]} SET ${[...sets, 'updated_at = now()'].join(', ')} WHERE id = $1`, params);
}

export async function insertRow(tx: Queryable, type: ObjectType, values: ColumnValues): Promise<void> {
  const columns = Object.keys(values);
  const params = columns.map((_, i) => `$${i + 1}`);
  await tx.query(`INSERT INTO ${TABLE[type]} (${columns.join(', ')}) VALUES (${params.join(', ')})`, Object.values(values));
}

/**
 * Check that a body's reference names an existing object (of one of the
 * given types), so a case is never linked to nothing. `path` is where the
 * reference sits in the body, for the 400.
 */
export async function checkReference(tx: Queryable, id: string, path: string, types?: readonly ObjectType[]): Promise<ObjectType> {
  const type = objectTypeOf(id);
  if (!type || (types && !types.includes(type))) {
    throw new InvalidReferenceError(path, `"${id}" is not ${types ? types.map((t) => `a${/^[aeiou]/.test(t) ? 'n' : ''} ${t}`).join(' or ') : 'an object'} id`);
  }
  const { rows } = await tx.query(`SELECT 1 FROM ${TABLE[type]} WHERE id = $1`, [id]);
  if (rows.length === 0) throw new InvalidReferenceError(path, `no ${type} "${id}"`);
  return type;
}
