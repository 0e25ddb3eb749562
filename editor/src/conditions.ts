/**
 * Conditions as rows (field, operator, value; all or any) and as CEL, both
 * ways round. Rows always make CEL; CEL makes rows when it is a plain list
 * of comparisons joined by one kind of connective, else it stays text.
 */

export const OPERATORS = [
  { op: '==', label: 'equals' },
  { op: '!=', label: 'does not equal' },
  { op: '<', label: 'is less than' },
  { op: '<=', label: 'is at most' },
  { op: '>', label: 'is greater than' },
  { op: '>=', label: 'is at least' },
  { op: 'in', label: 'is one of' },
  { op: 'contains', label: 'contains' },
  { op: 'startsWith', label: 'starts with' },
  { op: 'is_true', label: 'is true' },
  { op: 'is_false', label: 'is false' },
  { op: 'exists', label: 'exists' },
] as const;

export type Operator = (typeof OPERATORS)[number]['op'];
export const UNARY: readonly Operator[] = ['is_true', 'is_false', 'exists'];

export interface ConditionRow {
  field: string;
  op: Operator;
  value: string;
}

export type Combinator = 'all' | 'any';

const REFERENCE = /^(trigger|steps|vars|run|now|event|object)\b/;
const NUMBER = /^-?\d+(\.\d+)?$/;

/** A value as the user typed it, as a CEL literal: numbers, true/false/null and data paths stay; other text is quoted. */
export function literal(value: string): string {
  const v = value.trim();
  if (NUMBER.test(v) || v === 'true' || v === 'false' || v === 'null') return v;
  if (v.startsWith('"') || v.startsWith('[') || v.startsWith("'") || REFERENCE.test(v)) return v;
  return JSON.stringify(v);
}

/** The reverse of `literal`: a quoted string shows unquoted unless that would read as something else. */
function unliteral(cel: string): string {
  const v = cel.trim();
  if (/^"([^"\\]|\\.)*"$/.test(v)) {
    const inner = JSON.parse(v) as string;
    return literal(inner) === v ? inner : v;
  }
  return v;
}

function listLiteral(value: string): string {
  const v = value.trim();
  if (v.startsWith('[') || REFERENCE.test(v)) return v;
  return `[${v.split(',').map((x) => literal(x)).join(', ')}]`;
}

export function rowToCel(row: ConditionRow): string {
  const field = row.field.trim();
  switch (row.op) {
    case 'is_true':
      return field;
    case 'is_false':
      return `!${field}`;
    case 'exists':
      return `has(${field})`;
    case 'contains':
    case 'startsWith':
      return `${field}.${row.op}(${literal(row.value)})`;
    case 'in':
      return `${field} in ${listLiteral(row.value)}`;
    default:
      return `${field} ${row.op} ${literal(row.value)}`;
  }
}

export function rowsToCel(rows: ConditionRow[], combinator: Combinator): string {
  const parts = rows.filter((r) => r.field.trim() !== '').map(rowToCel);
  const joiner = combinator === 'all' ? ' && ' : ' || ';
  return parts.map((p) => (parts.length > 1 && / (\|\||&&) /.test(p) ? `(${p})` : p)).join(joiner);
}

/** Split at a top-level token (outside quotes, brackets and parentheses). */
function splitTopLevel(source: string, token: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let last = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (depth === 0 && source.startsWith(token, i)) {
      parts.push(source.slice(last, i));
      last = i + token.length;
      i += token.length - 1;
    }
  }
  parts.push(source.slice(last));
  return parts.map((p) => p.trim());
}

const COMPARISONS = ['==', '!=', '<=', '>=', '<', '>', ' in '];

function parsePart(part: string): ConditionRow | null {
  let m = /^has\((.+)\)$/.exec(part);
  if (m && splitTopLevel(m[1], ')').length === 1) return { field: m[1].trim(), op: 'exists', value: '' };
  m = /^!\s*([A-Za-z_][\w.]*)$/.exec(part);
  if (m) return { field: m[1], op: 'is_false', value: '' };
  m = /^([A-Za-z_][\w.]*)\.(contains|startsWith)\((.+)\)$/.exec(part);
  if (m) return { field: m[1], op: m[2] as Operator, value: unliteral(m[3]) };
  for (const token of COMPARISONS) {
    const sides = splitTopLevel(part, token);
    if (sides.length === 2 && sides[0] && sides[1]) {
      // `<` also matches the start of `<=`: the longer tokens are tried first, so a leftover `=` means a misparse.
      if (sides[1].startsWith('=')) continue;
      const op = token.trim() as Operator;
      const value = op === 'in' && sides[1].startsWith('[') ? sides[1].slice(1, -1).split(',').map(unliteral).join(', ') : unliteral(sides[1]);
      return { field: sides[0], op, value };
    }
  }
  if (/^[A-Za-z_][\w.]*$/.test(part)) return { field: part, op: 'is_true', value: '' };
  return null;
}

/** Rows for a CEL expression, or null when it is more than rows can say. */
export function celToRows(source: string): { rows: ConditionRow[]; combinator: Combinator } | null {
  const text = source.trim();
  if (text === '') return { rows: [{ field: '', op: '==', value: '' }], combinator: 'all' };
  const ands = splitTopLevel(text, '&&');
  const ors = splitTopLevel(text, '||');
  if (ands.length > 1 && ors.length > 1) return null;
  const combinator: Combinator = ors.length > 1 ? 'any' : 'all';
  const parts = combinator === 'any' ? ors : ands;
  const rows: ConditionRow[] = [];
  for (const raw of parts) {
    const part = raw.startsWith('(') && raw.endsWith(')') && splitTopLevel(raw.slice(1, -1), ')').length === 1 ? raw : raw;
    const row = parsePart(part);
    if (!row) return null;
    rows.push(row);
  }
  // Only offer rows when they give back the same expression: nothing is lost by switching views.
  return rowsToCel(rows, combinator).replace(/\s+/g, ' ') === text.replace(/\s+/g, ' ') ? { rows, combinator } : null;
}
