/**
 * Runs as the API sees them: start a run of a published version, read a
 * run's state and timeline (the workflow's `runState` query, or what
 * Temporal knows when no worker answers), list runs through Temporal
 * visibility, deliver events, cancel, and retry a failed run from its failed
 * step or from the start. Temporal is the source of truth for runs; nothing
 * is copied.
 */
import { createHash } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client, type WorkflowExecutionStatusName } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { ulid } from 'ulid';
import { MAIN_GRAPH, buildProgram, type RunEvent, type RunState, type StepData, type StepState } from '../interpreter';
import type { ActionRegistry } from '../activities/registry';
import type { VersionRecord } from '../store/workflow-store';
import {
  RUN_WORKFLOW_TYPE,
  SearchAttributes,
  runStart,
  deliverEventSignal,
  runDataQuery,
  runStateQuery,
  type ResumePoint,
  type RetryLink,
  type RunInput,
  type RunMemo,
  type TriggerType,
} from '../workflows/run-contract';
import { buildTimeline, redactState, type TimelineEntry } from './timeline';
import type { RedactOptions } from './redact';

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
  /** The version the run started on and stays on. */
  version: number;
  /** `rollout`: the run fell in a rollout's share of new runs; `live`: the live version. */
  versionVia?: 'live' | 'rollout';
  /** A retry or restart of an earlier run. */
  retryOf?: RetryLink;
  triggerType: TriggerType;
  status: string;
  startedAt: string;
  endedAt?: string;
  temporalUrl?: string;
}

export interface RunDetail extends RunSummary {
  /** From the workflow's query; absent when no worker could answer. Secrets removed. */
  state?: RunState;
  /** The steps that ran, in order, with timings, attempts, inputs and outputs (secrets removed). */
  timeline?: TimelineEntry[];
  stateUnavailable?: string;
}

export class RunNotFoundError extends Error {}
export class RunNotActiveError extends Error {}
/** The run cannot be retried that way (the API answers 409 with `code`). */
export class RunNotRetryableError extends Error {
  constructor(
    readonly code: 'run_not_failed' | 'no_failed_step' | 'state_unavailable',
    message: string,
  ) {
    super(message);
  }
}

export interface StartOptions {
  /** How the version was picked (pickVersion). */
  via?: 'live' | 'rollout';
  retryOf?: RetryLink;
  resume?: ResumePoint;
  /**
   * Where the run's waits start counting events (RunInput.eventCursor): the
   * triggering event's position, or the log's delivered horizon read when
   * the request arrived (eventRunStartCursor). Read here when not given.
   */
  eventCursor?: number;
}

/** Statuses a run may be restarted from; only a failed run can be retried from its failed step. */
const RESTARTABLE = new Set<WorkflowExecutionStatusName>(['FAILED', 'CANCELLED', 'TERMINATED', 'TIMED_OUT']);

/** The id of the retry of a run: one per run and way, so a repeated request returns the first retry. */
export function retryRunId(runId: string, from: RetryLink['from']): string {
  return `run_r${createHash('sha256').update(`${runId}\n${from}`).digest('hex').slice(0, 32)}`;
}

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
  /** Where a new run's waits start counting (eventRunStartCursor), when the caller has no cursor. */
  runStartCursor?: () => Promise<number>;
}

export class RunService {
  constructor(private readonly options: RunServiceOptions) {}

  temporalUrl(runId: string): string | undefined {
    const base = this.options.temporalUiUrl;
    return base ? `${base.replace(/\/$/, '')}/namespaces/${encodeURIComponent(this.options.namespace)}/workflows/${encodeURIComponent(runId)}` : undefined;
  }

  async start(version: VersionRecord, trigger: { type: TriggerType; payload: unknown }, runId = newRunId(), options: StartOptions = {}): Promise<RunSummary> {
    return this.startInput(
      {
        runId,
        workflowId: version.workflowId,
        version: version.version,
        definition: version.definition,
        actionPolicies: this.options.registry.policiesFor(version.definition),
        trigger,
        ...(await this.cursorFor(options.eventCursor)),
        ...(options.retryOf ? { retryOf: options.retryOf } : {}),
        ...(options.resume ? { resume: options.resume } : {}),
      },
      options.via,
    );
  }

  private async cursorFor(given: number | undefined): Promise<{ eventCursor?: number }> {
    if (given !== undefined) return { eventCursor: given };
    return this.options.runStartCursor ? { eventCursor: await this.options.runStartCursor() } : {};
  }

  private async startInput(input: RunInput, via?: 'live' | 'rollout'): Promise<RunSummary> {
    const startedAt = new Date().toISOString();
    const memo: RunMemo = {
      workflowId: input.workflowId,
      version: input.version,
      triggerType: input.trigger.type,
      startedAt,
      ...(via ? { versionVia: via } : {}),
      ...(input.retryOf ? { retryOf: input.retryOf } : {}),
    };
    const retry = input.retryOf ? `, ${input.retryOf.from === 'start' ? 'restart' : 'retry'} of ${input.retryOf.runId}` : '';
    await this.options.client.workflow.start(RUN_WORKFLOW_TYPE, {
      taskQueue: this.options.taskQueue,
      ...runStart(input, memo),
      staticSummary: `${input.workflowId} v${input.version} (${input.trigger.type}${via === 'rollout' ? ', rollout' : ''}${retry})`,
    });
    return summaryOf(input.runId, memo, 'running', startedAt, undefined, this.temporalUrl(input.runId));
  }

  /**
   * A new run for a failed one: from the start with the same input and
   * version, or from its failed step with the earlier steps' results carried
   * over (they are not done again). The new run links to the old one
   * (`retryOf`, and the IdwRetryOf search attribute). Its id follows from
   * the old run and the way, so asking twice returns the first retry.
   */
  async retry(runId: string, from: RetryLink['from']): Promise<{ created: boolean; run: RunSummary }> {
    const description = await this.describe(runId);
    const status = description.status.name;
    if (from === 'failed_step' ? status !== 'FAILED' : !RESTARTABLE.has(status)) {
      throw new RunNotRetryableError(
        'run_not_failed',
        `run ${runId} is ${fromTemporalStatus(status)}; ${from === 'failed_step' ? 'only a failed run can be retried from its failed step' : 'only a run that did not complete can be restarted'}`,
      );
    }
    const original = await this.originalInput(runId);
    const link: RetryLink = { runId, from };
    const input: RunInput = {
      runId: retryRunId(runId, from),
      workflowId: original.workflowId,
      version: original.version,
      definition: original.definition,
      actionPolicies: original.actionPolicies,
      trigger: original.trigger,
      // A retry begins now: its waits count events from here on.
      ...(await this.cursorFor(undefined)),
      retryOf: link,
      ...(original.continueAsNewAfterEvents === undefined ? {} : { continueAsNewAfterEvents: original.continueAsNewAfterEvents }),
    };
    if (from === 'failed_step') input.resume = await this.resumePoint(runId, original);
    const memo = ((await description.memo) ?? {}) as Partial<RunMemo>;
    try {
      return { created: true, run: await this.startInput(input, memo.versionVia) };
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      return { created: false, run: await this.summary(input.runId) };
    }
  }

  /** What the run was started with: the input of its latest execution (after continue-as-new it still names the version and trigger). */
  private async originalInput(runId: string): Promise<RunInput> {
    const history = await this.options.client.workflow.getHandle(runId).fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    if (!started) throw new Error(`run ${runId} has no start event`);
    const input = await decodeFromPayloadsAtIndex<RunInput>(this.options.client.options.loadedDataConverter, 0, started.input?.payloads);
    const { continued: _continued, resume: _resume, ...rest } = input;
    return rest;
  }

  /** The failed step of a failed run and what the steps before it gave. */
  private async resumePoint(runId: string, original: RunInput): Promise<ResumePoint> {
    let state: RunState;
    let data: { steps: Record<string, StepData>; vars: Record<string, unknown> };
    try {
      const handle = this.options.client.workflow.getHandle(runId);
      state = await handle.query(runStateQuery);
      data = await handle.query(runDataQuery);
    } catch (err) {
      throw new RunNotRetryableError('state_unavailable', `no worker answered for run ${runId}, so its results cannot be carried over: ${(err as Error).message}`);
    }
    const failedStep = state.error?.stepId;
    const program = buildProgram(original.definition);
    if (!failedStep || program.graphOf.get(failedStep) !== MAIN_GRAPH) {
      throw new RunNotRetryableError('no_failed_step', `run ${runId} did not fail at a step it can start from; restart it from the start instead`);
    }
    if (program.steps.get(failedStep)?.type === 'end') {
      throw new RunNotRetryableError('no_failed_step', `run ${runId} ended failed by its end step "${failedStep}"; restart it from the start instead`);
    }
    const carried = (s: StepState): boolean => s.id !== failedStep && (s.status === 'completed' || (s.status === 'failed' && s.handledBy !== undefined));
    const stepStates = state.steps.filter(carried);
    const ids = new Set(stepStates.map((s) => s.id));
    const steps: Record<string, StepData> = {};
    for (const [id, step] of Object.entries(data.steps)) if (ids.has(id)) steps[id] = step;
    return { fromStepId: failedStep, steps, vars: data.vars, stepStates };
  }

  /**
   * Start a run for an idempotency key, or return the run the key started
   * within the last 24 hours. The run id comes from the key; Temporal
   * refuses a second start of an id (REJECT_DUPLICATE keeps it so after the
   * run ends, too), and that refusal is how a repeat is recognised. A key
   * whose run is older than the window moves on to its next id.
   */
  async startIdempotent(version: VersionRecord, trigger: { type: TriggerType; payload: unknown }, key: string, options: StartOptions = {}): Promise<{ created: boolean; run: RunSummary }> {
    for (let generation = 0; generation < IDEMPOTENCY_GENERATIONS; generation++) {
      const runId = idempotentRunId(version.workflowId, key, generation);
      try {
        return { created: true, run: await this.start(version, trigger, runId, options) };
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
    // The memo keeps when the run began; the latest execution's start is later once it has continued as new.
    const summary = summaryOf(runId, memo, fromTemporalStatus(description.status.name), memo.startedAt ?? description.startTime.toISOString(), description.closeTime, this.temporalUrl(runId));
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

  /** `secretValuesFor`: more values to mask in what the run shows (credential secrets its steps name). */
  async get(runId: string, secretValuesFor?: (state: RunState) => Promise<string[]>): Promise<RunDetail> {
    const { summary, memo } = await this.load(runId);
    const detail: RunDetail = summary;
    let state: RunState;
    try {
      // Without a run id the handle is the latest execution: after continue-as-new, the one that carries the state on.
      state = await this.options.client.workflow.getHandle(runId).query(runStateQuery);
    } catch (err) {
      detail.stateUnavailable = `no worker answered the state query: ${(err as Error).message}`;
      return detail;
    }
    const redact: RedactOptions = { secretValues: secretValuesFor ? await secretValuesFor(state) : [] };
    detail.state = redactState(state, redact);
    detail.timeline = buildTimeline(state, redact);
    // Runs started before the memo kept the start time: their state has it.
    if (!memo.startedAt) detail.startedAt = state.startedAt;
    // While running, the workflow knows whether it is queued, waiting or working.
    if (detail.status === 'running') detail.status = state.status;
    return detail;
  }

  async list(filter: RunListFilter): Promise<RunSummary[]> {
    const out: RunSummary[] = [];
    for await (const execution of this.options.client.workflow.list({ query: runListQuery(filter), pageSize: Math.min(filter.limit, 1000) })) {
      const memo = ((await execution.memo) ?? {}) as Partial<RunMemo>;
      out.push(summaryOf(execution.workflowId, memo, fromTemporalStatus(execution.status.name), memo.startedAt ?? execution.startTime.toISOString(), execution.closeTime, this.temporalUrl(execution.workflowId)));
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

export interface RunListFilter {
  workflowId?: string;
  status?: RunStatusFilter;
  version?: number;
  triggerType?: TriggerType;
  /** Runs that touched this object (IdwObjectIds). */
  objectId?: string;
  /** Retries and restarts of this run (IdwRetryOf). */
  retryOf?: string;
  limit: number;
}

/**
 * The visibility query for a run list: what the Temporal Web UI takes too.
 * Values are checked against strict patterns by the API before they get here.
 */
export function runListQuery(filter: Omit<RunListFilter, 'limit'>): string {
  // A run that continued as new is one run: list its latest execution only.
  const clauses = [`WorkflowType = '${RUN_WORKFLOW_TYPE}'`, `ExecutionStatus != 'ContinuedAsNew'`];
  if (filter.workflowId) clauses.push(`${SearchAttributes.workflowId.name} = '${filter.workflowId}'`);
  if (filter.status) clauses.push(`ExecutionStatus = '${STATUS_TO_TEMPORAL[filter.status]}'`);
  if (filter.version !== undefined) clauses.push(`${SearchAttributes.version.name} = ${Math.trunc(filter.version)}`);
  if (filter.triggerType) clauses.push(`${SearchAttributes.triggerType.name} = '${filter.triggerType}'`);
  if (filter.objectId) clauses.push(`${SearchAttributes.objectIds.name} = '${filter.objectId}'`);
  if (filter.retryOf) clauses.push(`${SearchAttributes.retryOf.name} = '${filter.retryOf}'`);
  return clauses.join(' AND ');
}

function summaryOf(runId: string, memo: Partial<RunMemo>, status: string, startedAt: string, closeTime: Date | undefined, temporalUrl: string | undefined): RunSummary {
  return {
    runId,
    workflowId: String(memo.workflowId ?? ''),
    version: Number(memo.version ?? 0),
    ...(memo.versionVia ? { versionVia: memo.versionVia } : {}),
    ...(memo.retryOf ? { retryOf: memo.retryOf } : {}),
    triggerType: (memo.triggerType ?? 'api') as TriggerType,
    status,
    startedAt,
    ...(closeTime ? { endedAt: closeTime.toISOString() } : {}),
    temporalUrl,
  };
}
