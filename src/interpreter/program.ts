/**
 * A definition indexed for the interpreter: every step by id, every graph
 * (the main graph, each parallel branch, each for_each loop body) with its
 * start step, and which graph each step sits in. Built once per run from a
 * validated definition.
 */
import type { Definition, Step } from './definition';

export const MAIN_GRAPH = 'main';

export interface GraphInfo {
  /** `main`, `<parallel step id>.<branch id>`, or `<for_each step id>.each`. */
  id: string;
  start: string;
  stepIds: string[];
  /** The parallel or for_each step that owns this graph. */
  owner?: string;
  ownerKind?: 'parallel' | 'for_each';
}

export interface Program {
  definition: Definition;
  steps: Map<string, Step>;
  graphs: Map<string, GraphInfo>;
  graphOf: Map<string, string>;
}

export function branchGraphId(parallelStepId: string, branchId: string): string {
  return `${parallelStepId}.${branchId}`;
}

export function loopGraphId(forEachStepId: string): string {
  return `${forEachStepId}.each`;
}

export function buildProgram(definition: Definition): Program {
  const program: Program = { definition, steps: new Map(), graphs: new Map(), graphOf: new Map() };
  const addGraph = (id: string, steps: Step[], start: string | undefined, owner?: { id: string; kind: 'parallel' | 'for_each' }): void => {
    program.graphs.set(id, { id, start: start ?? steps[0]?.id, stepIds: steps.map((s) => s.id), owner: owner?.id, ownerKind: owner?.kind });
    for (const step of steps) {
      if (!program.steps.has(step.id)) program.steps.set(step.id, step);
      if (!program.graphOf.has(step.id)) program.graphOf.set(step.id, id);
      if (step.type === 'parallel') {
        for (const branch of step.branches) addGraph(branchGraphId(step.id, branch.id), branch.steps, branch.start, { id: step.id, kind: 'parallel' });
      }
      if (step.type === 'for_each') addGraph(loopGraphId(step.id), step.steps, step.start, { id: step.id, kind: 'for_each' });
    }
  };
  addGraph(MAIN_GRAPH, definition.steps, definition.start);
  return program;
}

/** The ids a step can go to next when it succeeds (within its own graph). */
export function successors(step: Step): string[] {
  switch (step.type) {
    case 'condition':
      return [...step.routes.map((r) => r.next), step.default];
    case 'end':
      return [];
    case 'action':
    case 'parallel':
    case 'for_each':
    case 'wait_for_event':
    case 'wait_for_time':
    case 'run_workflow':
      return step.next ? [step.next] : [];
    default:
      return assertNever(step);
  }
}

/** Where a step can go when it fails: its catch routes' targets. */
export function catchTargets(step: Step): string[] {
  return 'catch' in step && step.catch ? step.catch.map((c) => c.next) : [];
}

/** Every step a step can lead to, on success or failure. */
export function links(step: Step): string[] {
  return [...successors(step), ...catchTargets(step)];
}

export function assertNever(value: never): never {
  throw new Error(`unreachable: ${JSON.stringify(value)}`);
}
