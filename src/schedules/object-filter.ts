/**
 * The filter of a recurring trigger: which objects of one type a run is
 * started for. A structured filter (JSON) rather than CEL, because it is
 * compiled to SQL (`filter-sql.ts`) and evaluated by PostgreSQL over the
 * whole table, page by page, with its indexes; CEL would mean loading every
 * object to test it. This file holds the language (zod), the fields each
 * object type offers, and the check a definition gets when it is saved.
 *
 * Sandbox-safe (zod only): the definition schema, which the workflow bundle
 * imports, uses the schema below.
 */
import { z } from 'zod';

export const RECURRING_OBJECT_TYPES = ['inquiry', 'account', 'case', 'report', 'list', 'device'] as const;
export type RecurringObjectType = (typeof RECURRING_OBJECT_TYPES)[number];

/** What a field holds, which decides the operators it takes. */
export type FieldKind = 'text' | 'number' | 'bool' | 'timestamp' | 'tags';

export const COMPARISON_OPS = ['eq', 'ne', 'in', 'not_in', 'lt', 'lte', 'gt', 'gte', 'exists', 'not_exists', 'contains', 'older_than', 'within'] as const;
export type ComparisonOp = (typeof COMPARISON_OPS)[number];

const OPS_BY_KIND: Record<FieldKind, readonly ComparisonOp[]> = {
  text: ['eq', 'ne', 'in', 'not_in', 'exists', 'not_exists'],
  number: ['eq', 'ne', 'in', 'not_in', 'lt', 'lte', 'gt', 'gte', 'exists', 'not_exists'],
  bool: ['eq', 'ne', 'exists', 'not_exists'],
  timestamp: ['lt', 'lte', 'gt', 'gte', 'exists', 'not_exists', 'older_than', 'within'],
  tags: ['contains', 'exists', 'not_exists'],
};

export interface FieldSpec {
  kind: FieldKind;
  /** SQL over the object's row (alias `o`). */
  sql: string;
}

const common = (extra: Record<string, FieldSpec>): Record<string, FieldSpec> => ({
  id: { kind: 'text', sql: 'o.id' },
  tags: { kind: 'tags', sql: 'o.tags' },
  createdAt: { kind: 'timestamp', sql: 'o.created_at' },
  updatedAt: { kind: 'timestamp', sql: 'o.updated_at' },
  ...extra,
});

/** The fields a filter may name, per object type, as the API shows them (camelCase). */
export const FILTER_FIELDS: Record<RecurringObjectType, Record<string, FieldSpec>> = {
  inquiry: common({
    status: { kind: 'text', sql: 'o.status' },
    template: { kind: 'text', sql: 'o.template' },
    accountId: { kind: 'text', sql: 'o.account_id' },
    redactedAt: { kind: 'timestamp', sql: 'o.redacted_at' },
  }),
  account: common({
    status: { kind: 'text', sql: 'o.status' },
    referenceId: { kind: 'text', sql: 'o.reference_id' },
    redactedAt: { kind: 'timestamp', sql: 'o.redacted_at' },
  }),
  case: common({
    status: { kind: 'text', sql: 'o.status' },
    resolution: { kind: 'text', sql: 'o.resolution' },
    assignee: { kind: 'text', sql: 'o.assignee' },
    priority: { kind: 'text', sql: 'o.priority' },
    resolvedAt: { kind: 'timestamp', sql: 'o.resolved_at' },
  }),
  report: common({
    type: { kind: 'text', sql: 'o.type' },
    status: { kind: 'text', sql: 'o.status' },
    objectId: { kind: 'text', sql: 'o.object_id' },
    hasMatch: { kind: 'bool', sql: 'o.has_match' },
    completedAt: { kind: 'timestamp', sql: 'o.completed_at' },
  }),
  list: common({
    name: { kind: 'text', sql: 'o.name' },
    kind: { kind: 'text', sql: 'o.kind' },
  }),
  device: common({
    fingerprint: { kind: 'text', sql: 'o.fingerprint' },
    ip: { kind: 'text', sql: 'o.ip' },
    trusted: { kind: 'bool', sql: 'o.trusted' },
    trustedAt: { kind: 'timestamp', sql: 'o.trusted_at' },
    accountId: { kind: 'text', sql: 'o.account_id' },
    inquiryId: { kind: 'text', sql: 'o.inquiry_id' },
  }),
};

/** Person fields (`fields.country`, `fields.address.city`) on the types that hold them. */
const PERSON_FIELD_TYPES: ReadonlySet<RecurringObjectType> = new Set(['inquiry', 'account']);
const PERSON_FIELD_PATH = /^fields\.(name_first|name_last|birthdate|country|id_number|email|phone|address\.(street|city|postal_code|country))$/;
/** Inquiry scores (`scores.selfie_liveness`). */
const SCORE_PATH = /^scores\.([a-z][a-z0-9_]{0,63})$/;
/** Objects a report can be about (reports.object_id). */
const REPORTABLE: ReadonlySet<RecurringObjectType> = new Set(['inquiry', 'account', 'device']);

/** The field a filter names, or undefined when the type has no such field. */
export function fieldSpec(type: RecurringObjectType, field: string): FieldSpec | undefined {
  // Own properties only: a field named "constructor" or "__proto__" is not a field (it would be Object.prototype's).
  const fields = FILTER_FIELDS[type];
  if (Object.hasOwn(fields, field)) return fields[field];
  if (PERSON_FIELD_TYPES.has(type) && PERSON_FIELD_PATH.test(field)) {
    const path = field.slice('fields.'.length).split('.');
    return { kind: 'text', sql: path.length === 1 ? `(o.fields ->> '${path[0]}')` : `(o.fields #>> '{${path.join(',')}}')` };
  }
  const score = SCORE_PATH.exec(field);
  if (type === 'inquiry' && score) return { kind: 'number', sql: `((o.scores ->> '${score[1]}')::double precision)` };
  return undefined;
}

const scalar = z.union([z.string().max(1000), z.number(), z.boolean()]);

export const comparisonSchema = z.strictObject({
  /** `status`, `tags`, `createdAt`, `fields.country`, `scores.selfie_liveness`... (see docs/schedules.md). */
  field: z.string().min(1).max(100),
  op: z.enum(COMPARISON_OPS),
  /** A scalar; a list for in / not_in; a duration ("30d") for older_than / within; none for exists / not_exists. */
  value: z.union([scalar, z.array(scalar).min(1).max(500)]).optional(),
});
export type Comparison = z.infer<typeof comparisonSchema>;

/** A report about the object exists (optionally of a type, status, match result, and recent). */
export const hasReportSchema = z.strictObject({
  type: z.string().min(1).max(50).optional(),
  status: z.enum(['pending', 'ready', 'errored']).optional(),
  hasMatch: z.boolean().optional(),
  /** Created within this long before the dispatch, e.g. "30d". */
  within: z.string().min(1).max(40).optional(),
});

export type ObjectFilter = Comparison | { all: ObjectFilter[] } | { any: ObjectFilter[] } | { not: ObjectFilter } | { hasReport: z.infer<typeof hasReportSchema> };

export const objectFilterSchema: z.ZodType<ObjectFilter> = z.lazy(() =>
  z.union([
    comparisonSchema,
    z.strictObject({ all: z.array(objectFilterSchema).min(1).max(50) }),
    z.strictObject({ any: z.array(objectFilterSchema).min(1).max(50) }),
    z.strictObject({ not: objectFilterSchema }),
    z.strictObject({ hasReport: hasReportSchema }),
  ]),
);

export interface FilterProblem {
  /** Path below the filter. */
  path: (string | number)[];
  message: string;
}

/**
 * What is wrong with a filter for a type, beyond its shape: unknown fields,
 * operators that do not suit the field, values of the wrong kind. `isDuration`
 * comes in so this file needs no duration parser.
 */
export function filterProblems(type: RecurringObjectType, filter: ObjectFilter, isDuration: (text: string) => boolean, path: (string | number)[] = []): FilterProblem[] {
  if ('all' in filter) return filter.all.flatMap((f, i) => filterProblems(type, f, isDuration, [...path, 'all', i]));
  if ('any' in filter) return filter.any.flatMap((f, i) => filterProblems(type, f, isDuration, [...path, 'any', i]));
  if ('not' in filter) return filterProblems(type, filter.not, isDuration, [...path, 'not']);
  if ('hasReport' in filter) {
    const out: FilterProblem[] = [];
    if (!REPORTABLE.has(type)) out.push({ path: [...path, 'hasReport'], message: `reports are not about ${type} objects; hasReport applies to ${[...REPORTABLE].join(', ')}` });
    const within = filter.hasReport.within;
    if (within !== undefined && !isDuration(within)) out.push({ path: [...path, 'hasReport', 'within'], message: `"${within}" is not a duration; write e.g. "30d"` });
    return out;
  }
  const spec = fieldSpec(type, filter.field);
  if (!spec) {
    const known = Object.keys(FILTER_FIELDS[type]).join(', ');
    const more = PERSON_FIELD_TYPES.has(type) ? ', fields.<person field>' : '';
    return [{ path: [...path, 'field'], message: `${type} objects have no field "${filter.field}" to filter on (known: ${known}${more}${type === 'inquiry' ? ', scores.<name>' : ''})` }];
  }
  if (!OPS_BY_KIND[spec.kind].includes(filter.op)) {
    return [{ path: [...path, 'op'], message: `"${filter.op}" does not apply to ${filter.field} (${spec.kind}); use one of ${OPS_BY_KIND[spec.kind].join(', ')}` }];
  }
  const value = filter.value;
  const valuePath = [...path, 'value'];
  switch (filter.op) {
    case 'exists':
    case 'not_exists':
      return value === undefined ? [] : [{ path: valuePath, message: `${filter.op} takes no value` }];
    case 'in':
    case 'not_in':
      if (!Array.isArray(value)) return [{ path: valuePath, message: `${filter.op} takes a list of values` }];
      return value.flatMap((v, i) => valueProblems(spec.kind, v, [...valuePath, i]));
    case 'older_than':
    case 'within':
      return typeof value === 'string' && isDuration(value) ? [] : [{ path: valuePath, message: `${filter.op} takes a duration, e.g. "30d"` }];
    default:
      if (value === undefined || Array.isArray(value)) return [{ path: valuePath, message: `${filter.op} takes one value` }];
      return valueProblems(spec.kind, value, valuePath);
  }
}

function valueProblems(kind: FieldKind, value: string | number | boolean, path: (string | number)[]): FilterProblem[] {
  switch (kind) {
    case 'text':
    case 'tags':
      return typeof value === 'string' ? [] : [{ path, message: 'must be a string' }];
    case 'number':
      return typeof value === 'number' ? [] : [{ path, message: 'must be a number' }];
    case 'bool':
      return typeof value === 'boolean' ? [] : [{ path, message: 'must be true or false' }];
    case 'timestamp':
      return typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? [] : [{ path, message: 'must be an ISO 8601 timestamp, e.g. "2025-01-31T00:00:00Z"' }];
    default: {
      const unreachable: never = kind;
      throw new Error(`unknown field kind ${String(unreachable)}`);
    }
  }
}
