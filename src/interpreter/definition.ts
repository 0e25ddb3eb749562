/**
 * The workflow definition language, v1, as a zod schema.
 *
 * A definition is a trigger plus a graph of steps. Every step has a stable,
 * user-given id that is unique across the whole definition (parallel branches
 * included), so `steps.<id>` in an expression always names one step.
 *
 * Where a field is always an expression (a condition's `when`, a wait's
 * `object` and `match`, a trigger's `filter`) it is a plain CEL string. Where a
 * field is a value (action `params`, run-workflow `input`, end `output`), any
 * JSON is allowed and resolved at run time: `{"$cel": "..."}` evaluates CEL,
 * a string containing `{{` or `{%` renders as a Liquid template, and
 * `{"$literal": ...}` passes its content through untouched. See
 * docs/definitions.md.
 *
 * Error handling and flow control (issue 9): action steps take a `retry`
 * policy and `timeout` / `deadline`; action, parallel, run_workflow and
 * for_each steps take `catch` routes; `for_each` runs a sub-graph per item
 * of a list; the definition's `flow` limits concurrency by key, derives an
 * idempotency key for API triggers and cancels runs on events.
 *
 * Sandbox-safe: imported by the interpreter workflow.
 */
import { z } from 'zod';
import { RECURRING_OBJECT_TYPES, objectFilterSchema } from '../schedules/object-filter';

export const DEFINITION_LANGUAGE_VERSION = 1;

/** Step ids are snake_case so they read well in CEL (`steps.run_watchlist.output`). */
export const stepIdSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,63}$/, 'must be snake_case: a lowercase letter, then lowercase letters, digits or _ (at most 64)');
export type StepId = z.infer<typeof stepIdSchema>;

/** A duration such as "30s", "15m", "7d" or "2 hours" (parsed with `ms`). */
export const durationSchema = z.string().min(1).max(40);

/** Event types look like `inquiry.completed` or `report/watchlist.matched`. */
export const eventTypeSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_-]*(\/[a-z0-9_-]+)?(\.[a-z0-9_-]+)+$/, 'must look like "inquiry.completed" or "report/watchlist.ready"');

/** A CEL expression in source form. */
export const celSchema = z.string().min(1).max(4000);

/** Any JSON value; strings may be Liquid templates, `{ "$cel": ... }` objects are expressions. */
export const valueSchema: z.ZodType<unknown> = z.unknown();

export const apiTriggerSchema = z.strictObject({
  type: z.literal('api'),
  /** JSON Schema (draft 2020-12 or 07) the request body must satisfy. */
  inputSchema: z.record(z.string(), z.unknown()).optional(),
});

export const eventTriggerSchema = z.strictObject({
  type: z.literal('event'),
  event: eventTypeSchema,
  /** CEL over `event` and `object`; the run starts only when it is true. */
  filter: celSchema.optional(),
});

/** What a Temporal Schedule does when a firing comes while the previous one still runs (see docs/schedules.md). */
export const OVERLAP_POLICIES = ['skip', 'buffer_one', 'buffer_all', 'cancel_other', 'terminate_other', 'allow_all'] as const;

/** When a schedule or recurring trigger fires; cron and time zone are checked by the validator. */
const scheduleTiming = {
  /** Five fields (minute hour day-of-month month day-of-week) or @hourly, @daily, @weekly, @monthly, @yearly. */
  cron: z.string().min(1).max(200).optional(),
  /** Every this long, e.g. "15m" (at least 1s). */
  interval: durationSchema.optional(),
  /** IANA time zone the cron is read in (default UTC), e.g. "Europe/Berlin". */
  timezone: z.string().min(1).max(64).optional(),
  /** While the previous firing still runs (default skip). */
  overlap: z.enum(OVERLAP_POLICIES).optional(),
  /** How late a missed firing may still be taken after an outage (default "1m", at least "10s"). */
  catchupWindow: durationSchema.optional(),
};
const oneOfCronOrInterval = {
  check: (t: { cron?: string; interval?: string }) => (t.cron === undefined) !== (t.interval === undefined),
  message: 'give exactly one of "cron" or "interval"',
};

export const scheduleTriggerSchema = z
  .strictObject({
    type: z.literal('schedule'),
    ...scheduleTiming,
    /** Input handed to each scheduled run as its trigger payload. */
    input: z.record(z.string(), z.unknown()).optional(),
  })
  .refine(oneOfCronOrInterval.check, { message: oneOfCronOrInterval.message });

/**
 * Runs the workflow once for each object of `objectType` matching `filter`
 * (a structured filter compiled to SQL, see src/schedules/object-filter.ts),
 * on a schedule, in batches of `batchSize` (1-500, default 100).
 */
export const recurringTriggerSchema = z
  .strictObject({
    type: z.literal('recurring'),
    ...scheduleTiming,
    objectType: z.enum(RECURRING_OBJECT_TYPES),
    filter: objectFilterSchema.optional(),
    batchSize: z.number().int().optional(),
  })
  .refine(oneOfCronOrInterval.check, { message: oneOfCronOrInterval.message });

export const triggerSchema = z.discriminatedUnion('type', [apiTriggerSchema, eventTriggerSchema, scheduleTriggerSchema, recurringTriggerSchema]);
export type Trigger = z.infer<typeof triggerSchema>;

/**
 * What a catch route or a retry policy names: `timeout`, `non_retryable`, or
 * an error type (`ActionFailed`, `ObjectNotFound`, an action's own type).
 */
export const errorNameSchema = z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]{0,99}$/, 'must be "timeout", "non_retryable" or an error type such as "ObjectNotFound"');

/**
 * A step's retry policy, laid over the action's own (`GET /v1/actions`).
 * Ranges are checked by the validator (out_of_range), so that a bad number
 * is reported beside every other problem instead of hiding them.
 */
export const retryPolicySchema = z.strictObject({
  /** Attempts in all, the first included (1 = no retries). */
  attempts: z.number().int().optional(),
  /** The wait before the first retry. */
  initialInterval: durationSchema.optional(),
  /** Each wait is the previous one times this (1 = constant). */
  backoff: z.number().optional(),
  /** The longest wait between attempts. */
  maximumInterval: durationSchema.optional(),
  /** Error types that are never retried (added to the action's own). */
  nonRetryable: z.array(errorNameSchema).max(50).optional(),
});
export type StepRetryPolicy = z.infer<typeof retryPolicySchema>;

/** Where a step goes when it fails; the first route whose `errors` match wins (no `errors`: any error). */
export const catchRouteSchema = z.strictObject({
  errors: z.array(errorNameSchema).min(1).max(50).optional(),
  next: stepIdSchema,
  label: z.string().max(200).optional(),
});
export type CatchRoute = z.infer<typeof catchRouteSchema>;
const catchField = z.array(catchRouteSchema).min(1).max(20).optional();

const stepBase = {
  id: stepIdSchema,
  /** A label for people (the editor shows it; the Temporal UI shows it in activity summaries). */
  name: z.string().max(200).optional(),
  description: z.string().max(2000).optional(),
};

export const actionStepSchema = z.strictObject({
  ...stepBase,
  type: z.literal('action'),
  /** A name from the action registry, for example `set_variables`. */
  action: z.string().min(1).max(100),
  params: z.record(z.string(), valueSchema).default({}),
  /** Overrides the action's retry policy, field by field. */
  retry: retryPolicySchema.optional(),
  /** The longest one attempt may take (start-to-close). */
  timeout: durationSchema.optional(),
  /** The longest the step may take, all attempts and the waits between them included (schedule-to-close). */
  deadline: durationSchema.optional(),
  catch: catchField,
  next: stepIdSchema.optional(),
});

export const conditionRouteSchema = z.strictObject({
  /** CEL that must evaluate to a bool. */
  when: celSchema,
  next: stepIdSchema,
  label: z.string().max(200).optional(),
});

export const conditionStepSchema = z.strictObject({
  ...stepBase,
  type: z.literal('condition'),
  /** Tried in order; the first whose `when` is true is taken. */
  routes: z.array(conditionRouteSchema).min(1).max(50),
  /** Taken when no route matches. */
  default: stepIdSchema,
});

export const waitForEventStepSchema = z.strictObject({
  ...stepBase,
  type: z.literal('wait_for_event'),
  /** Any of these event types resolves the wait. */
  events: z.array(eventTypeSchema).min(1).max(20),
  /** CEL giving the id of the object the events must be about; omit to accept any object. */
  object: celSchema.optional(),
  /** CEL over `event` (plus the run's data) that must also be true. */
  match: celSchema.optional(),
  /** The default resolution time: after it the run goes on with `timedOut: true` (at most 30 days). */
  timeout: durationSchema,
  /** `continue` (default) goes on to `next` after the timeout; `fail` fails the run. */
  onTimeout: z.enum(['continue', 'fail']).default('continue'),
  /**
   * Which events count: `run_start` (default), any recorded since the run
   * began that it has not consumed, however early it arrived; `wait_start`,
   * only those recorded after this wait began.
   */
  since: z.enum(['run_start', 'wait_start']).default('run_start'),
  next: stepIdSchema.optional(),
});

export const waitForTimeStepSchema = z
  .strictObject({
    ...stepBase,
    type: z.literal('wait_for_time'),
    duration: durationSchema.optional(),
    /** CEL giving a timestamp (or an RFC 3339 string) to wait until. */
    until: celSchema.optional(),
    next: stepIdSchema.optional(),
  })
  .refine((s) => (s.duration === undefined) !== (s.until === undefined), {
    message: 'give exactly one of "duration" or "until"',
  });

export const runWorkflowStepSchema = z.strictObject({
  ...stepBase,
  type: z.literal('run_workflow'),
  /** The id of a published workflow; its live version runs as a child run. */
  workflow: z.string().min(1).max(100),
  /** The child's trigger payload, checked against its input schema. */
  input: z.record(z.string(), valueSchema).default({}),
  /** Wait for the child to finish and take its output (default), or start it and go on. */
  wait: z.boolean().default(true),
  /** With wait: the longest the child may take; then it is cancelled and the step fails with Timeout. */
  deadline: durationSchema.optional(),
  catch: catchField,
  next: stepIdSchema.optional(),
});

export const endStepSchema = z.strictObject({
  ...stepBase,
  type: z.literal('end'),
  outcome: z.enum(['succeeded', 'failed']).default('succeeded'),
  /** Why the run ended this way; may be a Liquid template. */
  reason: z.string().max(2000).optional(),
  /** The run's output (what a parent's run_workflow step receives). */
  output: valueSchema.optional(),
});

export interface Branch {
  id: string;
  label?: string;
  continueOnError: boolean;
  start?: string;
  steps: Step[];
}

export interface ParallelStep {
  id: string;
  name?: string;
  description?: string;
  type: 'parallel';
  branches: Branch[];
  deadline?: string;
  catch?: CatchRoute[];
  next?: string;
}

/** Names an item can be given (`as`): a snake_case word that is not a name CEL or the run already uses. */
export const RESERVED_ITEM_NAMES = ['trigger', 'steps', 'vars', 'run', 'now', 'event', 'object', 'cel', 'has', 'size', 'int', 'uint', 'double', 'string', 'bool', 'bytes', 'list', 'map', 'type', 'dyn', 'null', 'true', 'false', 'in', 'timestamp', 'duration', 'matches', 'age'] as const;
export const itemNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,31}$/, 'must be a snake_case name of at most 32 characters')
  .refine((name) => !(RESERVED_ITEM_NAMES as readonly string[]).includes(name), { message: 'is a name CEL or the run already uses; pick another' });

export interface ForEachStep {
  id: string;
  name?: string;
  description?: string;
  type: 'for_each';
  /** CEL giving the list to go through. */
  items: string;
  /** The name an item has in expressions inside the loop (`item`); its position is `<as>_index`. */
  as: string;
  /** How many items run at once. */
  concurrency: number;
  /** `stop`: the first failing item fails the step and cancels the rest; `continue`: record it and go on. */
  onItemError: 'stop' | 'continue';
  /** Each item's result (a value resolved in the item's scope); default: the output of the item's last step. */
  result?: unknown;
  start?: string;
  steps: Step[];
  deadline?: string;
  catch?: CatchRoute[];
  next?: string;
}

export const branchSchema: z.ZodType<Branch> = z.lazy(() =>
  z.strictObject({
    id: stepIdSchema,
    label: z.string().max(200).optional(),
    /** A failure in this branch is recorded, not raised: the parallel step still succeeds. */
    continueOnError: z.boolean().default(false),
    /** The first step of the branch; defaults to the first in `steps`. */
    start: stepIdSchema.optional(),
    steps: z.array(stepSchema).min(1).max(500),
  }),
) as unknown as z.ZodType<Branch>;

export const parallelStepSchema: z.ZodType<ParallelStep> = z.strictObject({
  ...stepBase,
  type: z.literal('parallel'),
  branches: z.array(branchSchema).min(2).max(20),
  /** The longest the branches may take together; then they are cancelled and the step fails with Timeout. */
  deadline: durationSchema.optional(),
  catch: catchField,
  next: stepIdSchema.optional(),
}) as unknown as z.ZodType<ParallelStep>;

export const forEachStepSchema: z.ZodType<ForEachStep> = z.lazy(() =>
  z.strictObject({
    ...stepBase,
    type: z.literal('for_each'),
    items: celSchema,
    as: itemNameSchema.default('item'),
    /** Range checked by the validator (out_of_range). */
    concurrency: z.number().int(),
    onItemError: z.enum(['stop', 'continue']).default('stop'),
    result: valueSchema.optional(),
    start: stepIdSchema.optional(),
    steps: z.array(stepSchema).min(1).max(200),
    deadline: durationSchema.optional(),
    catch: catchField,
    next: stepIdSchema.optional(),
  }),
) as unknown as z.ZodType<ForEachStep>;

export type ActionStep = z.infer<typeof actionStepSchema>;
export type ConditionStep = z.infer<typeof conditionStepSchema>;
export type WaitForEventStep = z.infer<typeof waitForEventStepSchema>;
export type WaitForTimeStep = z.infer<typeof waitForTimeStepSchema>;
export type RunWorkflowStep = z.infer<typeof runWorkflowStepSchema>;
export type EndStep = z.infer<typeof endStepSchema>;
export type Step = ActionStep | ConditionStep | ParallelStep | ForEachStep | WaitForEventStep | WaitForTimeStep | RunWorkflowStep | EndStep;
export type StepType = Step['type'];

export const STEP_TYPES = ['action', 'condition', 'parallel', 'for_each', 'wait_for_event', 'wait_for_time', 'run_workflow', 'end'] as const;

/** The steps that can take `catch` routes. */
export type CatchingStep = ActionStep | ParallelStep | ForEachStep | RunWorkflowStep;

const stepSchemasByType: Record<StepType, z.ZodType> = {
  action: actionStepSchema,
  condition: conditionStepSchema,
  parallel: parallelStepSchema,
  for_each: forEachStepSchema,
  wait_for_event: waitForEventStepSchema,
  wait_for_time: waitForTimeStepSchema,
  run_workflow: runWorkflowStepSchema,
  end: endStepSchema,
};

/**
 * Dispatch on `type` by hand rather than with a discriminated union, so an
 * unknown type gets one clear message instead of seven failed alternatives.
 */
export const stepSchema: z.ZodType<Step> = z.unknown().transform((raw, ctx) => {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    ctx.addIssue({ code: 'custom', message: 'a step must be an object' });
    return z.NEVER;
  }
  const type = (raw as { type?: unknown }).type;
  if (typeof type !== 'string' || !(STEP_TYPES as readonly string[]).includes(type)) {
    ctx.addIssue({
      code: 'custom',
      path: ['type'],
      message: `unknown step type ${JSON.stringify(type)}; expected one of ${STEP_TYPES.join(', ')}`,
    });
    return z.NEVER;
  }
  const parsed = stepSchemasByType[type as StepType].safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      ctx.addIssue({ code: 'custom', path: issue.path as (string | number)[], message: issue.message });
    }
    return z.NEVER;
  }
  return parsed.data as Step;
}) as unknown as z.ZodType<Step>;

/**
 * Flow control for every run of a workflow:
 * - `concurrency`: at most `limit` runs with the same key run at once; later ones queue;
 * - `idempotencyKey`: API triggers with the same key within 24 hours get the run already started;
 * - `cancelOn`: a run is cancelled when one of these events arrives about its object.
 */
export const cancelOnSchema = z.strictObject({
  event: eventTypeSchema,
  /** CEL over `trigger` and `run` giving the object's id; omit to accept the event about any object. */
  object: celSchema.optional(),
  /** CEL over `event` (plus `trigger` and `run`) that must also be true. */
  match: celSchema.optional(),
});
export type CancelOn = z.infer<typeof cancelOnSchema>;

export const flowSchema = z.strictObject({
  concurrency: z
    .strictObject({
      /** CEL over `trigger` and `run`, giving a string or a number. */
      key: celSchema,
      /** Range checked by the validator (out_of_range). */
      limit: z.number().int().default(1),
    })
    .optional(),
  /** CEL over `trigger` (the request body); API triggers only. */
  idempotencyKey: celSchema.optional(),
  cancelOn: z.array(cancelOnSchema).min(1).max(10).optional(),
});
export type Flow = z.infer<typeof flowSchema>;

export const definitionSchema = z.strictObject({
  /** The language version this definition is written in. */
  language: z.literal(DEFINITION_LANGUAGE_VERSION).default(DEFINITION_LANGUAGE_VERSION),
  trigger: triggerSchema,
  flow: flowSchema.optional(),
  /** The first step; defaults to the first in `steps`. */
  start: stepIdSchema.optional(),
  steps: z.array(stepSchema).min(1).max(1000),
});

export type Definition = z.infer<typeof definitionSchema>;

// The walks over steps live in steps.ts (the workflow bundle imports them without the schemas).
export { canCatch, forEachStep } from './steps';
