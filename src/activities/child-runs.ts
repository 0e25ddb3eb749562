/**
 * The internal activity behind run_workflow steps: load the target's live
 * version and check the child's input against its trigger's input schema,
 * so the workflow can start the child run with everything pinned.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { FailureType } from '../interpreter';
import { validateAgainstSchema } from '../interpreter/json-schema';
import { eventRunStartCursor } from '../events/outbox';
import type { Db } from '../store/db';
import type { WorkflowStore } from '../store/workflow-store';
import type { ChildRunPlan, InternalActivities } from '../workflows/run-contract';
import type { ActionRegistry } from './registry';

export function createChildRunActivities(deps: { workflows: WorkflowStore; registry: ActionRegistry; db: Db }): Pick<InternalActivities, 'resolveChildRun'> {
  return {
    async resolveChildRun({ workflowId, input }): Promise<ChildRunPlan> {
      const live = await deps.workflows.liveVersion(workflowId);
      if (!live) {
        const exists = await deps.workflows.get(workflowId);
        throw ApplicationFailure.nonRetryable(
          exists ? `workflow ${workflowId} has no published version` : `no workflow ${workflowId}`,
          FailureType.ChildWorkflow,
        );
      }
      const trigger = live.definition.trigger;
      if (trigger.type === 'api' && trigger.inputSchema) {
        const problems = validateAgainstSchema(trigger.inputSchema, input);
        if (problems.length > 0) {
          throw ApplicationFailure.nonRetryable(
            `input for ${workflowId} v${live.version} is invalid: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`,
            FailureType.ChildWorkflow,
          );
        }
      }
      return {
        workflowId,
        version: live.version,
        definition: live.definition,
        actionPolicies: deps.registry.policiesFor(live.definition),
        // The child begins now: its waits count events recorded from here on.
        eventCursor: await eventRunStartCursor(deps.db),
      };
    },
  };
}
