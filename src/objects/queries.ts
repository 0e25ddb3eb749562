/**
 * Listing objects with filters: for each type, the query parameters it
 * accepts (a strict zod schema, so a misspelt filter is a 400 rather than
 * ignored) and the SQL condition each maps to. Newest first; page with
 * `before=<id of the last object seen>` (ids sort by creation time).
 */
import { z } from 'zod';
import type { Queryable } from '../store/db';
import type { ObjectType } from './ids';
import { anyObjectId, casePrioritySchema, idOf, listKindSchema, reportTypeSchema, tagSchema, templateSchema } from './inputs';
import { present, selectFrom, type ObjectOf, type Row } from './records';
import { ACCOUNT_STATUSES, CASE_RESOLUTIONS, CASE_STATUSES, INQUIRY_STATUSES, REPORT_STATUSES } from './transitions';

const bool = z.enum(['true', 'false']).transform((v) => v === 'true');
const page = {
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: z.string().min(1).max(100).optional(),
  tag: tagSchema.optional(),
};

export const LIST_QUERIES = {
  inquiry: z.strictObject({ ...page, status: z.enum(INQUIRY_STATUSES).optional(), template: templateSchema.optional(), account: idOf('account').optional() }),
  account: z.strictObject({ ...page, status: z.enum(ACCOUNT_STATUSES).optional(), reference: z.string().min(1).max(200).optional() }),
  case: z.strictObject({
    ...page,
    status: z.enum(CASE_STATUSES).optional(),
    resolution: z.enum(CASE_RESOLUTIONS).optional(),
    assignee: z.string().min(1).max(200).optional(),
    priority: casePrioritySchema.optional(),
    object: anyObjectId.optional(),
  }),
  report: z.strictObject({ ...page, type: reportTypeSchema.optional(), status: z.enum(REPORT_STATUSES).optional(), object: anyObjectId.optional(), hasMatch: bool.optional() }),
  list: z.strictObject({ ...page, kind: listKindSchema.optional(), name: z.string().min(1).max(200).optional() }),
  device: z.strictObject({
    ...page,
    fingerprint: z.string().min(1).max(500).optional(),
    ip: z.string().min(1).max(100).optional(),
    trusted: bool.optional(),
    account: idOf('account').optional(),
    inquiry: idOf('inquiry').optional(),
  }),
} satisfies Record<ObjectType, z.ZodType>;

export type ListQuery<K extends ObjectType> = z.output<(typeof LIST_QUERIES)[K]>;

/** Query parameter -> SQL condition, with `$` where its value goes. */
const CONDITIONS: Record<ObjectType, Record<string, string>> = {
  inquiry: { status: 'o.status = $', template: 'o.template = $', account: 'o.account_id = $' },
  account: { status: 'o.status = $', reference: 'o.reference_id = $' },
  case: { status: 'o.status = $', resolution: 'o.resolution = $', assignee: 'o.assignee = $', priority: 'o.priority = $', object: 'o.links @> ARRAY[$]::text[]' },
  report: { type: 'o.type = $', status: 'o.status = $', object: 'o.object_id = $', hasMatch: 'o.has_match = $' },
  list: { kind: 'o.kind = $', name: 'o.name = $' },
  device: { fingerprint: 'o.fingerprint = $', ip: 'o.ip = $', trusted: 'o.trusted = $', account: 'o.account_id = $', inquiry: 'o.inquiry_id = $' },
};
const COMMON: Record<string, string> = { tag: 'o.tags @> ARRAY[$]::text[]', before: 'o.id < $' };

export interface Page<T> {
  items: T[];
  /** Pass as `before` to get the next page; absent on the last page. */
  nextBefore?: string;
}

export async function findObjects<K extends ObjectType>(q: Queryable, type: K, query: ListQuery<K>): Promise<Page<ObjectOf[K]>> {
  const where: string[] = [];
  const params: unknown[] = [];
  for (const [name, value] of Object.entries(query)) {
    const condition = CONDITIONS[type][name] ?? COMMON[name];
    if (!condition || value === undefined) continue;
    params.push(value);
    where.push(condition.replace('$', `$${params.length}`));
  }
  params.push(query.limit + 1);
  const { rows } = await q.query<Row>(
    `${selectFrom(type)} ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY o.id DESC LIMIT $${params.length}`,
    params,
  );
  const items = rows.slice(0, query.limit).map((r) => present[type](r) as ObjectOf[K]);
  return rows.length > query.limit ? { items, nextBefore: items[items.length - 1].id } : { items };
}
