/**
 * The step-by-step state of a run, as the `runState` query returns it and
 * the API shows it. Updated by the workflow as it carries out commands.
 */
import type { Definition, StepType } from './definition';
import { forEachStep } from './steps';

export type StepStatus = 'pending' | 'running' | 'waiting' | 'completed' | 'failed' | 'skipped' | 'cancelled';
/** `queued`: waiting for a free slot of its concurrency key before its first step. */
export type RunStatus = 'queued' | 'running' | 'waiting' | 'completed' | 'failed' | 'cancelled';

export interface StepFailure {
  type: string;
  message: string;
}

export interface StepState {
  id: string;
  type: StepType;
  action?: string;
  status: StepStatus;
  /** How many times this step has started (loops run a step more than once). */
  runs: number;
  startedAt?: string;
  endedAt?: string;
  /** What the step was given: an action's resolved params, a child run's input, what a wait waits for. */
  input?: unknown;
  output?: unknown;
  error?: StepFailure;
  /** A wait_for_event step: the event that ended the wait. */
  resolvedBy?: { id: string; type: string; objectId?: string; occurredAt?: string };
  /** A retried run: the step's result was carried from this earlier run rather than done again. */
  carriedFrom?: string;
  /** What a waiting step waits for, in words a person reads. */
  waitingFor?: string;
  /** Action steps: the attempt running now, or the one that finished the step (retries included). */
  attempts?: number;
  /** Action steps: the error of the latest failed attempt (kept after a retry succeeds). */
  lastError?: StepFailure;
  /** A failed step whose catch route the run took: the step it went to. */
  handledBy?: string;
  /** for_each steps: how far the items are. */
  progress?: { total: number; completed: number; failed: number };
}

export interface RunState {
  runId: string;
  workflowId: string;
  version: number;
  status: RunStatus;
  startedAt: string;
  endedAt?: string;
  /** Steps running or waiting now. */
  current: string[];
  steps: StepState[];
  outcome?: 'succeeded' | 'failed' | 'cancelled';
  reason?: string;
  output?: unknown;
  error?: StepFailure & { stepId?: string };
  /** While queued: what for, in words a person reads. */
  queuedFor?: string;
  /** The event that cancelled the run (flow.cancelOn). */
  cancelledBy?: { id: string; type: string; objectId?: string };
  /** How many Temporal executions the run has taken (more than one after continuing as new). */
  executions?: number;
  /** A retry or restart of an earlier run. */
  retryOf?: { runId: string; from: 'failed_step' | 'start' };
}

/** A step's input larger than this (as JSON) is not kept in the state: the state travels through continue-as-new. */
export const MAX_STEP_INPUT_CHARS = 16_000;

/**
 * What the workflow records about steps as it runs them. The run's state
 * implements it for the main graph and branches; each for_each item keeps
 * its own (ItemLedger), since many items run the same steps at once.
 */
export interface StepLedger {
  /** How many times the step has started so far (its current round). */
  runs(id: string): number;
  /** When the step's current round started. */
  startedAt(id: string): string | undefined;
  start(id: string, at: string, status?: 'running' | 'waiting', waitingFor?: string): void;
  complete(id: string, at: string, output: unknown): void;
  fail(id: string, at: string, error: StepFailure): void;
  cancel(id: string, at: string): void;
  isActive(id: string): boolean;
  attempt(id: string, attempt: number, lastError?: StepFailure): void;
  /** What the step's current round was given. */
  input(id: string, input: unknown): void;
  /** The event that ended a wait. */
  resolved(id: string, event: { id: string; type: string; objectId?: string; occurredAt?: string }): void;
  handled(id: string, next: string): void;
  progress(id: string, progress: { total: number; completed: number; failed: number }): void;
}

/** A for_each item's ledger: round counts and activity, nothing shown. */
export class ItemLedger implements StepLedger {
  private readonly rounds = new Map<string, number>();
  private readonly started = new Map<string, string>();
  private readonly active = new Set<string>();
  runs(id: string): number {
    return this.rounds.get(id) ?? 0;
  }
  startedAt(id: string): string | undefined {
    return this.started.get(id);
  }
  start(id: string, at: string): void {
    this.rounds.set(id, this.runs(id) + 1);
    this.started.set(id, at);
    this.active.add(id);
  }
  complete(id: string): void {
    this.active.delete(id);
  }
  fail(id: string): void {
    this.active.delete(id);
  }
  cancel(id: string): void {
    this.active.delete(id);
  }
  isActive(id: string): boolean {
    return this.active.has(id);
  }
  attempt(): void {}
  input(): void {}
  resolved(): void {}
  handled(): void {}
  progress(): void {}
}

export function initialRunState(runId: string, workflowId: string, version: number, definition: Definition, startedAt: string): RunState {
  const steps: StepState[] = [];
  // Steps inside a for_each run once per item: the loop's entry shows their progress.
  forEachStep(
    definition.steps,
    (step) => {
      steps.push({ id: step.id, type: step.type, action: step.type === 'action' ? step.action : undefined, status: 'pending', runs: 0 });
    },
    ['steps'],
    [],
    { intoLoops: false },
  );
  return { runId, workflowId, version, status: 'running', startedAt, current: [], steps };
}

export class RunStateTracker implements StepLedger {
  private readonly byId = new Map<string, StepState>();

  constructor(readonly state: RunState) {
    for (const s of state.steps) this.byId.set(s.id, s);
  }

  step(id: string): StepState {
    const s = this.byId.get(id);
    if (!s) throw new Error(`no step ${id}`);
    return s;
  }

  runs(id: string): number {
    return this.step(id).runs;
  }

  startedAt(id: string): string | undefined {
    return this.step(id).startedAt;
  }

  isActive(id: string): boolean {
    const status = this.step(id).status;
    return status === 'running' || status === 'waiting';
  }

  start(id: string, at: string, status: 'running' | 'waiting' = 'running', waitingFor?: string): void {
    const s = this.step(id);
    s.status = status;
    s.runs += 1;
    s.startedAt = at;
    s.endedAt = undefined;
    s.input = undefined;
    s.output = undefined;
    s.error = undefined;
    s.resolvedBy = undefined;
    s.carriedFrom = undefined;
    s.waitingFor = waitingFor;
    s.attempts = undefined;
    s.lastError = undefined;
    s.handledBy = undefined;
    s.progress = undefined;
    if (!this.state.current.includes(id)) this.state.current.push(id);
    this.refreshRunStatus();
  }

  complete(id: string, at: string, output: unknown): void {
    this.finish(id, at, 'completed');
    this.step(id).output = output;
  }

  fail(id: string, at: string, error: StepFailure): void {
    this.finish(id, at, 'failed');
    this.step(id).error = error;
  }

  cancel(id: string, at: string): void {
    this.finish(id, at, 'cancelled');
  }

  /** An attempt of an action step begins (lastError: the one before it failed). */
  attempt(id: string, attempt: number, lastError?: StepFailure): void {
    const s = this.step(id);
    s.attempts = attempt;
    if (lastError) s.lastError = lastError;
  }

  input(id: string, input: unknown): void {
    const size = JSON.stringify(input ?? null).length;
    this.step(id).input = size > MAX_STEP_INPUT_CHARS ? { omitted: `${size} characters of JSON, more than the state keeps` } : input;
  }

  resolved(id: string, event: { id: string; type: string; objectId?: string; occurredAt?: string }): void {
    const { id: eventId, type, objectId, occurredAt } = event;
    this.step(id).resolvedBy = { id: eventId, type, ...(objectId === undefined ? {} : { objectId }), ...(occurredAt === undefined ? {} : { occurredAt }) };
  }

  /** A retried run: the earlier run's result of a step, shown as this run's (nothing runs again). */
  carry(earlier: StepState, fromRunId: string): void {
    const s = this.step(earlier.id);
    Object.assign(s, {
      status: earlier.status,
      runs: earlier.runs,
      startedAt: earlier.startedAt,
      endedAt: earlier.endedAt,
      input: earlier.input,
      output: earlier.output,
      error: earlier.error,
      resolvedBy: earlier.resolvedBy,
      attempts: earlier.attempts,
      lastError: earlier.lastError,
      handledBy: earlier.handledBy,
      progress: earlier.progress,
      carriedFrom: earlier.carriedFrom ?? fromRunId,
    });
  }

  handled(id: string, next: string): void {
    this.step(id).handledBy = next;
  }

  progress(id: string, progress: { total: number; completed: number; failed: number }): void {
    this.step(id).progress = progress;
  }

  /** The run waits for a slot of its concurrency key before its first step. */
  queue(queuedFor: string): void {
    this.state.status = 'queued';
    this.state.queuedFor = queuedFor;
  }

  dequeue(): void {
    this.state.queuedFor = undefined;
    this.state.status = 'running';
    this.refreshRunStatus();
  }

  private finish(id: string, at: string, status: StepStatus): void {
    const s = this.step(id);
    s.status = status;
    s.endedAt = at;
    s.waitingFor = undefined;
    this.state.current = this.state.current.filter((c) => c !== id);
    this.refreshRunStatus();
  }

  private refreshRunStatus(): void {
    if (this.state.status === 'running' || this.state.status === 'waiting') {
      // A parallel step is busy only through its branches' steps, which are
      // current beside it: when they all wait, the run waits.
      const active = this.state.current.map((c) => this.step(c)).filter((s) => s.type !== 'parallel');
      this.state.status = active.length > 0 && active.every((s) => s.status === 'waiting') ? 'waiting' : 'running';
    }
  }

  /** Close the run: steps never reached are skipped, steps in flight cancelled. */
  close(at: string, status: 'completed' | 'failed' | 'cancelled'): void {
    for (const s of this.state.steps) {
      if (s.status === 'pending') s.status = 'skipped';
      if (s.status === 'running' || s.status === 'waiting') {
        s.status = 'cancelled';
        s.endedAt = at;
        s.waitingFor = undefined;
      }
    }
    this.state.current = [];
    this.state.status = status;
    this.state.queuedFor = undefined;
    this.state.endedAt = at;
  }
}
