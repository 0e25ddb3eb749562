/**
 * Walking a definition's steps: plain functions over the step types, with
 * no schema. The workflow bundle imports these (through runtime.ts) without
 * evaluating the zod schemas in definition.ts, which every new workflow
 * execution would otherwise build again (the SDK evaluates the bundle's
 * modules afresh for each execution).
 */
import type { CatchingStep, Step } from './definition';

export function canCatch(step: Step): step is CatchingStep {
  return step.type === 'action' || step.type === 'parallel' || step.type === 'for_each' || step.type === 'run_workflow';
}

/**
 * Visit every step, branches and for_each loops included, with the JSON path
 * where it sits. `intoLoops: false` leaves out the steps inside for_each
 * steps (the run state lists those per item, not per run).
 */
export function forEachStep(
  steps: Step[],
  visit: (step: Step, path: (string | number)[], branchPath: string[]) => void,
  basePath: (string | number)[] = ['steps'],
  branchPath: string[] = [],
  options: { intoLoops?: boolean } = {},
): void {
  steps.forEach((step, index) => {
    const path = [...basePath, index];
    visit(step, path, branchPath);
    if (step.type === 'parallel') {
      step.branches.forEach((branch, b) => {
        forEachStep(branch.steps, visit, [...path, 'branches', b, 'steps'], [...branchPath, `${step.id}.${branch.id}`], options);
      });
    }
    if (step.type === 'for_each' && options.intoLoops !== false) {
      forEachStep(step.steps, visit, [...path, 'steps'], [...branchPath, `${step.id}.each`], options);
    }
  });
}
