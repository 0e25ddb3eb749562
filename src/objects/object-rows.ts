/**
 * Reading objects by id, locking one for a change, and recording the change
 * as its event in the same transaction (the outbox). Every write in
 * src/objects goes: lock -> check -> update -> reread -> recordChange.
 */
import { emitEvent, type StoredEvent } from '../events/outbox';
import type { Queryable } from '../store/db';
import { ObjectNotFoundError } from './errors';
import { objectTypeOf, type ObjectType } from './ids';
import { present, selectFrom, type AnyObject, type ObjectOf, type Row } from './records';

export async function readObject<K extends ObjectType>(q: Queryable, type: K, id: string): Promise<ObjectOf[K] | undefined> {
  const { rows } = await q.query<Row>(`${selectFrom(type)} WHERE o.id = $1`, [id]);
  return rows[0] ? (present[type](rows[0]) as ObjectOf[K]) : undefined;
}

/** Any object by its id alone (the prefix names the table). */
export async function readAnyObject(q: Queryable, id: string): Promise<AnyObject | undefined> {
  const type = objectTypeOf(id);
  return type ? readObject(q, type, id) : undefined;
}

/**
 * Lock the row for the rest of the transaction, so two concurrent changes
 * to one object check their preconditions one after the other.
 */
export async function lockObject<K extends ObjectType>(tx: Queryable, type: K, id: string): Promise<{ row: Row; object: ObjectOf[K] }> {
  if (objectTypeOf(id) !== type) throw new ObjectNotFoundError(type, id);
  const { rows } = await tx.query<Row>(`${selectFrom(type)} WHERE o.id = $1 FOR UPDATE OF o`, [id]);
  if (!rows[0]) throw new ObjectNotFoundError(type, id);
  return { row: rows[0], object: present[type](rows[0]) as ObjectOf[K] };
}

export async function mustRead<K extends ObjectType>(q: Queryable, type: K, id: string): Promise<ObjectOf[K]> {
  const object = await readObject(q, type, id);
  if (!object) throw new ObjectNotFoundError(type, id);
  return object;
}

/** `inquiry`, or `report/watchlist`: what event types of this object start with. */
export function eventPrefix(object: AnyObject): string {
  return object.object === 'report' ? `report/${object.type}` : object.object;
}

export interface Change<T extends AnyObject = AnyObject> {
  object: T;
  /** The events written with the change, in order (none when nothing changed). */
  events: StoredEvent[];
}

/** Write the event of a change: type `<prefix>.<what>`, snapshot = the object after the change. */
export async function recordChange(tx: Queryable, object: AnyObject, what: string, data: Record<string, unknown> = {}): Promise<StoredEvent> {
  const event = await emitEvent(tx, { type: `${eventPrefix(object)}.${what}`, objectType: object.object, objectId: object.id, snapshot: object, data });
  // Our own events get fresh ids, so a conflict here would be a bug, not a redelivery.
  if (!event) throw new Error(`event for ${object.id} ${what} was not written`);
  return event;
}
