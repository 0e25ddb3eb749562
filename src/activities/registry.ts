/**
 * The registry of actions: the catalog the validator reads, the policies a
 * run is started with, and the activity functions the worker registers
 * (activity type = action name, so the Temporal UI reads like the workflow).
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { FailureType, forEachStep, type ActionCatalog, type ActionPolicy, type ActionSpec, type Definition } from '../interpreter';
import type { ActionInput } from '../workflows/run-contract';
import type { ActionDefinition } from './action-definition';
import { BUILTIN_ACTIONS } from './builtin-actions';
import { isDependencyUnavailable } from '../store/unavailable';

export class ActionRegistry {
  private readonly actions = new Map<string, ActionDefinition<never>>();

  constructor(actions: ActionDefinition<never>[] = BUILTIN_ACTIONS) {
    for (const action of actions) {
      if (this.actions.has(action.name)) throw new Error(`action "${action.name}" is registered twice`);
      this.actions.set(action.name, action);
    }
  }

  /** A registry with the built-ins plus these (tests and integrations add theirs). */
  static with(extra: ActionDefinition<never>[]): ActionRegistry {
    return new ActionRegistry([...BUILTIN_ACTIONS, ...extra]);
  }

  get catalog(): ActionCatalog {
    return this.actions as ReadonlyMap<string, ActionSpec>;
  }

  /** The policy of every action a definition uses, fixed when a run starts. */
  policiesFor(definition: Definition): Record<string, ActionPolicy> {
    const policies: Record<string, ActionPolicy> = {};
    forEachStep(definition.steps, (step) => {
      if (step.type !== 'action') return;
      const action = this.actions.get(step.action);
      if (action) policies[step.action] = action.policy;
    });
    return policies;
  }

  /** The activity functions, keyed by action name. */
  activities(): Record<string, (input: unknown) => Promise<unknown>> {
    const out: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const action of this.actions.values()) out[action.name] = (input) => runAction(action, input);
    return out;
  }
}

/** Runs recorded before the step travelled in the input sent the params alone. */
function unwrap(input: unknown, activityId: string): { params: unknown; stepId: string; round: number; attempt?: number } {
  if (input && typeof input === 'object' && 'step' in input && 'params' in input) {
    const { params, step } = input as ActionInput;
    return { params, stepId: step.id, round: step.round, attempt: step.attempt };
  }
  const [stepId, round] = activityId.split('#');
  return { params: input, stepId, round: round ? Number(round) : 1 };
}

async function runAction(action: ActionDefinition<never>, input: unknown): Promise<unknown> {
  const ctx = Context.current();
  const info = ctx.info;
  const { params: raw, stepId, round, attempt } = unwrap(input, info.activityId);
  const parsed = action.params.safeParse(raw);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => `${'/' + i.path.map(String).join('/')}: ${i.message}`);
    throw ApplicationFailure.create({
      type: FailureType.InvalidParams,
      message: `${action.name}: invalid params: ${details.join('; ')}`,
      nonRetryable: true,
      details,
    });
  }
  const runId = info.workflowExecution?.workflowId ?? info.activityId;
  try {
    return await action.run(parsed.data as never, {
      // The same for every attempt of this step in this round, local or not, however long the retries take.
      idempotencyKey: `${runId}:${stepId}${round > 1 ? `#${round}` : ''}`,
      runId,
      stepId,
      // The workflow retries a step attempt by attempt (each a fresh activity, whose own counter stays at 1).
      attempt: attempt ?? info.attempt,
      signal: ctx.cancellationSignal,
      log: (message, fields) => ctx.log.info(message, { runId, stepId, action: action.name, ...fields }),
    });
  } catch (err) {
    // The database away is not the action's failure: the workflow rides it out (DependencyUnavailable).
    if (!(err instanceof ApplicationFailure) && isDependencyUnavailable(err)) {
      throw ApplicationFailure.create({ type: FailureType.DependencyUnavailable, message: `${action.name}: a service it depends on is unavailable: ${(err as Error).message}`, cause: err as Error });
    }
    throw err;
  }
}
