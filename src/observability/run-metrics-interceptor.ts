/**
 * Workflow code (bundled into the workflow sandbox): reports each run's
 * start and end through the `runMetrics` sink, which the worker turns
 * into `idw_runs_*_total{workflow}`. Sinks are not called on replay, and a
 * sink call makes no command, so this changes nothing in any history.
 * Only `workflowRun` executions are runs; an execution that continues as
 * new is neither an end nor (when it resumes) a start.
 */
import { ContinueAsNew, isCancellation, proxySinks, workflowInfo, type Sinks, type WorkflowInterceptorsFactory } from '@temporalio/workflow';

export type RunOutcome = 'completed' | 'failed' | 'cancelled';

export interface RunMetricsSinks extends Sinks {
  runMetrics: {
    started(workflow: string): void;
    ended(workflow: string, outcome: RunOutcome): void;
  };
}

/** RUN_WORKFLOW_TYPE (src/workflows/run-contract.ts), kept literal so this module imports nothing of ours. */
const RUN_WORKFLOW_TYPE = 'workflowRun';

const { runMetrics } = proxySinks<RunMetricsSinks>();

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [
    {
      async execute(input, next) {
        const info = workflowInfo();
        const workflow = (input.args[0] as { workflowId?: unknown } | undefined)?.workflowId;
        if (info.workflowType !== RUN_WORKFLOW_TYPE || typeof workflow !== 'string') return next(input);
        if (!info.continuedFromExecutionRunId) runMetrics.started(workflow);
        try {
          const result = await next(input);
          runMetrics.ended(workflow, 'completed');
          return result;
        } catch (err) {
          if (!(err instanceof ContinueAsNew)) runMetrics.ended(workflow, isCancellation(err) ? 'cancelled' : 'failed');
          throw err;
        }
      },
    },
  ],
});
