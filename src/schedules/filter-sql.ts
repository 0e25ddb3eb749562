/**
 * A recurring trigger's filter as SQL: one parameterised WHERE condition
 * over the object's table (alias `o`). Relative times (`older_than: "30d"`,
 * `hasReport.within`) are measured from the dispatch's `asOf`, fixed when the
 * schedule fired, so every page of one dispatch sees the same cut-off.
 *
 * Field names come from the catalog in object-filter.ts, never from the
 * filter text; every value is a bind parameter.
 */
import { parseDuration } from '../interpreter/duration';
import { fieldSpec, type ObjectFilter, type RecurringObjectType } from './object-filter';

export interface CompiledFilter {
  sql: string;
  params: unknown[];
}

/** Compile a validated filter; `params` continue from `startAt` (the next free $n). */
export function compileFilter(type: RecurringObjectType, filter: ObjectFilter | undefined, asOf: Date, params: unknown[] = []): CompiledFilter {
  const bind = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  const before = (duration: string): string => {
    const ms = parseDuration(duration);
    if (ms === undefined) throw new Error(`not a duration: ${duration}`);
    return bind(new Date(asOf.getTime() - ms).toISOString());
  };

  const walk = (f: ObjectFilter): string => {
    if ('all' in f) return `(${f.all.map(walk).join(' AND ')})`;
    if ('any' in f) return `(${f.any.map(walk).join(' OR ')})`;
    if ('not' in f) return `(NOT COALESCE(${walk(f.not)}, false))`;
    if ('hasReport' in f) {
      const where = ['r.object_id = o.id'];
      const r = f.hasReport;
      if (r.type !== undefined) where.push(`r.type = ${bind(r.type)}`);
      if (r.status !== undefined) where.push(`r.status = ${bind(r.status)}`);
      if (r.hasMatch !== undefined) where.push(`r.has_match = ${bind(r.hasMatch)}`);
      if (r.within !== undefined) where.push(`r.created_at >= ${before(r.within)}::timestamptz`);
      return `EXISTS (SELECT 1 FROM reports r WHERE ${where.join(' AND ')})`;
    }
    const spec = fieldSpec(type, f.field);
    if (!spec) throw new Error(`${type} has no field ${f.field}`);
    const col = spec.sql;
    const cast = spec.kind === 'timestamp' ? '::timestamptz' : spec.kind === 'number' ? '::double precision' : spec.kind === 'bool' ? '::boolean' : '';
    switch (f.op) {
      case 'eq':
        return `${col} = ${bind(f.value)}${cast}`;
      case 'ne':
        // "Not this value" includes objects without one.
        return `${col} IS DISTINCT FROM ${bind(f.value)}${cast}`;
      case 'in':
        return `${col} = ANY(${bind(f.value)}${arrayCast(spec.kind)})`;
      case 'not_in':
        return `(${col} IS NULL OR NOT (${col} = ANY(${bind(f.value)}${arrayCast(spec.kind)})))`;
      case 'lt':
        return `${col} < ${bind(f.value)}${cast}`;
      case 'lte':
        return `${col} <= ${bind(f.value)}${cast}`;
      case 'gt':
        return `${col} > ${bind(f.value)}${cast}`;
      case 'gte':
        return `${col} >= ${bind(f.value)}${cast}`;
      case 'exists':
        return spec.kind === 'tags' ? `cardinality(${col}) > 0` : `${col} IS NOT NULL`;
      case 'not_exists':
        return spec.kind === 'tags' ? `cardinality(${col}) = 0` : `${col} IS NULL`;
      case 'contains':
        return `${col} @> ARRAY[${bind(f.value)}]::text[]`;
      case 'older_than':
        return `${col} < ${before(String(f.value))}::timestamptz`;
      case 'within':
        return `${col} >= ${before(String(f.value))}::timestamptz`;
      default: {
        const unreachable: never = f.op;
        throw new Error(`unknown operator ${String(unreachable)}`);
      }
    }
  };

  return { sql: filter ? walk(filter) : 'true', params };
}

function arrayCast(kind: string): string {
  return kind === 'number' ? '::double precision[]' : '::text[]';
}
