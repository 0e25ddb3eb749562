/** The workflows the worker registers (its `workflowsPath`). */
export { workflowRun } from './workflow-run';
export { forEachBatch } from './for-each-batch';
export { concurrencyGate } from './concurrency-gate';
export { cancelRunRequest } from './cancel-run';
// Helper workflows of schedule and recurring triggers and schedule_workflow_run (not runs).
export { scheduledStart, recurringDispatch, recurringBatch } from '../schedules/workflows';
