/**
 * Validation of a definition when it is saved: the schema, then the graph,
 * then every expression and every action's parameters. Returns all problems
 * at once, each with a JSON Pointer to where it is and the step it concerns.
 *
 * Pure: the action catalog comes in as an argument.
 */
import { z } from 'zod';
import type { ActionCatalog } from './actions';
import { CEL_LIMITS, CelSyntaxError, celCostProblem, celReferences, celResultType, compileCel } from './cel';
import { canCatch, definitionSchema, forEachStep, type Definition, type Step } from './definition';
import { waitDurationProblem, parseDuration } from './duration';
import { ERROR_KEYWORDS, MAX_STEP_ATTEMPTS, knownErrorTypes } from './failures';
import { MAX_DEFINITION_STEPS, MAX_EXPRESSION_LENGTH, MAX_FOR_EACH_CONCURRENCY, MAX_FLOW_CONCURRENCY_LIMIT, MAX_STEP_NESTING } from './limits';
import { jsonSchemaProblems } from './json-schema';
import { recurringProblems, timingProblems } from '../schedules/trigger-checks';
import { LiquidSyntaxError } from './liquid';
import { MAIN_GRAPH, buildProgram, links, type GraphInfo, type Program } from './program';
import { compileExpression, embeddedExpressions, expressionStepReferences, isDynamicValue, resolveValue, type EmbeddedExpression, type ValueScope } from './values';

export type ProblemCode =
  | 'invalid_shape'
  | 'duplicate_id'
  | 'unknown_step'
  | 'unknown_action'
  | 'unreachable_step'
  | 'cycle_without_wait'
  | 'expression_syntax'
  | 'unknown_variable'
  | 'reference_not_before'
  | 'invalid_params'
  | 'invalid_input_schema'
  | 'invalid_duration'
  | 'invalid_schedule'
  | 'invalid_filter'
  | 'end_in_branch'
  | 'unknown_error_type'
  | 'items_not_list'
  | 'expression_too_costly'
  | 'out_of_range'
  | 'wrong_trigger';

export interface Problem {
  code: ProblemCode;
  /** JSON Pointer into the definition, e.g. `/steps/2/next`. */
  path: string;
  stepId?: string;
  message: string;
}

export type ValidationResult = { ok: true; definition: Definition } | { ok: false; problems: Problem[] };

export function toPointer(path: readonly PropertyKey[]): string {
  return '/' + path.map((p) => String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
}

/** Which names each kind of expression may read. */
const STEP_VARIABLES = new Set(['trigger', 'steps', 'vars', 'run', 'now']);
const MATCH_VARIABLES = new Set([...STEP_VARIABLES, 'event']);
const FILTER_VARIABLES = new Set(['event', 'object']);
/** Flow expressions run before any step: they see the trigger and the run only. */
const FLOW_KEY_VARIABLES = new Set(['trigger', 'run']);
const IDEMPOTENCY_KEY_VARIABLES = new Set(['trigger']);
const CANCEL_MATCH_VARIABLES = new Set(['trigger', 'run', 'event']);

/** Names any expression may be checked against; others are a loop's item names. */
const BASE_NAMES = new Set([...MATCH_VARIABLES, ...FILTER_VARIABLES]);

interface Located {
  step: Step;
  path: (string | number)[];
}

export function validateDefinition(raw: unknown, catalog: ActionCatalog): ValidationResult {
  const parsed = definitionSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((issue) => ({
        code: 'invalid_shape',
        path: toPointer(issue.path),
        stepId: stepIdAt(raw, issue.path),
        message: issue.message,
      })),
    };
  }
  const definition = parsed.data;
  const problems: Problem[] = [];
  const located = new Map<string, Located>();
  const add = (code: ProblemCode, path: (string | number)[], message: string, stepId?: string): void => {
    problems.push({ code, path: toPointer(path), stepId, message });
  };

  // Size first: the graph checks below grow faster than the definition does.
  checkSize(definition, add);
  if (problems.length > 0) return { ok: false, problems };

  // Ids: unique across the whole definition; branch ids unique within their step.
  forEachStep(definition.steps, (step, path) => {
    if (located.has(step.id)) {
      add('duplicate_id', [...path, 'id'], `step id "${step.id}" is already used at ${toPointer(located.get(step.id)!.path)}`, step.id);
    } else {
      located.set(step.id, { step, path });
    }
    if (step.type === 'parallel') {
      const seen = new Set<string>();
      step.branches.forEach((b, i) => {
        if (seen.has(b.id)) add('duplicate_id', [...path, 'branches', i, 'id'], `branch id "${b.id}" is used twice in this parallel step`, step.id);
        seen.add(b.id);
      });
    }
  });

  const program = buildProgram(definition);
  checkGraphs(definition, program, located, add);
  checkTrigger(definition, add);
  checkFlow(definition, add);
  checkSteps(program, located, catalog, add);

  return problems.length > 0 ? { ok: false, problems } : { ok: true, definition };
}

/** At most MAX_DEFINITION_STEPS steps in all, and parallel / for_each steps at most MAX_STEP_NESTING deep. */
function checkSize(definition: Definition, add: Add): void {
  let count = 0;
  let tooDeep: { step: Step; path: (string | number)[] } | undefined;
  forEachStep(definition.steps, (step, path, branchPath) => {
    count++;
    if (!tooDeep && branchPath.length > MAX_STEP_NESTING) tooDeep = { step, path };
  });
  if (count > MAX_DEFINITION_STEPS) {
    add('out_of_range', ['steps'], `the definition has ${count} steps (branches and loops included); at most ${MAX_DEFINITION_STEPS} are allowed`);
  }
  if (tooDeep) {
    add('out_of_range', tooDeep.path, `parallel and for_each steps are nested more than ${MAX_STEP_NESTING} deep here; at most ${MAX_STEP_NESTING} levels are allowed`, tooDeep.step.id);
  }
}

/** The id of the step a zod issue path points into, when it is inside one. */
function stepIdAt(raw: unknown, path: readonly PropertyKey[]): string | undefined {
  let node: unknown = raw;
  let found: string | undefined;
  for (const key of path) {
    if (node === null || typeof node !== 'object') break;
    node = (node as Record<PropertyKey, unknown>)[key];
    if (node && typeof node === 'object' && !Array.isArray(node) && typeof (node as { id?: unknown }).id === 'string' && typeof (node as { type?: unknown }).type === 'string') {
      found = (node as { id: string }).id;
    }
  }
  return found;
}

type Add = (code: ProblemCode, path: (string | number)[], message: string, stepId?: string) => void;

function checkGraphs(definition: Definition, program: Program, located: Map<string, Located>, add: Add): void {
  for (const graph of program.graphs.values()) {
    const inGraph = new Set(graph.stepIds);
    const own = ownSteps(program, graph);
    const ownerPath = graph.owner ? located.get(graph.owner)!.path : [];
    if (graph.id === MAIN_GRAPH && definition.start !== undefined && !inGraph.has(definition.start)) {
      add('unknown_step', ['start'], `start names "${definition.start}", which is not a step of the main graph`);
    }
    if (graph.owner) {
      const owner = located.get(graph.owner)!.step;
      if (owner.type === 'parallel') {
        const index = owner.branches.findIndex((b) => `${owner.id}.${b.id}` === graph.id);
        const branch = owner.branches[index];
        if (branch?.start !== undefined && !inGraph.has(branch.start)) {
          add('unknown_step', [...ownerPath, 'branches', index, 'start'], `start names "${branch.start}", which is not a step of branch "${branch.id}"`, owner.id);
        }
      }
      if (owner.type === 'for_each' && owner.start !== undefined && !inGraph.has(owner.start)) {
        add('unknown_step', [...ownerPath, 'start'], `start names "${owner.start}", which is not a step of the loop "${owner.id}"`, owner.id);
      }
    }

    // Every link must stay inside its own graph.
    const edges = new Map<string, string[]>();
    for (const id of own) {
      const { step, path } = located.get(id)!;
      const valid: string[] = [];
      forEachLink(step, (target, linkPath) => {
        if (inGraph.has(target)) valid.push(target);
        else if (program.steps.has(target)) {
          add('unknown_step', [...path, ...linkPath], `"${target}" is in another ${graph.owner ? 'graph' : 'branch'}; a link must stay within its own graph`, id);
        } else {
          add('unknown_step', [...path, ...linkPath], `no step "${target}" exists`, id);
        }
      });
      edges.set(id, valid);
      if (step.type === 'end' && graph.owner) {
        add(
          'end_in_branch',
          [...path, 'type'],
          graph.ownerKind === 'for_each'
            ? 'end steps belong to the main graph; an item of a for_each ends at a step with no next'
            : 'end steps belong to the main graph; a branch ends at a step with no next',
          id,
        );
      }
    }

    // Reachability from the graph's start.
    const reached = new Set<string>();
    const stack = inGraph.has(graph.start) ? [graph.start] : [];
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (reached.has(id)) continue;
      reached.add(id);
      stack.push(...(edges.get(id) ?? []));
    }
    if (inGraph.has(graph.start)) {
      for (const id of own) {
        if (!reached.has(id)) add('unreachable_step', located.get(id)!.path, `step "${id}" cannot be reached from "${graph.start}"`, id);
      }
    }

    // A cycle must contain a wait, or it would spin forever without yielding.
    for (const component of stronglyConnected(own, edges)) {
      const isCycle = component.length > 1 || (edges.get(component[0]) ?? []).includes(component[0]);
      if (!isCycle) continue;
      if (component.some((id) => holdsAWait(located.get(id)!.step))) continue;
      const sorted = [...component].sort((a, b) => graph.stepIds.indexOf(a) - graph.stepIds.indexOf(b));
      add('cycle_without_wait', located.get(sorted[0])!.path, `the cycle ${sorted.join(' -> ')} -> ${sorted[0]} has no wait_for_event or wait_for_time step, so it would never pause`, sorted[0]);
    }
  }
}

/**
 * The distinct ids of the steps a graph holds. A reused id names its first
 * step everywhere (the reuse is reported as duplicate_id), so a graph does
 * not own a later step with that id and checks nothing on its behalf.
 */
function ownSteps(program: Program, graph: GraphInfo): string[] {
  return [...new Set(graph.stepIds.filter((id) => program.graphOf.get(id) === graph.id))];
}

function forEachLink(step: Step, visit: (target: string, path: (string | number)[]) => void): void {
  switch (step.type) {
    case 'condition':
      step.routes.forEach((r, i) => visit(r.next, ['routes', i, 'next']));
      visit(step.default, ['default']);
      return;
    case 'end':
      return;
    default:
      if (step.next !== undefined) visit(step.next, ['next']);
      if (canCatch(step)) step.catch?.forEach((c, i) => visit(c.next, ['catch', i, 'next']));
  }
}

/**
 * A step that always pauses the run. A parallel step does when a branch
 * does (every branch runs); a for_each does not count: its list may be empty.
 */
function holdsAWait(step: Step): boolean {
  if (step.type === 'wait_for_event' || step.type === 'wait_for_time') return true;
  if (step.type === 'parallel') return step.branches.some((b) => b.steps.some(holdsAWait));
  return false;
}

/** Tarjan's algorithm; components come out in a deterministic order. */
function stronglyConnected(nodes: string[], edges: Map<string, string[]>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  const connect = (v: string): void => {
    indices.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!indices.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, indices.get(w)!));
      }
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      out.push(component);
    }
  };
  for (const n of nodes) if (!indices.has(n)) connect(n);
  return out;
}

function checkTrigger(definition: Definition, add: Add): void {
  const trigger = definition.trigger;
  switch (trigger.type) {
    case 'api':
      if (trigger.inputSchema) {
        for (const p of jsonSchemaProblems(trigger.inputSchema)) {
          add('invalid_input_schema', ['trigger', 'inputSchema', ...p.path.split('/').filter(Boolean)], `not a valid JSON Schema: ${p.message}`);
        }
      }
      return;
    case 'event':
      if (trigger.filter !== undefined) checkCel(trigger.filter, ['trigger', 'filter'], FILTER_VARIABLES, add, undefined, CEL_LIMITS.triggerFilterSteps);
      return;
    case 'schedule':
      for (const p of timingProblems(trigger)) add(p.code, ['trigger', ...p.path], p.message);
      return;
    case 'recurring':
      for (const p of recurringProblems(trigger)) add(p.code, ['trigger', ...p.path], p.message);
      return;
    default:
      return;
  }
}

function checkFlow(definition: Definition, add: Add): void {
  const flow = definition.flow;
  if (!flow) return;
  if (flow.concurrency) {
    checkCel(flow.concurrency.key, ['flow', 'concurrency', 'key'], FLOW_KEY_VARIABLES, add);
    const limit = flow.concurrency.limit;
    if (limit < 1 || limit > MAX_FLOW_CONCURRENCY_LIMIT) {
      add('out_of_range', ['flow', 'concurrency', 'limit'], `limit must be from 1 to ${MAX_FLOW_CONCURRENCY_LIMIT}, got ${limit}`);
    }
  }
  if (flow.idempotencyKey !== undefined) {
    checkCel(flow.idempotencyKey, ['flow', 'idempotencyKey'], IDEMPOTENCY_KEY_VARIABLES, add);
    if (definition.trigger.type !== 'api') {
      add('wrong_trigger', ['flow', 'idempotencyKey'], `an idempotency key applies to API triggers; ${definition.trigger.type} triggers are deduplicated by their own ids`);
    }
  }
  flow.cancelOn?.forEach((c, i) => {
    if (c.object !== undefined) checkCel(c.object, ['flow', 'cancelOn', i, 'object'], FLOW_KEY_VARIABLES, add);
    if (c.match !== undefined) checkCel(c.match, ['flow', 'cancelOn', i, 'match'], CANCEL_MATCH_VARIABLES, add);
  });
}

/** Syntax and variable check of one CEL expression; false when it is unusable. */
function checkCel(source: string, path: (string | number)[], allowed: Set<string>, add: Add, stepId?: string, budget?: number): boolean {
  const loopNames = [...allowed].filter((n) => !BASE_NAMES.has(n));
  try {
    compileCel(source, loopNames);
  } catch (err) {
    if (err instanceof CelSyntaxError) {
      add('expression_syntax', path, `CEL: ${err.message}`, stepId);
      return false;
    }
    throw err;
  }
  for (const name of celReferences(source, loopNames).variables) {
    if (!allowed.has(name)) {
      add('unknown_variable', path, `"${name}" is not available here; use ${[...allowed].join(', ')}`, stepId);
      return false;
    }
  }
  // Refused when saved rather than failing (or being cut off by the budget) on every run.
  const costly = celCostProblem(source, loopNames, budget);
  if (costly !== undefined) {
    add('expression_too_costly', path, `CEL: ${costly}`, stepId);
    return false;
  }
  return true;
}

function checkSteps(program: Program, located: Map<string, Located>, catalog: ActionCatalog, add: Add): void {
  const before = stepsThatCanRunBefore(program);
  for (const [id, { step, path }] of located) {
    // Inside a for_each, expressions also read the item under its name.
    const loopNames = loopNamesOf(program, id);
    const stepVariables = withNames(STEP_VARIABLES, loopNames);
    const expressions: { expr: EmbeddedExpression; allowed: Set<string>; canReference?: Set<string> }[] = [];
    const cel = (source: string, at: (string | number)[], allowed = stepVariables): void => {
      expressions.push({ expr: { kind: 'cel', source, path: at }, allowed });
    };
    const values = (value: unknown, at: (string | number)[], allowed = stepVariables, canReference?: Set<string>): void => {
      for (const expr of embeddedExpressions(value, at)) expressions.push({ expr, allowed, canReference });
    };
    switch (step.type) {
      case 'action':
        values(step.params, [...path, 'params']);
        checkAction(step, path, catalog, add);
        checkRetry(step, path, catalog, add);
        break;
      case 'condition':
        step.routes.forEach((r, i) => cel(r.when, [...path, 'routes', i, 'when']));
        break;
      case 'wait_for_event': {
        if (step.object !== undefined) cel(step.object, [...path, 'object']);
        if (step.match !== undefined) cel(step.match, [...path, 'match'], withNames(MATCH_VARIABLES, loopNames));
        const problem = waitDurationProblem(step.timeout);
        if (problem) add('invalid_duration', [...path, 'timeout'], problem, id);
        break;
      }
      case 'wait_for_time': {
        if (step.until !== undefined) cel(step.until, [...path, 'until']);
        const problem = step.duration !== undefined ? waitDurationProblem(step.duration) : undefined;
        if (problem) add('invalid_duration', [...path, 'duration'], problem, id);
        break;
      }
      case 'run_workflow':
        values(step.input, [...path, 'input']);
        break;
      case 'end':
        if (step.reason !== undefined) expressions.push({ expr: { kind: 'liquid', source: step.reason, path: [...path, 'reason'] }, allowed: stepVariables });
        if (step.output !== undefined) values(step.output, [...path, 'output']);
        break;
      case 'for_each': {
        cel(step.items, [...path, 'items']);
        if (step.concurrency < 1 || step.concurrency > MAX_FOR_EACH_CONCURRENCY) {
          add('out_of_range', [...path, 'concurrency'], `concurrency must be from 1 to ${MAX_FOR_EACH_CONCURRENCY}, got ${step.concurrency}`, id);
        }
        if (step.result !== undefined) {
          // The result is resolved in the item's scope, after the item's steps.
          const inner = new Set<string>(program.graphs.get(`${id}.each`)?.stepIds ?? []);
          const outer = before.get(id);
          values(step.result, [...path, 'result'], withNames(STEP_VARIABLES, [...loopNames, step.as, `${step.as}_index`]), outer ? new Set([...outer, ...inner]) : undefined);
        }
        break;
      }
      case 'parallel':
        break;
      default:
        break;
    }
    if (canCatch(step)) {
      checkCatch(step, path, catalog, add);
      if (step.deadline !== undefined) {
        const problem = limitProblem(step.deadline, MAX_WAIT_LIKE_MS, '30 days');
        if (problem) add('invalid_duration', [...path, 'deadline'], problem, id);
      }
    }

    // Undefined only for the steps of a branch whose id is reused (reported as
    // duplicate_id): they have no graph, so what they can read is unknown.
    for (const { expr, allowed, canReference = before.get(id) } of expressions) {
      if (expr.source.length > MAX_EXPRESSION_LENGTH) {
        add('out_of_range', expr.path, `the expression is ${expr.source.length} characters long; at most ${MAX_EXPRESSION_LENGTH} are allowed`, id);
        continue;
      }
      const exprLoopNames = [...allowed].filter((n) => !BASE_NAMES.has(n));
      if (expr.kind === 'cel') {
        if (!checkCel(expr.source, expr.path, allowed, add, id)) continue;
        if (expr.path[expr.path.length - 1] === 'items' && step.type === 'for_each' && expr.source === step.items) {
          const type = celResultType(expr.source, exprLoopNames);
          if (type !== 'dyn' && !type.startsWith('list')) add('items_not_list', expr.path, `items must give a list; this expression gives ${type}`, id);
        }
      } else {
        try {
          compileExpression(expr, exprLoopNames);
        } catch (err) {
          if (err instanceof LiquidSyntaxError) {
            add('expression_syntax', expr.path, `Liquid: ${err.message}`, id);
            continue;
          }
          throw err;
        }
      }
      for (const ref of expressionStepReferences(expr, exprLoopNames)) {
        if (!program.steps.has(ref)) add('reference_not_before', expr.path, `reads steps.${ref}, but there is no step "${ref}"`, id);
        else if (canReference && !canReference.has(ref)) add('reference_not_before', expr.path, `reads steps.${ref}, but "${ref}" cannot have run before "${id}" on any path`, id);
      }
    }
  }
}

const withNames = (base: Set<string>, names: string[]): Set<string> => (names.length === 0 ? base : new Set([...base, ...names]));

/** The item names bound around a step: those of every for_each it sits in, innermost last. */
function loopNamesOf(program: Program, stepId: string): string[] {
  const names: string[] = [];
  let graph = program.graphs.get(program.graphOf.get(stepId) ?? MAIN_GRAPH);
  while (graph?.owner) {
    const owner = program.steps.get(graph.owner);
    if (owner?.type === 'for_each') names.unshift(owner.as, `${owner.as}_index`);
    graph = program.graphs.get(program.graphOf.get(graph.owner) ?? MAIN_GRAPH);
  }
  return names;
}

/** Waits, deadlines and per-attempt timeouts share the 30-day cap. */
const MAX_WAIT_LIKE_MS = 30 * 24 * 60 * 60 * 1000;
/** A wait between retries longer than a day is a schedule, not a retry. */
const MAX_RETRY_INTERVAL_MS = 24 * 60 * 60 * 1000;

function limitProblem(text: string, maxMs: number, maxText: string): string | undefined {
  const value = parseDuration(text);
  if (value === undefined) return `"${text}" is not a duration; write e.g. "30s", "15m", "2h"`;
  if (value > maxMs) return `"${text}" is longer than the ${maxText} maximum`;
  return undefined;
}

function checkRetry(step: Extract<Step, { type: 'action' }>, path: (string | number)[], catalog: ActionCatalog, add: Add): void {
  if (step.timeout !== undefined) {
    const problem = limitProblem(step.timeout, MAX_WAIT_LIKE_MS, '30 days');
    if (problem) add('invalid_duration', [...path, 'timeout'], problem, step.id);
  }
  const retry = step.retry;
  if (!retry) return;
  const at = [...path, 'retry'];
  if (retry.attempts !== undefined && (retry.attempts < 1 || retry.attempts > MAX_STEP_ATTEMPTS)) {
    add('out_of_range', [...at, 'attempts'], `attempts must be from 1 to ${MAX_STEP_ATTEMPTS}, got ${retry.attempts}`, step.id);
  }
  if (retry.backoff !== undefined && (retry.backoff < 1 || retry.backoff > 100)) {
    add('out_of_range', [...at, 'backoff'], `backoff must be from 1 (constant waits) to 100, got ${retry.backoff}`, step.id);
  }
  for (const field of ['initialInterval', 'maximumInterval'] as const) {
    const text = retry[field];
    const problem = text === undefined ? undefined : limitProblem(text, MAX_RETRY_INTERVAL_MS, '1-day');
    if (problem) add('invalid_duration', [...at, field], problem, step.id);
  }
  const known = knownErrorTypes(step, catalog);
  if (!known) return;
  retry.nonRetryable?.forEach((name, i) => {
    if (!known.has(name)) add('unknown_error_type', [...at, 'nonRetryable', i], `"${name}" is not an error type "${step.id}" can fail with; known: ${[...known].sort().join(', ')}`, step.id);
  });
}

function checkCatch(step: Step, path: (string | number)[], catalog: ActionCatalog, add: Add): void {
  if (!canCatch(step) || !step.catch) return;
  const known = knownErrorTypes(step, catalog);
  if (!known) return;
  step.catch.forEach((route, r) => {
    route.errors?.forEach((name, i) => {
      if ((ERROR_KEYWORDS as readonly string[]).includes(name) || known.has(name)) return;
      add(
        'unknown_error_type',
        [...path, 'catch', r, 'errors', i],
        `"${name}" is not an error "${step.id}" can fail with; use timeout, non_retryable or one of ${[...known].sort().join(', ')}`,
        step.id,
      );
    });
  });
}

function checkAction(step: Extract<Step, { type: 'action' }>, path: (string | number)[], catalog: ActionCatalog, add: Add): void {
  const spec = catalog.get(step.action);
  if (!spec) {
    const known = [...catalog.keys()].sort().join(', ');
    add('unknown_action', [...path, 'action'], `unknown action "${step.action}"; known actions: ${known}`, step.id);
    return;
  }
  // Only what is known now can be checked now: values computed at run time
  // are checked again, in full, when the action runs.
  let schema = spec.params;
  const dynamicKeys = Object.keys(step.params).filter((k) => isDynamicValue(step.params[k]));
  if (dynamicKeys.length > 0 && schema instanceof z.ZodObject) {
    const shape = schema.shape as Record<string, unknown>;
    const mask = Object.fromEntries(dynamicKeys.filter((k) => k in shape).map((k) => [k, true as const]));
    schema = (schema as z.ZodObject<z.ZodRawShape>).omit(mask as never);
  }
  // Static values still unwrap `$literal`, as they will when the step runs.
  const noData: ValueScope = { json: {}, cel: {} };
  const staticParams = Object.fromEntries(
    Object.entries(step.params)
      .filter(([k]) => !dynamicKeys.includes(k))
      .map(([k, v]) => [k, resolveValue(v, noData)]),
  );
  const result = schema.safeParse(staticParams);
  if (!result.success) {
    for (const issue of result.error.issues) {
      add('invalid_params', [...path, 'params', ...(issue.path as (string | number)[])], `${step.action}: ${issue.message}`, step.id);
    }
  }
}

/**
 * For each step, the steps that can have finished before it starts on some
 * path: its ancestors in its own graph, everything nested inside an ancestor
 * parallel step, and (for a step in a branch) whatever could run before the
 * parallel step that owns the branch. A step in a cycle counts as its own
 * ancestor: it ran in the previous round.
 */
function stepsThatCanRunBefore(program: Program): Map<string, Set<string>> {
  const result = new Map<string, Set<string>>();
  // What a parallel step's branches ran is readable after it; what a
  // for_each's items ran stays with each item (read its output instead).
  const nested = (stepId: string): string[] => {
    const step = program.steps.get(stepId);
    if (!step || step.type !== 'parallel') return [];
    const out: string[] = [];
    forEachStep(step.branches.flatMap((b) => b.steps), (s) => out.push(s.id), ['steps'], [], { intoLoops: false });
    return out;
  };
  const graphs = [...program.graphs.values()];
  // Parents before children: a branch needs its owner's set first.
  const ordered = graphs.sort((a, b) => depth(program, a.id) - depth(program, b.id));
  for (const graph of ordered) {
    const inherited = graph.owner ? result.get(graph.owner) ?? new Set<string>() : new Set<string>();
    const own = ownSteps(program, graph);
    const predecessors = new Map<string, string[]>();
    for (const id of own) predecessors.set(id, []);
    for (const id of own) {
      // A catch route's target can read the step that failed into it.
      for (const next of links(program.steps.get(id)!)) predecessors.get(next)?.push(id);
    }
    for (const id of own) {
      const seen = new Set<string>(inherited);
      const stack = [...(predecessors.get(id) ?? [])];
      const visited = new Set<string>();
      while (stack.length > 0) {
        const p = stack.pop()!;
        if (visited.has(p)) continue;
        visited.add(p);
        seen.add(p);
        for (const n of nested(p)) seen.add(n);
        stack.push(...(predecessors.get(p) ?? []));
      }
      result.set(id, seen);
    }
  }
  return result;
}

function depth(program: Program, graphId: string): number {
  let d = 0;
  let graph = program.graphs.get(graphId);
  while (graph?.owner) {
    d++;
    graph = program.graphs.get(program.graphOf.get(graph.owner)!);
  }
  return d;
}
