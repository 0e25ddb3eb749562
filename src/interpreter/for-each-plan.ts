/**
 * How a for_each runs its items: inside the run's own execution when they
 * are few and cheap, otherwise in child executions that each take a slice
 * ("batches"), so that no execution's history grows past ~10k events.
 *
 * The history an item costs is estimated from its steps (an action is about
 * eight events: scheduled, started, completed and a workflow task around
 * them). Batches also continue as new between items when their own history
 * grows long, so an estimate that is off costs time, never a broken run.
 *
 * Pure: table-tested in test/interpreter/for-each-plan.test.ts.
 */
import type { Step } from './definition';
import { loopGraphId, successors, type Program } from './program';

/** Items run inside the run's execution at most. */
export const IN_PROCESS_MAX_ITEMS = 100;
/** Events the items may add to the run's execution when they run inside it. */
export const IN_PROCESS_EVENT_BUDGET = 2000;
/** Events a batch is sized for (its execution continues as new at ~8k anyway). */
export const BATCH_EVENT_BUDGET = 4000;
export const MAX_BATCH_ITEMS = 500;
/**
 * Items one batch runs at once, at most. Fewer batches running more items
 * each beat many batches running one: a workflow task then handles several
 * completions, which is fewer events per item and less time.
 */
export const MAX_LANE_CONCURRENCY = 10;
/** A loop inside an item can run any number of rounds: count it as this many. */
const CYCLE_FACTOR = 10;

export type ForEachPlan =
  | { mode: 'in_process'; concurrency: number }
  | {
      mode: 'batches';
      /** Items per batch (the last one may hold fewer). */
      batchSize: number;
      batches: number;
      /** Batches running at once... */
      lanes: number;
      /** ...each with this many items at once: lanes × laneConcurrency never exceeds the step's concurrency. */
      laneConcurrency: number;
    };

export function planForEach(program: Program, stepId: string, itemCount: number, concurrency: number): ForEachPlan {
  const perItem = itemEventEstimate(program, loopGraphId(stepId));
  if (itemCount <= IN_PROCESS_MAX_ITEMS && !graphHasCycle(program, loopGraphId(stepId)) && itemCount * perItem <= IN_PROCESS_EVENT_BUDGET) {
    return { mode: 'in_process', concurrency };
  }
  const batchSize = Math.max(1, Math.min(MAX_BATCH_ITEMS, Math.floor(BATCH_EVENT_BUDGET / perItem)));
  const batches = Math.max(1, Math.ceil(itemCount / batchSize));
  const lanes = Math.max(1, Math.min(batches, Math.ceil(concurrency / MAX_LANE_CONCURRENCY)));
  return { mode: 'batches', batchSize, batches, lanes, laneConcurrency: Math.max(1, Math.floor(concurrency / lanes)) };
}

/** Roughly how many history events one pass through a graph adds. */
export function itemEventEstimate(program: Program, graphId: string): number {
  const graph = program.graphs.get(graphId);
  if (!graph) return 1;
  let total = 0;
  for (const id of graph.stepIds) total += stepEventEstimate(program, program.steps.get(id)!);
  const estimate = Math.max(1, total);
  return graphHasCycle(program, graphId) ? estimate * CYCLE_FACTOR : estimate;
}

function stepEventEstimate(program: Program, step: Step): number {
  switch (step.type) {
    case 'action':
      return 8;
    case 'wait_for_event':
      return 10;
    case 'wait_for_time':
      return 6;
    case 'run_workflow':
      return 10;
    case 'parallel':
      return 2 + step.branches.reduce((sum, b) => sum + itemEventEstimate(program, `${step.id}.${b.id}`), 0);
    case 'for_each':
      return 30;
    case 'condition':
    case 'end':
      return 0;
    default:
      return 8;
  }
}

/** Whether a graph's links (success or catch) can lead back to a step. */
export function graphHasCycle(program: Program, graphId: string): boolean {
  const graph = program.graphs.get(graphId);
  if (!graph) return false;
  const inGraph = new Set(graph.stepIds);
  const state = new Map<string, 'open' | 'done'>();
  const visit = (id: string): boolean => {
    state.set(id, 'open');
    const step = program.steps.get(id)!;
    const next = [...successors(step), ...('catch' in step && step.catch ? step.catch.map((c) => c.next) : [])];
    for (const n of next) {
      if (!inGraph.has(n)) continue;
      if (state.get(n) === 'open') return true;
      if (!state.has(n) && visit(n)) return true;
    }
    state.set(id, 'done');
    return false;
  };
  return graph.stepIds.some((id) => !state.has(id) && visit(id));
}
