/**
 * Flow control expressions of a definition (`flow`), evaluated before any
 * step: the concurrency key, the objects whose events cancel the run, and
 * the idempotency key of an API trigger. Plus the stable ids derived from
 * keys. Pure: the workflow and the API call these with the run's data.
 */
import { CelEvaluationError, evaluateCel, toCel } from './cel';
import type { CancelOn, Flow } from './definition';
import { FailureType, StepError } from './errors';
import type { RunEvent } from './planner';
import type { RunData } from './run-data';

function keyText(what: string, source: string, value: unknown): string {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw new StepError(FailureType.Expression, `${what} must give a non-empty string or a number, got ${JSON.stringify(value)} (in ${JSON.stringify(source)})`);
}

function evaluate(what: string, source: string, context: Record<string, unknown>): unknown {
  try {
    return evaluateCel(source, context);
  } catch (err) {
    if (err instanceof CelEvaluationError) throw new StepError(FailureType.Expression, `${what}: ${err.message} (in ${JSON.stringify(source)})`);
    throw err;
  }
}

/** The run's concurrency key (`flow.concurrency.key` over trigger and run). */
export function concurrencyKeyOf(flow: Flow, data: RunData): string | null {
  if (!flow.concurrency) return null;
  const scope = data.scope();
  const value = evaluate('flow.concurrency.key', flow.concurrency.key, { trigger: scope.cel.trigger, run: scope.cel.run });
  return keyText('flow.concurrency.key', flow.concurrency.key, value);
}

/** The idempotency key of an API trigger's body, or null when the workflow has none. */
export function idempotencyKeyOf(flow: Flow | undefined, trigger: unknown): string | null {
  if (!flow?.idempotencyKey) return null;
  const value = evaluate('flow.idempotencyKey', flow.idempotencyKey, { trigger: toCel(trigger) });
  return keyText('flow.idempotencyKey', flow.idempotencyKey, value);
}

/** For each cancelOn entry, the object id its events must be about (null: any object). */
export function cancelOnObjects(flow: Flow, data: RunData): (string | null)[] {
  const scope = data.scope();
  return (flow.cancelOn ?? []).map((entry, i) => {
    if (entry.object === undefined) return null;
    const value = evaluate(`flow.cancelOn[${i}].object`, entry.object, { trigger: scope.cel.trigger, run: scope.cel.run });
    return keyText(`flow.cancelOn[${i}].object`, entry.object, value);
  });
}

/** Which cancelOn entry this event meets (type, object, match), or -1. A failing match counts as no match. */
export function cancellingEntry(entries: readonly CancelOn[], objectIds: readonly (string | null)[], data: RunData, event: RunEvent): number {
  const scope = data.scope();
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    if (entry.event !== event.type) continue;
    if (objectIds[i] !== null && objectIds[i] !== undefined && event.objectId !== objectIds[i]) continue;
    if (entry.match !== undefined) {
      try {
        if (evaluateCel(entry.match, { trigger: scope.cel.trigger, run: scope.cel.run, event: toCel(event) }) !== true) continue;
      } catch {
        // A cancellation must not fail the run: an event the match cannot read does not cancel.
        continue;
      }
    }
    return i;
  }
  return -1;
}

/**
 * A 64-bit FNV-1a hash as 16 hex digits: stable across processes and safe
 * in the workflow sandbox (no crypto there). Used for ids, not for secrets.
 */
export function stableHash(text: string): string {
  let hash = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  // Over UTF-16 code units, low byte then high byte: no TextEncoder needed.
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    for (const byte of [unit & 0xff, unit >> 8]) {
      hash ^= BigInt(byte);
      hash = (hash * prime) & 0xffffffffffffffffn;
    }
  }
  return hash.toString(16).padStart(16, '0');
}

/** The Temporal workflow id of the gate that holds a key's slots for one workflow. */
export function concurrencyGateId(workflowId: string, key: string): string {
  return `idw-gate-${workflowId}-${stableHash(`${workflowId}\n${key}`)}`;
}
