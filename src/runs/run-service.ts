/**
 * Runs as the API sees them: start a run of a published version, read a
 * run's state (the workflow's `runState` query, or what Temporal knows when no
 * worker answers), list runs through Temporal visibility, deliver events,
 * cancel. Temporal is the source of truth for runs; nothing is copied.
 */
import { createHash } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client, type WorkflowExecutionStatusName } from '@temporalio/client';
import { ulid } from 'ulid';
import type { RunEvent, RunState } from '../interpreter';
import type { ActionRegistry } from '../activities/registry';
import type { VersionRecord } from '../store/workflow-store';
import {
  RUN_WORKFLOW_TYPE,
  SearchAttributes,
  runStart,
  deliverEventSignal,
  runStateQuery,
  type RunInput,
  type RunMemo,
  type TriggerType,
} from '../workflows/run-contract';

export type RunStatusFilter = 'running' | 'completed' | 'failed' | 'cancelled' | 'terminated' | 'timed_out';

const STATUS_TO_TEMPORAL: Record<RunStatusFilter, string> = {
  running: 'Running',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Canceled',
  terminated: 'Terminated',
  timed_out: 'TimedOut',
};

function fromTemporalStatus(name: WorkflowExecutionStatusName): string {
  switch (name) {
    case 'RUNNING':
      return 'running';
    case 'COMPLETED':
      return 'completed';
    case 'FAILED':
      return 'failed';
    case 'CANCELLED':
      return 'cancelled';
    case 'TERMINATED':
      return 'terminated';
    case 'TIMED_OUT':
      return 'timed_out';
    case 'CONTINUED_AS_NEW':
      return 'running';
    default:
      return 'unknown';
  }
}

export interface RunSummary {
  runId: string;
  workflowId: string;
  version: number;
  triggerType: TriggerType;
  status: string;
  startedAt: string;
  endedAt?: string;
  temporalUrl?: string;
}

export interface RunDetail extends RunSummary {
  /** From the workflow's query; absent when no worker could answer. */
  state?: RunState;
  stateUnavailable?: string;
}

export class RunNotFoundError extends Error {}
export class RunNotActiveError extends Error {}

export function newRunId(): string {
  return `run_${ulid().toLowerCase()}`;
}

/** How long an idempotency key keeps returning the run it started. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;
/** Run ids tried for one key: one per 24-hour window the key was used in (within Temporal's retention). */
const IDEMPOTENCY_GENERATIONS = 100;

/**
 * The run id an idempotency key gives, in its n-th window: derived from the
 * workflow and the key, so the same request always lands on the same id and
 * Temporal's id uniqueness does the deduplication, without a lookup that
 * could race.
 */
export function idempotentRunId(workflowId: string, key: string, generation: number): string {
  return `run_k${createHash('sha256').update(`${workflowId}\n${key}\n${generation}`).digest('hex').slice(0, 32)}`;
}

export interface RunServiceOptions {
  client: Client;
  taskQueue: string;
  namespace: string;
  registry: ActionRegistry;
  /** Base URL of the Temporal Web UI, for links. */
  temporalUiUrl?: string;
}

export class RunService {
  constructor(private readonly options: RunServiceOptions) {}

  temporalUrl(runId: string): string | undefined {
    const base = this.options.temporalUiUrl;
    return base ? `${base.replace(/\/$/, '')}/namespaces/${encodeURIComponent(this.options.namespace)}/workflows/${encodeURIComponent(runId)}` : undefined;
  }

  async start(version: VersionRecord, trigger: { type: TriggerType; payload: unknown }, runId = newRunId()): Promise<RunSummary> {
    const input: RunInput = {
      runId,
      workflowId: version.workflowId,
      version: version.version,
      definition: version.definition,
      actionPolicies: this.options.registry.policiesFor(version.definition),
      trigger,
    };
    const startedAt = new Date().toISOString();
    const memo: RunMemo = { workflowId: version.workflowId, version: version.version, triggerType: trigger.type, startedAt };
    await this.options.client.workflow.start(RUN_WORKFLOW_TYPE, {
      taskQueue: this.options.taskQueue,
      ...runStart(input, memo),
      staticSummary: `${version.workflowId} v${version.version} (${trigger.type})`,
    });
    return {
      runId,
      workflowId: version.workflowId,
      version: version.version,
      triggerType: trigger.type,
      status: 'running',
      startedAt,
      temporalUrl: this.temporalUrl(runId),
    };
  }

  /**
   * Start a run for an idempotency key, or return the run the key started
   * within the last 24 hours. The run id comes from the key; Temporal
   * refuses a second start of an id (REJECT_DUPLICATE keeps it so after the
   * run ends, too), and that refusal is how a repeat is recognised. A key
   * whose run is older than the window moves on to its next id.
   */
  async startIdempotent(version: VersionRecord, trigger: { type: TriggerType; payload: unknown }, key: string): Promise<{ created: boolean; run: RunSummary }> {
    for (let generation = 0; generation < IDEMPOTENCY_GENERATIONS; generation++) {
      const runId = idempotentRunId(version.workflowId, key, generation);
      try {
        return { created: true, run: await this.start(version, trigger, runId) };
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
      const existing = await this.summary(runId);
      if (Date.now() - Date.parse(existing.startedAt) < IDEMPOTENCY_WINDOW_MS) return { created: false, run: existing };
    }
    throw new Error(`idempotency key used in more than ${IDEMPOTENCY_GENERATIONS} windows`);
  }

  /** What visibility and the memo say about a run, without asking its workflow. */
  async summary(runId: string): Promise<RunSummary> {
    return (await this.load(runId)).summary;
  }

  private async load(runId: string): Promise<{ summary: RunSummary; memo: Partial<RunMemo> }> {
    const description = await this.describe(runId);
    const memo = ((await description.memo) ?? {}) as Partial<RunMemo>;
    const summary: RunSummary = {
      runId,
      workflowId: String(memo.workflowId ?? ''),
      version: Number(memo.version ?? 0),
      triggerType: (memo.triggerType ?? 'api') as TriggerType,
      status: fromTemporalStatus(description.status.name),
      // The memo keeps when the run began; the latest execution's start is later once it has continued as new.
      startedAt: memo.startedAt ?? description.startTime.toISOString(),
      endedAt: description.closeTime?.toISOString(),
      temporalUrl: this.temporalUrl(runId),
    };
    return { summary, memo };
  }

  private async describe(runId: string) {
    try {
      const description = await this.options.client.workflow.getHandle(runId).describe();
      if (description.type !== RUN_WORKFLOW_TYPE) throw new RunNotFoundError(runId);
      return description;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new RunNotFoundError(runId);
      throw err;
    }
  }

  async get(runId: string): Promise<RunDetail> {
    const { summary, memo } = await this.load(runId);
    const detail: RunDetail = summary;
    try {
      // Without a run id the handle is the latest execution: after continue-as-new, the one that carries the state on.
      const state = await this.options.client.workflow.getHandle(runId).query(runStateQuery);
      detail.state = state;
      // Runs started before the memo kept the start time: their state has it.
      if (!memo.startedAt) detail.startedAt = state.startedAt;
      // While running, the workflow knows whether it is queued, waiting or working.
      if (detail.status === 'running') detail.status = state.status;
    } catch (err) {
      detail.stateUnavailable = `no worker answered the state query: ${(err as Error).message}`;
    }
    return detail;
  }

  async list(filter: { workflowId?: string; status?: RunStatusFilter; limit: number }): Promise<RunSummary[]> {
    // A run that continued as new is one run: list its latest execution only.
    const clauses = [`WorkflowType = '${RUN_WORKFLOW_TYPE}'`, `ExecutionStatus != 'ContinuedAsNew'`];
    // Both values are checked against strict patterns by the API before they get here.
    if (filter.workflowId) clauses.push(`${SearchAttributes.workflowId.name} = '${filter.workflowId}'`);
    if (filter.status) clauses.push(`ExecutionStatus = '${STATUS_TO_TEMPORAL[filter.status]}'`);
    const out: RunSummary[] = [];
    for await (const execution of this.options.client.workflow.list({ query: clauses.join(' AND '), pageSize: Math.min(filter.limit, 1000) })) {
      const memo = ((await execution.memo) ?? {}) as Partial<RunMemo>;
      out.push({
        runId: execution.workflowId,
        workflowId: String(memo.workflowId ?? ''),
        version: Number(memo.version ?? 0),
        triggerType: (memo.triggerType ?? 'api') as TriggerType,
        status: fromTemporalStatus(execution.status.name),
        startedAt: memo.startedAt ?? execution.startTime.toISOString(),
        endedAt: execution.closeTime?.toISOString(),
        temporalUrl: this.temporalUrl(execution.workflowId),
      });
      if (out.length >= filter.limit) break;
    }
    return out;
  }

  async deliverEvent(runId: string, event: Omit<RunEvent, 'id'> & { id?: string }): Promise<RunEvent> {
    const description = await this.describe(runId);
    if (description.status.name !== 'RUNNING') throw new RunNotActiveError(`run ${runId} is ${fromTemporalStatus(description.status.name)}`);
    const full: RunEvent = { ...event, id: event.id ?? `evt_${ulid().toLowerCase()}`, occurredAt: event.occurredAt ?? new Date().toISOString() };
    await this.options.client.workflow.getHandle(runId).signal(deliverEventSignal, full);
    return full;
  }

  async cancel(runId: string): Promise<void> {
    const description = await this.describe(runId);
    if (description.status.name !== 'RUNNING') throw new RunNotActiveError(`run ${runId} is ${fromTemporalStatus(description.status.name)}`);
    await this.options.client.workflow.getHandle(runId).cancel();
  }
}
