/**
 * Object types and their ids. An id carries its type in its prefix
 * (`inq_01h...`), so any id alone says which table holds it: tags, links,
 * `load_object` and redaction accept an id of any type without being told.
 */
import { ulid } from 'ulid';

export const OBJECT_TYPES = ['inquiry', 'account', 'case', 'report', 'list', 'device'] as const;
export type ObjectType = (typeof OBJECT_TYPES)[number];

export const ID_PREFIX: Record<ObjectType, string> = {
  inquiry: 'inq',
  account: 'act',
  case: 'case',
  report: 'rep',
  list: 'lst',
  device: 'dev',
};

/** The URL segment of each type: `/v1/inquiries`, `/v1/cases`... */
export const COLLECTION: Record<ObjectType, string> = {
  inquiry: 'inquiries',
  account: 'accounts',
  case: 'cases',
  report: 'reports',
  list: 'lists',
  device: 'devices',
};

export function newObjectId(type: ObjectType): string {
  return `${ID_PREFIX[type]}_${ulid().toLowerCase()}`;
}

const BY_PREFIX = new Map(OBJECT_TYPES.map((t) => [ID_PREFIX[t], t]));
const ID_SHAPE = /^([a-z]+)_([0-9a-z]{1,64})$/;

/** The type an id names, or undefined when it is not one of our ids. */
export function objectTypeOf(id: string): ObjectType | undefined {
  const match = ID_SHAPE.exec(id);
  return match ? BY_PREFIX.get(match[1]) : undefined;
}

export function typeOfCollection(segment: string): ObjectType | undefined {
  return OBJECT_TYPES.find((t) => COLLECTION[t] === segment);
}

/** A regex for ids of one type, for zod schemas at the edges. */
export function idPattern(type: ObjectType): RegExp {
  return new RegExp(`^${ID_PREFIX[type]}_[0-9a-z]{1,64}$`);
}
