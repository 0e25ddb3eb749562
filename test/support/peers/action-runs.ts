/**
 * Running the integration actions against the loopback peers:
 *
 * - `runAction`: one attempt through the registry's activity wrapper (the
 *   worker's real code path: parameter validation, idempotency key, error
 *   mapping) inside Temporal's MockActivityEnvironment. Fast; for the
 *   request and error-mapping tables.
 * - Runs of published workflows go through the harness (its worker has the
 *   encrypted credential store and the loopback allow-list); `activitiesOf`
 *   and `historyText` read such a run's history: which activities ran under
 *   which activity type, how many attempts they took, and every payload as
 *   text (to prove no secret is in it).
 * - `createCredentials`: the test's credentials, stored (encrypted) in the
 *   harness's credential store, by name.
 */
import type { temporal } from '@temporalio/proto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { NetworkPolicy } from '../../../src/activities';
import { crmActions } from '../../../src/activities/crm-actions';
import { messagingActions } from '../../../src/activities/messaging-actions';
import { ActionRegistry } from '../../../src/activities/registry';
import type { CredentialKind, CredentialResolver } from '../../../src/credentials/kinds';
import { decryptedHistory, type Harness } from '../harness';

/** The peers listen on loopback over plain http: the operator allow-list the harness's worker runs with too. */
export const LOOPBACK_NETWORK: NetworkPolicy = { allowList: ['127.0.0.1'] };

/** Stores each credential (kind and secret) under its name; answers name -> id. */
export async function createCredentials<N extends string>(h: Harness, specs: Record<N, [CredentialKind, unknown]>): Promise<Record<N, string>> {
  const ids = {} as Record<N, string>;
  for (const [name, [kind, secret]] of Object.entries(specs) as Array<[N, [CredentialKind, unknown]]>) {
    ids[name] = (await h.credentials.create({ kind, name, secret })).id;
  }
  return ids;
}

export interface ActionOutcome {
  ok: boolean;
  value?: any;
  /** The ApplicationFailure the activity threw (type, nonRetryable, nextRetryDelay, message, details). */
  failure?: any;
}

/** One attempt of an action, as the worker runs it; `attempt` and the run/step give the idempotency key. */
export async function runAction(
  deps: { credentials?: CredentialResolver; network?: NetworkPolicy; credentialIds?: Record<string, string> },
  action: string,
  params: unknown,
  info: { runId?: string; stepId?: string; attempt?: number } = {},
): Promise<ActionOutcome> {
  // Tests name credentials; the store knows them by id. An unknown name goes through as it is.
  if (params && typeof params === 'object' && typeof (params as { credential?: unknown }).credential === 'string') {
    const name = (params as { credential: string }).credential;
    params = { ...params, credential: deps.credentialIds?.[name] ?? name };
  }
  // Only the integration families: none of them touches the database.
  const actionDeps = { db: undefined as never, credentials: deps.credentials, network: deps.network };
  const registry = ActionRegistry.with([...messagingActions(actionDeps), ...crmActions(actionDeps)]);
  const activity = registry.activities()[action];
  if (!activity) throw new Error(`no action ${action}`);
  const env = new MockActivityEnvironment(
    {
      activityId: info.stepId ?? 'step_one',
      attempt: info.attempt ?? 1,
      workflowExecution: { workflowId: info.runId ?? 'run_test', runId: 'temporal-run' },
    },
    // Failing on purpose is what most of these runs do: keep the worker's failure warnings out of the output.
    { logger: new DefaultLogger('ERROR') },
  );
  try {
    return { ok: true, value: await env.run(activity, params) };
  } catch (failure) {
    return { ok: false, failure };
  }
}

export interface ActivityInHistory {
  activityType: string;
  activityId: string;
  /** Attempts made, whether Temporal retried one scheduled activity or the workflow scheduled one per attempt. */
  attempts: number;
  /** How the last attempt ended. */
  outcome: 'completed' | 'failed' | 'timed_out' | 'pending';
}

/**
 * The run's activities by activity id, in the order first scheduled. A
 * step's attempts are counted the same way under both retry styles: one
 * ActivityTaskScheduled whose ActivityTaskStarted carries the last attempt
 * number (Temporal's retries), or one scheduled activity per attempt under
 * the same activity id (retries driven by the workflow).
 */
export async function activitiesOf(h: Harness, runId: string): Promise<ActivityInHistory[]> {
  const history = await h.client.workflow.getHandle(runId).fetchHistory();
  const byActivityId = new Map<string, ActivityInHistory>();
  const activityIdOf = new Map<string, string>();
  const types = new Map<string, Set<string>>();
  for (const event of history.events ?? []) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) {
      const activityId = scheduled.activityId ?? '';
      activityIdOf.set(String(event.eventId), activityId);
      const type = scheduled.activityType?.name ?? '';
      types.set(activityId, (types.get(activityId) ?? new Set()).add(type));
      if (!byActivityId.has(activityId)) byActivityId.set(activityId, { activityType: type, activityId, attempts: 0, outcome: 'pending' });
      continue;
    }
    const started = event.activityTaskStartedEventAttributes;
    if (started) {
      const activity = byActivityId.get(activityIdOf.get(String(started.scheduledEventId)) ?? '');
      if (activity) activity.attempts += started.attempt ?? 1;
      continue;
    }
    const closed = event.activityTaskCompletedEventAttributes ?? event.activityTaskFailedEventAttributes ?? event.activityTaskTimedOutEventAttributes;
    if (closed) {
      const activity = byActivityId.get(activityIdOf.get(String(closed.scheduledEventId)) ?? '');
      if (activity) activity.outcome = event.activityTaskCompletedEventAttributes ? 'completed' : event.activityTaskFailedEventAttributes ? 'failed' : 'timed_out';
    }
  }
  for (const [activityId, seen] of types) {
    if (seen.size > 1) throw new Error(`activity id ${activityId} was scheduled as ${[...seen].join(' and ')}`);
  }
  return [...byActivityId.values()];
}

/** Every payload and failure message of the run's history, decoded, in one string. */
export async function historyText(h: Harness, runId: string): Promise<string> {
  const history = await decryptedHistory(h, runId);
  const parts: string[] = [];
  const walk = (value: unknown): void => {
    if (value instanceof Uint8Array) {
      parts.push(Buffer.from(value).toString('utf8'));
    } else if (Array.isArray(value)) {
      value.forEach(walk);
    } else if (value && typeof value === 'object') {
      for (const child of Object.values(value)) walk(child);
    } else if (typeof value === 'string') {
      parts.push(value);
    }
  };
  walk(history.events as temporal.api.history.v1.IHistoryEvent[]);
  return parts.join('\n');
}
