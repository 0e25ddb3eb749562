/**
 * CEL expressions: one environment, compiled-expression cache, conversion
 * between JSON and CEL values, and the list of `steps.<id>` an expression reads.
 *
 * JSON numbers that are whole become CEL ints and the rest doubles, so
 * `trigger.count + 1` and `trigger.score > 0.5` both work; results come back
 * as plain JSON (ints as numbers, timestamps as RFC 3339 strings).
 *
 * Sandbox-safe and deterministic: no clock, no I/O.
 *
 * Cost: every evaluation runs under a budget of CEL_LIMITS.evaluationSteps.
 * Each AST node evaluated costs one step, and a `+` that builds a list or a
 * string costs its length as well, so a nested comprehension or a list that
 * doubles itself through `cel.bind` stops after a bounded amount of work
 * with a CelBudgetError. The budget counts work, not time: the same
 * expression on the same data stops at the same place on every replay.
 * At save time celComplexity() refuses what is sure to be too costly (more
 * than CEL_LIMITS.maxComprehensionNesting nested comprehensions, or an
 * estimate above the budget).
 */
import { Environment } from '@marcbachmann/cel-js';

/** The names an expression may read. Which are bound depends on where it sits. */
export const CEL_VARIABLES = ['trigger', 'steps', 'vars', 'run', 'event', 'object', 'now'] as const;
export type CelVariable = (typeof CEL_VARIABLES)[number];

export const CEL_LIMITS = {
  /** Work one evaluation may do: AST nodes evaluated plus elements and characters built by `+`. */
  evaluationSteps: 100_000,
  /**
   * The budget of an event trigger's filter, smaller: the router evaluates it
   * on the API process's event loop (a few milliseconds at most), where
   * conditions and values run on the workflow worker's threads.
   */
  triggerFilterSteps: 20_000,
  /** Comprehensions (`map`, `filter`, `all`, `exists`, `exists_one`) inside one another. */
  maxComprehensionNesting: 3,
  /** The range a comprehension over run data is assumed to have when the cost is estimated at save time. */
  assumedInputRange: 100,
} as const;

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
  meterEvaluator(env);
  return env;
}

/**
 * The steps left in the evaluation under way (evaluation is synchronous, so
 * one counter serves every environment). Infinity outside evaluateCel.
 */
let stepsLeft = Number.POSITIVE_INFINITY;

class BudgetExhausted extends Error {}

interface EvaluatorInternals {
  run(ast: { op: string; evaluate(ev: unknown, ast: unknown, ctx: unknown): unknown }, ctx: unknown): unknown;
}

/**
 * cel-js evaluates every node below the root through its evaluator's `run`
 * and offers no hook of its own for a cost limit. The evaluator is handed to
 * each node it evaluates, so a probe expression whose root is replaced
 * catches it, and its `run` is wrapped to count. An environment's clones
 * get their own evaluator: each is metered when made.
 */
function meterEvaluator(env: Environment): void {
  let evaluator: EvaluatorInternals | undefined;
  const probe = env.parse('true') as unknown as { (ctx: unknown): unknown; ast: { evaluate: (ev: EvaluatorInternals) => unknown } };
  probe.ast.evaluate = (ev) => {
    evaluator = ev;
    return true;
  };
  probe({});
  if (!evaluator || typeof evaluator.run !== 'function') throw new Error('cel-js: cannot meter evaluation (evaluator not found)');
  evaluator.run = function meteredRun(this: EvaluatorInternals, ast, ctx) {
    if (--stepsLeft < 0) throw new BudgetExhausted('evaluation budget exhausted');
    const result = ast.evaluate(this, ast, ctx);
    if (ast.op === '+') {
      if (typeof result === 'string' || Array.isArray(result)) stepsLeft -= result.length;
      else if (result instanceof Uint8Array) stepsLeft -= result.length;
    }
    return result;
  };
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

/**
 * Made on first use, not when the module loads: the workflow bundle's
 * modules are evaluated afresh for every new workflow execution, and a run
 * that evaluates no CEL should not pay for building the environment.
 */
let baseEnvironment: Environment | undefined;
const environmentOf = (): Environment => (baseEnvironment ??= makeEnvironment());
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
  if (names.length === 0) return { env: environmentOf(), key: '' };
  const key = names.join(',');
  let env = extended.get(key);
  if (!env) {
    env = environmentOf().clone();
    for (const name of names) env.registerVariable(name, 'dyn');
    meterEvaluator(env);
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

/** The expression did more work than CEL_LIMITS.evaluationSteps allows. */
export class CelBudgetError extends CelEvaluationError {
  constructor(source: string, budget: number) {
    super(source, `the expression needs more than its budget of ${budget} evaluation steps (nested comprehensions over large lists, or lists and strings that keep growing)`);
    this.name = 'CelBudgetError';
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

/**
 * Evaluate against a context of CEL values (see toCel); returns JSON. Names
 * beyond the usual roots are bound as given. At most `budget` steps of work
 * (CEL_LIMITS.evaluationSteps unless given); past it, a CelBudgetError.
 */
export function evaluateCel(source: string, celContext: Record<string, unknown>, budget: number = CEL_LIMITS.evaluationSteps): unknown {
  const compiled = compileCel(source, Object.keys(celContext));
  let result: unknown;
  const outer = stepsLeft;
  stepsLeft = budget;
  try {
    result = compiled.evaluate(celContext);
    // Quantifiers (`exists`, `all`) swallow errors of single items, ours included: the count decides.
    if (stepsLeft < 0) throw new BudgetExhausted('evaluation budget exhausted');
  } catch (err) {
    if (err instanceof BudgetExhausted || stepsLeft < 0) throw new CelBudgetError(source, budget);
    throw new CelEvaluationError(source, firstLine(err));
  } finally {
    stepsLeft = outer;
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

export interface CelComplexity {
  /** Deepest nesting of comprehensions (0 when there is none). */
  nesting: number;
  /** Evaluation steps the expression is estimated to need, with ranges over run data taken as CEL_LIMITS.assumedInputRange. */
  estimatedSteps: number;
}

/**
 * A static estimate of an expression's cost, for refusing at save time what
 * is sure to exceed the evaluation budget: each comprehension multiplies the
 * cost of its body by the size of its range (a list or map literal's length,
 * else the assumed size of run data).
 */
export function celComplexity(source: string, extraVariables: readonly string[] = []): CelComplexity {
  let deepest = 0;
  const rangeOf = (node: unknown): number => {
    if (isNode(node) && (node.op === 'list' || node.op === 'map') && Array.isArray(node.args)) return node.args.length;
    return CEL_LIMITS.assumedInputRange;
  };
  const cost = (node: unknown, nesting: number): number => {
    if (Array.isArray(node)) return node.reduce((sum: number, n) => sum + cost(n, nesting), 0);
    if (!isNode(node)) return 0;
    if (node.op === 'rcall' && Array.isArray(node.args)) {
      const [method, receiver, args] = node.args as [unknown, unknown, unknown];
      if (typeof method === 'string' && COMPREHENSION_MACROS.has(method) && Array.isArray(args) && args.length >= 2) {
        const depth = nesting + 1;
        deepest = Math.max(deepest, depth);
        return 1 + cost(receiver, nesting) + rangeOf(receiver) * (1 + cost(args.slice(1), depth));
      }
    }
    if (Array.isArray(node.args)) return 1 + cost(node.args, nesting);
    if (isNode(node.args)) return 1 + cost(node.args, nesting);
    return 1;
  };
  const estimatedSteps = cost(compileCel(source, extraVariables).ast, 0);
  return { nesting: deepest, estimatedSteps };
}

/** Why an expression is too costly to save under `budget`, or undefined when it is not. */
export function celCostProblem(source: string, extraVariables: readonly string[] = [], budget: number = CEL_LIMITS.evaluationSteps): string | undefined {
  const { nesting, estimatedSteps } = celComplexity(source, extraVariables);
  if (nesting > CEL_LIMITS.maxComprehensionNesting) {
    return `comprehensions (map, filter, all, exists, exists_one) are nested ${nesting} deep; at most ${CEL_LIMITS.maxComprehensionNesting} are allowed`;
  }
  if (estimatedSteps > budget) {
    return `the expression is estimated to need about ${estimatedSteps} evaluation steps; the budget is ${budget} (lists of ${CEL_LIMITS.assumedInputRange} items assumed for run data)`;
  }
  return undefined;
}
