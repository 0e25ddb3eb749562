/**
 * "Given the definition and the data so far, what happens next."
 *
 * planStep turns the step about to run into a command record with every
 * expression already resolved; the workflow only carries commands out.
 * nextStepAfter says where a graph goes once a step is done. Conditions are
 * decided here completely: they need no Temporal call.
 *
 * Pure and deterministic: time comes in as an argument.
 */
import { CelEvaluationError, evaluateCel } from './cel';
import type { Step } from './definition';
import { parseDuration } from './duration';
import { FailureType, StepError } from './errors';
import { htmlTemplateParams, LiquidRenderError, renderLiquid } from './liquid';
import { MAX_FOR_EACH_ITEMS } from './limits';
import { assertNever, branchGraphId, loopGraphId, type Program } from './program';
import type { RunData } from './run-data';
import { resolveValue } from './values';

export interface RunEvent {
  /** Unique per event: a redelivered event with the same id is ignored. */
  id: string;
  type: string;
  objectId?: string;
  objectType?: string;
  data?: unknown;
  /** The object as it was after the change, when the event carries it. */
  object?: unknown;
  occurredAt?: string;
  /** Its place in the event log (commit order): what run and wait cursors compare. */
  position?: number;
}

export type Command =
  | { kind: 'action'; stepId: string; action: string; params: Record<string, unknown> }
  | { kind: 'condition'; stepId: string; route: number | 'default'; label?: string; next: string }
  | { kind: 'parallel'; stepId: string; branches: { id: string; graphId: string; start: string; continueOnError: boolean }[] }
  | {
      kind: 'for_each';
      stepId: string;
      /** The list, evaluated once when the step starts. */
      items: unknown[];
      as: string;
      concurrency: number;
      onItemError: 'stop' | 'continue';
      graphId: string;
      start: string;
    }
  | { kind: 'wait_for_event'; stepId: string; events: string[]; objectId: string | null; timeoutMs: number; onTimeout: 'continue' | 'fail'; since: 'run_start' | 'wait_start' }
  | { kind: 'wait_for_time'; stepId: string; delayMs: number; until: string }
  | { kind: 'run_workflow'; stepId: string; workflow: string; input: Record<string, unknown>; wait: boolean }
  | { kind: 'end'; stepId: string; outcome: 'succeeded' | 'failed'; reason?: string; output?: unknown };

/** Run an evaluation, turning expression failures into a StepError for this step. */
function evaluating<T>(stepId: string, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof CelEvaluationError || err instanceof LiquidRenderError) {
      throw new StepError(FailureType.Expression, `${what}: ${err.message} (in ${JSON.stringify(err.source)})`, stepId);
    }
    throw err;
  }
}

export function getStep(program: Program, stepId: string): Step {
  const step = program.steps.get(stepId);
  if (!step) throw new StepError(FailureType.Expression, `no step "${stepId}" in this definition`, stepId);
  return step;
}

export function planStep(program: Program, stepId: string, data: RunData, nowMs: number): Command {
  const step = getStep(program, stepId);
  // `now` is the workflow's clock, handed in (the same on every replay), as RFC 3339 text.
  const scope = data.scope({ now: new Date(nowMs).toISOString() });
  switch (step.type) {
    case 'action': {
      const params = evaluating(step.id, 'params', () => resolveValue(step.params, scope, htmlTemplateParams(step.action))) as Record<string, unknown>;
      return { kind: 'action', stepId: step.id, action: step.action, params };
    }
    case 'condition': {
      for (let i = 0; i < step.routes.length; i++) {
        const route = step.routes[i];
        const value = evaluating(step.id, `routes[${i}].when`, () => evaluateCel(route.when, scope.cel));
        if (typeof value !== 'boolean') {
          throw new StepError(FailureType.Expression, `routes[${i}].when must be true or false, got ${JSON.stringify(value)}`, step.id);
        }
        if (value) return { kind: 'condition', stepId: step.id, route: i, label: route.label, next: route.next };
      }
      return { kind: 'condition', stepId: step.id, route: 'default', next: step.default };
    }
    case 'parallel':
      return {
        kind: 'parallel',
        stepId: step.id,
        branches: step.branches.map((b) => ({
          id: b.id,
          graphId: branchGraphId(step.id, b.id),
          start: b.start ?? b.steps[0].id,
          continueOnError: b.continueOnError,
        })),
      };
    case 'for_each': {
      const items = evaluating(step.id, 'items', () => evaluateCel(step.items, scope.cel));
      if (!Array.isArray(items)) {
        throw new StepError(FailureType.Expression, `items must give a list, got ${JSON.stringify(items)?.slice(0, 200)}`, step.id);
      }
      if (items.length > MAX_FOR_EACH_ITEMS) {
        throw new StepError(FailureType.Expression, `items gave ${items.length} items; a for_each takes at most ${MAX_FOR_EACH_ITEMS}`, step.id);
      }
      return {
        kind: 'for_each',
        stepId: step.id,
        items,
        as: step.as,
        concurrency: step.concurrency,
        onItemError: step.onItemError,
        graphId: loopGraphId(step.id),
        start: step.start ?? step.steps[0].id,
      };
    }
    case 'wait_for_event': {
      let objectId: string | null = null;
      if (step.object !== undefined) {
        const value = evaluating(step.id, 'object', () => evaluateCel(step.object as string, scope.cel));
        if (typeof value !== 'string' || value === '') {
          throw new StepError(FailureType.Expression, `object must give an object id (a string), got ${JSON.stringify(value)}`, step.id);
        }
        objectId = value;
      }
      return {
        kind: 'wait_for_event',
        stepId: step.id,
        events: step.events,
        objectId,
        timeoutMs: parseDuration(step.timeout) ?? 0,
        onTimeout: step.onTimeout,
        since: step.since,
      };
    }
    case 'wait_for_time': {
      let untilMs: number;
      if (step.duration !== undefined) {
        untilMs = nowMs + (parseDuration(step.duration) ?? 0);
      } else {
        const value = evaluating(step.id, 'until', () => evaluateCel(step.until as string, scope.cel));
        const parsed = typeof value === 'string' ? Date.parse(value) : NaN;
        if (Number.isNaN(parsed)) {
          throw new StepError(FailureType.Expression, `until must give a timestamp, got ${JSON.stringify(value)}`, step.id);
        }
        untilMs = parsed;
      }
      return { kind: 'wait_for_time', stepId: step.id, delayMs: Math.max(0, untilMs - nowMs), until: new Date(untilMs).toISOString() };
    }
    case 'run_workflow': {
      const input = evaluating(step.id, 'input', () => resolveValue(step.input, scope)) as Record<string, unknown>;
      return { kind: 'run_workflow', stepId: step.id, workflow: step.workflow, input, wait: step.wait };
    }
    case 'end': {
      const reason = step.reason === undefined ? undefined : evaluating(step.id, 'reason', () => renderLiquid(step.reason as string, scope.json));
      const output = step.output === undefined ? undefined : evaluating(step.id, 'output', () => resolveValue(step.output, scope));
      return { kind: 'end', stepId: step.id, outcome: step.outcome, reason, output };
    }
    default:
      return assertNever(step);
  }
}

/** Where the graph goes after a step finishes; null ends the graph. */
export function nextStepAfter(program: Program, command: Command): string | null {
  if (command.kind === 'condition') return command.next;
  if (command.kind === 'end') return null;
  const step = getStep(program, command.stepId);
  return 'next' in step && step.next ? step.next : null;
}

/** The names a loop's item has inside it: `<as>` and `<as>_index`. */
export function itemScope(command: Extract<Command, { kind: 'for_each' }>, item: unknown, index: number): Record<string, unknown> {
  return { [command.as]: item, [`${command.as}_index`]: index };
}

/**
 * An item's result: the step's `result` resolved in the item's scope, or
 * (without one) the output of the last step the item ran.
 */
export function itemResult(program: Program, stepId: string, itemData: RunData, lastOutput: unknown): unknown {
  const step = getStep(program, stepId);
  if (step.type !== 'for_each' || step.result === undefined) return lastOutput ?? null;
  return evaluating(step.id, 'result', () => resolveValue(step.result, itemData.scope()));
}

/** Does this event resolve the wait? Type, object and the step's `match`. */
export function eventMatches(program: Program, command: Extract<Command, { kind: 'wait_for_event' }>, data: RunData, event: RunEvent): boolean {
  if (!command.events.includes(event.type)) return false;
  if (command.objectId !== null && event.objectId !== command.objectId) return false;
  const step = getStep(program, command.stepId);
  if (step.type !== 'wait_for_event' || step.match === undefined) return true;
  const scope = data.scope({ event });
  const value = evaluating(step.id, 'match', () => evaluateCel(step.match as string, scope.cel));
  return value === true;
}
