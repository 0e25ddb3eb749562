/**
 * Durations in definitions ("30s", "15m", "7d", "2 hours"), parsed with `ms`.
 * Waits are capped at 30 days: longer pauses are scheduled runs, not timers.
 */
import ms from 'ms';

export const MAX_WAIT_MS = 30 * 24 * 60 * 60 * 1000;

/** Milliseconds, or undefined when the text is not a positive duration. */
export function parseDuration(text: string): number | undefined {
  let value: number | undefined;
  try {
    value = ms(text as ms.StringValue);
  } catch {
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return undefined;
  return Math.round(value);
}

/** A problem with a wait's duration, or undefined when it is fine. */
export function waitDurationProblem(text: string): string | undefined {
  const value = parseDuration(text);
  if (value === undefined) return `"${text}" is not a duration; write e.g. "30s", "15m", "7d"`;
  if (value > MAX_WAIT_MS) return `"${text}" is longer than the 30-day maximum; schedule a later run instead`;
  return undefined;
}
