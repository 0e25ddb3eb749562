/**
 * The activities of the recurring dispatch: pin the live version when a
 * recurring trigger fires, and read one page of matching objects with the
 * filter compiled to SQL (keyset paging by id, so objects that stop matching
 * while the dispatch runs, because their runs changed them, shift nothing).
 */
import { eventRunStartCursor } from '../events/outbox';
import { ApplicationFailure } from '@temporalio/activity';
import { FailureType } from '../interpreter';
import type { ActionRegistry } from '../activities/registry';
import { present, selectFrom, type ObjectType } from '../objects';
import type { Db } from '../store/db';
import type { WorkflowStore } from '../store/workflow-store';
import type { RecurringPage, RecurringPlan, ScheduleActivities } from './contract';
import { compileFilter } from './filter-sql';
import { DEFAULT_BATCH_SIZE } from './trigger-checks';

export interface ScheduleActivityDeps {
  db: Db;
  workflows: WorkflowStore;
  registry: ActionRegistry;
}

export function createScheduleActivities(deps: ScheduleActivityDeps): ScheduleActivities {
  return {
    async planRecurringDispatch({ workflowId }): Promise<RecurringPlan | { skipped: string }> {
      const live = await deps.workflows.liveVersion(workflowId);
      if (!live) return { skipped: `workflow ${workflowId} has no live version` };
      const trigger = live.definition.trigger;
      if (trigger.type !== 'recurring') return { skipped: `${workflowId} v${live.version} has a ${trigger.type} trigger now` };
      return { version: live.version, batchSize: trigger.batchSize ?? DEFAULT_BATCH_SIZE };
    },

    async recurringPage({ workflowId, version, asOf, after }): Promise<RecurringPage> {
      const pinned = await deps.workflows.version(workflowId, version);
      if (!pinned || pinned.definition.trigger.type !== 'recurring') {
        throw ApplicationFailure.nonRetryable(`${workflowId} v${version} has no recurring trigger`, FailureType.ChildWorkflow);
      }
      const trigger = pinned.definition.trigger;
      const type = trigger.objectType as ObjectType;
      const limit = trigger.batchSize ?? DEFAULT_BATCH_SIZE;
      const { sql, params } = compileFilter(trigger.objectType, trigger.filter, new Date(asOf));
      const where = [sql];
      if (after !== undefined) {
        params.push(after);
        where.push(`o.id > $${params.length}`);
      }
      params.push(limit + 1);
      const { rows } = await deps.db.query(`${selectFrom(type)} WHERE ${where.join(' AND ')} ORDER BY o.id LIMIT $${params.length}`, params);
      const objects = rows.slice(0, limit).map((row) => {
        const object = present[type](row) as unknown as Record<string, unknown> & { id: string };
        return { id: object.id, object };
      });
      return {
        objectType: type,
        objects,
        definition: pinned.definition,
        actionPolicies: deps.registry.policiesFor(pinned.definition),
        more: rows.length > limit,
        eventCursor: await eventRunStartCursor(deps.db),
      };
    },
  };
}
