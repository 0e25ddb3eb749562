/**
 * CEL expressions: one environment, compiled-expression cache, conversion
 * between JSON and CEL values, and the list of `steps.<id>` an expression reads.
 *
 * JSON numbers that are whole become CEL ints and the rest doubles, so
 * `trigger.count + 1` and `trigger.score > 0.5` both work; results come back
 * as plain JSON (ints as numbers, timestamps as RFC 3339 strings).
 *
 * Sandbox-safe and deterministic: no clock, no I/O.
 */
import { Environment } from '@marcbachmann/cel-js';

/** The names an expression may read. Which are bound depends on where it sits. */
export const CEL_VARIABLES = ['trigger', 'steps', 'vars', 'run', 'event', 'object', 'now'] as const;
export type CelVariable = (typeof CEL_VARIABLES)[number];

type Evaluator = (context: Record<string, unknown>) => unknown;
interface CompiledCel {
  source: string;
  evaluate: Evaluator;
  ast: unknown;
  type: string;
}

function makeEnvironment(): Environment {
  const env = new Environment({
    homogeneousAggregateLiterals: false,
    limits: { maxAstNodes: 2000, maxDepth: 64, maxListElements: 500, maxMapEntries: 500, maxCallArguments: 16 },
  });
  for (const name of CEL_VARIABLES) env.registerVariable(name, 'dyn');
  // Whole years from a birthdate to a moment (the run's `now`): `age(trigger.object.fields.birthdate, now) < 18`.
  env.registerFunction('age(string, string): int', (birthdate: string, at: string) => ageInYears(parseDate(birthdate), parseDate(at)));
  env.registerFunction('age(string, google.protobuf.Timestamp): int', (birthdate: string, at: Date) => ageInYears(parseDate(birthdate), at));
  env.registerFunction('age(google.protobuf.Timestamp, google.protobuf.Timestamp): int', (birthdate: Date, at: Date) => ageInYears(birthdate, at));
  return env;
}

function parseDate(text: string): Date {
  // A bare date is a calendar date, not a moment in some time zone.
  const parsed = /^\d{4}-\d{2}-\d{2}$/.test(text) ? new Date(`${text}T00:00:00Z`) : new Date(text);
  if (Number.isNaN(parsed.getTime())) throw new Error(`"${text}" is not a date (YYYY-MM-DD or RFC 3339)`);
  return parsed;
}

function ageInYears(birth: Date, at: Date): bigint {
  let years = at.getUTCFullYear() - birth.getUTCFullYear();
  const beforeBirthday = at.getUTCMonth() < birth.getUTCMonth() || (at.getUTCMonth() === birth.getUTCMonth() && at.getUTCDate() < birth.getUTCDate());
  if (beforeBirthday) years -= 1;
  return BigInt(years);
}

const environment = makeEnvironment();
const cache = new Map<string, CompiledCel>();
const BASE_VARIABLES: ReadonlySet<string> = new Set(CEL_VARIABLES);

/**
 * Inside a for_each loop, expressions also read the item under its own name
 * (`account`, `account_index`): an environment that knows those names too,
 * one per set of names, made once. Elsewhere the names stay unknown, so a
 * misspelt root still fails the type check.
 */
const extended = new Map<string, Environment>();
function environmentFor(extra: readonly string[]): { env: Environment; key: string } {
  const names = [...new Set(extra.filter((n) => !BASE_VARIABLES.has(n)))].sort();
  if (names.length === 0) return { env: environment, key: '' };
  const key = names.join(',');
  let env = extended.get(key);
  if (!env) {
    env = environment.clone();
    for (const name of names) env.registerVariable(name, 'dyn');
    extended.set(key, env);
  }
  return { env, key };
}

export class CelSyntaxError extends Error {
  constructor(
    readonly source: string,
    message: string,
  ) {
    super(message);
    this.name = 'CelSyntaxError';
  }
}

export class CelEvaluationError extends Error {
  constructor(
    readonly source: string,
    message: string,
  ) {
    super(message);
    this.name = 'CelEvaluationError';
  }
}

/** First line of a cel-js message (the rest is a caret diagram). */
function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0].trim();
}

/**
 * Parse and type-check once; throws CelSyntaxError with the parser's message.
 * `extraVariables` are names bound besides the usual roots (a loop's item).
 */
export function compileCel(source: string, extraVariables: readonly string[] = []): CompiledCel {
  const { env, key } = environmentFor(extraVariables);
  const cacheKey = key === '' ? source : `${key}\u0000${source}`;
  const hit = cache.get(cacheKey);
  if (hit) return hit;
  let parsed: ReturnType<Environment['parse']>;
  try {
    parsed = env.parse(source);
  } catch (err) {
    throw new CelSyntaxError(source, firstLine(err));
  }
  const checked = env.check(source);
  if (!checked.valid) throw new CelSyntaxError(source, firstLine(checked.error));
  const compiled: CompiledCel = {
    source,
    evaluate: parsed as unknown as Evaluator,
    ast: (parsed as unknown as { ast: unknown }).ast,
    type: String(checked.type ?? 'dyn'),
  };
  if (cache.size > 5000) cache.clear();
  cache.set(cacheKey, compiled);
  return compiled;
}

/** The type the checker gives an expression's result: `dyn` when it cannot tell, else e.g. `string`, `list<int>`. */
export function celResultType(source: string, extraVariables: readonly string[] = []): string {
  return compileCel(source, extraVariables).type;
}

/** Evaluate against a context of CEL values (see toCel); returns JSON. Names beyond the usual roots are bound as given. */
export function evaluateCel(source: string, celContext: Record<string, unknown>): unknown {
  const compiled = compileCel(source, Object.keys(celContext));
  let result: unknown;
  try {
    result = compiled.evaluate(celContext);
  } catch (err) {
    throw new CelEvaluationError(source, firstLine(err));
  }
  if (result instanceof Promise) throw new CelEvaluationError(source, 'expression did not evaluate synchronously');
  return fromCel(result);
}

/**
 * JSON -> CEL: whole numbers become ints (bigint). Dates become RFC 3339
 * strings: inside the workflow sandbox `Date` is Temporal's deterministic
 * replacement, and cel-js, which recognises a timestamp passed in by its
 * constructor, refuses those ("Unsupported type: Date"). `timestamp(x)` in
 * the expression turns the string into a timestamp.
 */
export function toCel(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(toCel);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) out[key] = toCel((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

/** CEL -> JSON. */
export function fromCel(value: unknown): unknown {
  if (typeof value === 'bigint') {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : value.toString();
  }
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Array.from(value);
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value) out[String(k)] = fromCel(v);
    return out;
  }
  if (Array.isArray(value)) return value.map(fromCel);
  if (value !== null && typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      // Durations and CEL type values: their string form is what a person expects.
      return String(value);
    }
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) out[key] = fromCel((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

interface AstNode {
  op: string;
  args: unknown;
}

function isNode(value: unknown): value is AstNode {
  return typeof value === 'object' && value !== null && typeof (value as AstNode).op === 'string' && 'args' in value;
}

/** Macros that bind their first argument as a loop variable: `list.exists(x, x > 1)`. */
const COMPREHENSION_MACROS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);

/**
 * The roots an expression reads (`trigger`, `steps`, ...) and the step ids it
 * names as `steps.x` or `steps["x"]`. Used by the validator to check that a
 * step only reads steps that can have run before it. Variables bound by a
 * comprehension or `cel.bind` are local: they are neither roots nor `steps`.
 */
export function celReferences(source: string, extraVariables: readonly string[] = []): { variables: Set<string>; steps: Set<string> } {
  const variables = new Set<string>();
  const steps = new Set<string>();
  const isRoot = (node: unknown, name: string, bound: ReadonlySet<string>): boolean =>
    isNode(node) && node.op === 'id' && node.args === name && !bound.has(name);
  const visit = (node: unknown, bound: ReadonlySet<string>): void => {
    if (Array.isArray(node)) {
      node.forEach((n) => visit(n, bound));
      return;
    }
    if (!isNode(node)) return;
    if (node.op === 'id' && typeof node.args === 'string' && !bound.has(node.args)) variables.add(node.args);
    if ((node.op === '.' || node.op === '.?') && Array.isArray(node.args)) {
      const [target, field] = node.args as [unknown, unknown];
      if (isRoot(target, 'steps', bound) && typeof field === 'string') steps.add(field);
    }
    if ((node.op === '[]' || node.op === '[?]') && Array.isArray(node.args)) {
      const [target, key] = node.args as [unknown, unknown];
      if (isRoot(target, 'steps', bound) && isNode(key) && key.op === 'value' && typeof key.args === 'string') {
        steps.add(key.args);
      }
    }
    if (node.op === 'rcall' && Array.isArray(node.args)) {
      // [method, receiver, arguments]
      const [method, receiver, args] = node.args as [unknown, unknown, unknown];
      const loopVariable = Array.isArray(args) && isNode(args[0]) && args[0].op === 'id' ? (args[0].args as string) : undefined;
      if (loopVariable !== undefined && typeof method === 'string' && COMPREHENSION_MACROS.has(method)) {
        visit(receiver, bound);
        visit((args as unknown[]).slice(1), new Set([...bound, loopVariable]));
        return;
      }
      if (loopVariable !== undefined && method === 'bind' && isRoot(receiver, 'cel', bound) && (args as unknown[]).length === 3) {
        const [, value, body] = args as unknown[];
        visit(value, bound);
        visit(body, new Set([...bound, loopVariable]));
        return;
      }
    }
    if (Array.isArray(node.args)) node.args.forEach((n) => visit(n, bound));
    else if (isNode(node.args)) visit(node.args, bound);
  };
  visit(compileCel(source, extraVariables).ast, new Set());
  return { variables, steps };
}
