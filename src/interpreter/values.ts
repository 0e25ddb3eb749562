/**
 * Resolving value fields (action params, run-workflow input, end output)
 * against the run's data, and listing what they reference.
 *
 * - `{ "$cel": "expr" }`: the expression's value;
 * - `{ "$literal": x }`: x, untouched (a way to send text containing `{{`);
 * - a string with Liquid markup: the rendered string;
 * - arrays and objects: resolved member by member; anything else as it is.
 */
import { celReferences, compileCel, evaluateCel } from './cel';
import { compileLiquid, isLiquidTemplate, liquidStepReferences, renderLiquid, type LiquidContext } from './liquid';

export interface ValueScope {
  /** The run's data as JSON (for Liquid). */
  json: Record<string, unknown>;
  /** The same data converted for CEL. */
  cel: Record<string, unknown>;
}

function singleKey(value: object, key: string): boolean {
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === key;
}

export function isCelValue(value: unknown): value is { $cel: string } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && singleKey(value, '$cel') && typeof (value as { $cel: unknown }).$cel === 'string';
}

export function isLiteralValue(value: unknown): value is { $literal: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && singleKey(value, '$literal');
}

/** True when the value's content is only known at run time. */
export function isDynamicValue(value: unknown): boolean {
  if (isCelValue(value)) return true;
  if (isLiteralValue(value)) return false;
  if (typeof value === 'string') return isLiquidTemplate(value);
  if (Array.isArray(value)) return value.some(isDynamicValue);
  if (value !== null && typeof value === 'object') return Object.values(value).some(isDynamicValue);
  return false;
}

/**
 * `htmlKeys`: top-level keys whose templates render into HTML (outputs
 * escaped unless `| raw`), e.g. send_email's `html`.
 */
export function resolveValue(value: unknown, scope: ValueScope, htmlKeys: readonly string[] = []): unknown {
  if (htmlKeys.length > 0 && value !== null && typeof value === 'object' && !Array.isArray(value) && !isCelValue(value) && !isLiteralValue(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      out[key] = resolveIn((value as Record<string, unknown>)[key], scope, htmlKeys.includes(key) ? 'html' : 'text');
    }
    return out;
  }
  return resolveIn(value, scope, 'text');
}

function resolveIn(value: unknown, scope: ValueScope, context: LiquidContext): unknown {
  if (isCelValue(value)) return evaluateCel(value.$cel, scope.cel);
  if (isLiteralValue(value)) return value.$literal;
  if (typeof value === 'string') return isLiquidTemplate(value) ? renderLiquid(value, scope.json, context) : value;
  if (Array.isArray(value)) return value.map((item) => resolveIn(item, scope, context));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) out[key] = resolveIn((value as Record<string, unknown>)[key], scope, context);
    return out;
  }
  return value;
}

export interface EmbeddedExpression {
  kind: 'cel' | 'liquid';
  source: string;
  path: (string | number)[];
}

/** Every CEL expression and Liquid template inside a value, with its path. */
export function embeddedExpressions(value: unknown, path: (string | number)[] = []): EmbeddedExpression[] {
  if (isCelValue(value)) return [{ kind: 'cel', source: value.$cel, path: [...path, '$cel'] }];
  if (isLiteralValue(value)) return [];
  if (typeof value === 'string') return isLiquidTemplate(value) ? [{ kind: 'liquid', source: value, path }] : [];
  if (Array.isArray(value)) return value.flatMap((item, i) => embeddedExpressions(item, [...path, i]));
  if (value !== null && typeof value === 'object') {
    return Object.keys(value).flatMap((key) => embeddedExpressions((value as Record<string, unknown>)[key], [...path, key]));
  }
  return [];
}

/** Check syntax; throws the CEL or Liquid syntax error. `extraVariables`: names a loop binds. */
export function compileExpression(expr: EmbeddedExpression, extraVariables: readonly string[] = []): void {
  if (expr.kind === 'cel') compileCel(expr.source, extraVariables);
  else compileLiquid(expr.source);
}

export function expressionStepReferences(expr: EmbeddedExpression, extraVariables: readonly string[] = []): Set<string> {
  return expr.kind === 'cel' ? celReferences(expr.source, extraVariables).steps : liquidStepReferences(expr.source);
}
