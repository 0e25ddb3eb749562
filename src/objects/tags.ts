/**
 * Tags on any object. Adding a tag that is there (or removing one that is
 * not) changes nothing and emits nothing, so a retried or repeated "tag it"
 * is harmless. Tags keep the order they were added in.
 */
import type { Queryable } from '../store/db';
import { InvalidValueError, ObjectNotFoundError } from './errors';
import { objectTypeOf } from './ids';
import { lockObject, readObject, recordChange, type Change } from './object-rows';
import { updateRow } from './object-writes';
import type { AnyObject } from './records';

export const MAX_TAGS = 50;

export async function changeTag(tx: Queryable, objectId: string, tag: string, operation: 'add' | 'remove'): Promise<Change<AnyObject>> {
  const type = objectTypeOf(objectId);
  if (!type) throw new ObjectNotFoundError('object', objectId);
  const { object } = await lockObject(tx, type, objectId);
  const has = object.tags.includes(tag);
  if ((operation === 'add') === has) return { object, events: [] };
  if (operation === 'add' && object.tags.length >= MAX_TAGS) throw new InvalidValueError('/tag', `${objectId} has ${MAX_TAGS} tags already; remove one first`);
  const tags = operation === 'add' ? [...object.tags, tag] : object.tags.filter((t) => t !== tag);
  await updateRow(tx, type, objectId, { tags });
  const after = (await readObject(tx, type, objectId))!;
  return { object: after, events: [await recordChange(tx, after, operation === 'add' ? 'tag-added' : 'tag-removed', { tag })] };
}
