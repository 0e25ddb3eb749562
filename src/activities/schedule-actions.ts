/**
 * Schedule Workflow Run: one workflow schedules a run of another (or of
 * itself) at a future time, with a payload. This is how a wait longer than
 * the 30-day maximum of wait_for_time is done: schedule the follow-up and end.
 *
 * The step starts a `scheduledStart` helper workflow that sleeps until the
 * time and then starts the run of the version live at that moment (trigger
 * type `schedule`). Its ids derive from the step's idempotency key, and
 * Temporal refuses a second start of an id, so a retried step schedules
 * nothing twice and answers with the same run id.
 */
import { createHash } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { z } from 'zod';
import { FailureType, type ActionPolicy } from '../interpreter';
import { parseDuration } from '../interpreter/duration';
import { validateAgainstSchema } from '../interpreter/json-schema';
import { SCHEDULED_START_WORKFLOW_TYPE, type ScheduledStartInput } from '../schedules/contract';
import { WorkflowStore } from '../store/workflow-store';
import { SearchAttributes } from '../workflows/run-contract';
import { defineAction, type ActionDefinition } from './action-definition';
import type { ActionDeps } from './index';

export const SCHEDULE_WORKFLOW_RUN_ACTION = 'schedule_workflow_run';
/** How far ahead a run may be scheduled. */
export const MAX_SCHEDULE_AHEAD_MS = 5 * 366 * 24 * 60 * 60 * 1000;

const POLICY: ActionPolicy = {
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 5, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', nonRetryableErrorTypes: [FailureType.InvalidParams] },
};

// A plain object (no object-level refinements): the validator drops the params computed at run time
// from it to check the rest when the definition is saved. "Exactly one of at / after" is checked when it runs.
const paramsSchema = z.strictObject({
    /** The workflow to run (its id); its live version when the time comes is what runs. */
    workflow: z.string().regex(/^[a-z][a-z0-9_-]{2,63}$/, 'must be a workflow id'),
    /** When: an ISO 8601 time... */
    at: z.iso.datetime({ offset: true }).optional(),
    /** ...or how long from now, e.g. "90d". */
    after: z
      .string()
      .min(1)
      .max(40)
      .refine((d) => parseDuration(d) !== undefined, 'must be a duration such as "45d"')
      .optional(),
    /** The run's trigger payload (`trigger.*` in the scheduled run). */
    payload: z.record(z.string(), z.unknown()).default({}),
});

function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureType.InvalidParams, message: `${SCHEDULE_WORKFLOW_RUN_ACTION}: ${message}`, nonRetryable: true });
}

export function scheduleActions(deps: ActionDeps): ActionDefinition<never>[] {
  const workflows = new WorkflowStore(deps.db);
  const scheduleWorkflowRun = defineAction({
    name: SCHEDULE_WORKFLOW_RUN_ACTION,
    title: 'Schedule a workflow run',
    description:
      'Start a run of a published workflow later (`at` a time or `after` a duration, up to 5 years) with a payload. ' +
      'For waits longer than 30 days: schedule the follow-up and end. Output: the scheduled run id and when it starts.',
    params: paramsSchema,
    policy: POLICY,
    errorTypes: [FailureType.InvalidParams],
    async run(params, context) {
      if ((params.at === undefined) === (params.after === undefined)) throw invalid('give exactly one of "at" or "after"');
      const now = Date.now();
      const startsAtMs = params.at !== undefined ? Date.parse(params.at) : now + parseDuration(params.after!)!;
      if (startsAtMs - now > MAX_SCHEDULE_AHEAD_MS) throw invalid(`${new Date(startsAtMs).toISOString()} is more than 5 years ahead`);

      const target = await workflows.get(params.workflow);
      if (!target) throw invalid(`no workflow "${params.workflow}"`);
      // Checked now so that a bad payload fails this step, not a run months away (checked again then, against the version live then).
      const live = await workflows.liveVersion(params.workflow);
      const trigger = live?.definition.trigger;
      if (trigger?.type === 'api' && trigger.inputSchema) {
        const problems = validateAgainstSchema(trigger.inputSchema, params.payload);
        if (problems.length > 0) throw invalid(`the payload does not match ${params.workflow}'s input schema: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`);
      }

      const digest = createHash('sha256').update(`${SCHEDULE_WORKFLOW_RUN_ACTION}\n${context.idempotencyKey}`).digest('hex').slice(0, 32);
      const runId = `run_d${digest}`;
      const helperId = `idw-delayed-${runId}`;
      const startsAt = new Date(Math.max(startsAtMs, now)).toISOString();
      const input: ScheduledStartInput = {
        workflowId: params.workflow,
        trigger: { type: 'schedule', payload: params.payload },
        runId,
        notBefore: startsAt,
        scheduledBy: context.runId,
      };
      const activity = Context.current();
      try {
        await activity.client.workflow.start(SCHEDULED_START_WORKFLOW_TYPE, {
          workflowId: helperId,
          taskQueue: activity.info.taskQueue,
          args: [input],
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          memo: { startsAt, runId, workflowId: params.workflow, scheduledBy: context.runId },
          typedSearchAttributes: [{ key: SearchAttributes.workflowId, value: params.workflow }],
          staticSummary: `run of ${params.workflow} at ${startsAt}, scheduled by ${context.runId}`,
        });
        context.log('scheduled a workflow run', { target: params.workflow, scheduledRunId: runId, startsAt });
        return { runId, workflowId: params.workflow, startsAt };
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        // A retry of this step: the first attempt scheduled it; answer as it did.
        const memo = (await activity.client.workflow.getHandle(helperId).describe()).memo as { startsAt?: string } | undefined;
        return { runId, workflowId: params.workflow, startsAt: memo?.startsAt ?? startsAt };
      }
    },
  });
  return [scheduleWorkflowRun as ActionDefinition<never>];
}
