/**
 * A run's timeline as `GET /v1/runs/:id` shows it: the steps that ran, in the
 * order they began, each with its status, attempts, timings, what it was
 * given and what it gave (secrets removed), the error of a failed step and
 * the event that ended a wait. Built from the run's state (the `runState`
 * query), so it reads the same whether the run is live or long finished.
 */
import type { RunState, StepFailure, StepState } from '../interpreter';
import { redactSecrets, type RedactOptions } from './redact';

export interface TimelineEntry {
  stepId: string;
  type: StepState['type'];
  action?: string;
  status: StepState['status'];
  /** Action steps: attempts made (retries included); other steps: absent. */
  attempts?: number;
  /** How many times the step ran (loops run a step more than once; the rest shows its latest round). */
  rounds: number;
  startedAt?: string;
  endedAt?: string;
  durationMs?: number;
  input?: unknown;
  output?: unknown;
  error?: StepFailure;
  /** Action steps: the error of the latest failed attempt, also when a later attempt succeeded. */
  lastError?: StepFailure;
  /** A failed step whose catch route was taken: the step it went to. */
  handledBy?: string;
  waitingFor?: string;
  resolvedBy?: StepState['resolvedBy'];
  /** A retried run: the result came from this earlier run and the step did not run again. */
  carriedFrom?: string;
  progress?: StepState['progress'];
}

/** Steps that ran (or run now), earliest start first; steps never reached are left out. */
export function buildTimeline(state: RunState, options: RedactOptions = {}): TimelineEntry[] {
  const ran = state.steps.filter((s) => s.runs > 0 && s.startedAt !== undefined);
  // Stable: steps that began in the same millisecond keep the definition's order.
  const ordered = ran.map((s, i) => ({ s, i })).sort((a, b) => Date.parse(a.s.startedAt!) - Date.parse(b.s.startedAt!) || a.i - b.i);
  return ordered.map(({ s }) => {
    const entry: TimelineEntry = { stepId: s.id, type: s.type, status: s.status, rounds: s.runs };
    if (s.action) entry.action = s.action;
    if (s.attempts !== undefined) entry.attempts = s.attempts;
    entry.startedAt = s.startedAt;
    if (s.endedAt) {
      entry.endedAt = s.endedAt;
      entry.durationMs = Math.max(0, Date.parse(s.endedAt) - Date.parse(s.startedAt!));
    }
    if (s.input !== undefined) entry.input = redactSecrets(s.input, options);
    if (s.output !== undefined) entry.output = redactSecrets(s.output, options);
    if (s.error) entry.error = redactSecrets(s.error, options);
    if (s.lastError) entry.lastError = redactSecrets(s.lastError, options);
    if (s.handledBy) entry.handledBy = s.handledBy;
    if (s.waitingFor) entry.waitingFor = s.waitingFor;
    if (s.resolvedBy) entry.resolvedBy = s.resolvedBy;
    if (s.carriedFrom) entry.carriedFrom = s.carriedFrom;
    if (s.progress) entry.progress = s.progress;
    return entry;
  });
}

/** The run's state as the API shows it: step inputs, outputs and errors with their secrets removed. */
export function redactState(state: RunState, options: RedactOptions = {}): RunState {
  return {
    ...state,
    output: redactSecrets(state.output, options),
    error: state.error && redactSecrets(state.error, options),
    steps: state.steps.map((s) => ({
      ...s,
      ...(s.input === undefined ? {} : { input: redactSecrets(s.input, options) }),
      ...(s.output === undefined ? {} : { output: redactSecrets(s.output, options) }),
      ...(s.error === undefined ? {} : { error: redactSecrets(s.error, options) }),
      ...(s.lastError === undefined ? {} : { lastError: redactSecrets(s.lastError, options) }),
    })),
  };
}
