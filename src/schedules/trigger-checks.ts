/**
 * The checks a schedule or recurring trigger gets when a definition is
 * saved: the cron expression (parsed by croner, limited to what Temporal's
 * own cron parser reads the same way), the time zone (IANA, as Intl knows
 * it), the interval, the catch-up window, the batch size and the object
 * filter. Each problem carries its path below the trigger.
 *
 * Called by the validator (src/interpreter/validate.ts), which the workflow
 * bundle does not import, so croner stays out of workflow code.
 */
import { CronPattern } from 'croner';
import { parseDuration } from '../interpreter/duration';
import { filterProblems, type ObjectFilter, type RecurringObjectType } from './object-filter';

export interface TriggerProblem {
  code: 'invalid_schedule' | 'invalid_duration' | 'out_of_range' | 'invalid_filter';
  path: (string | number)[];
  message: string;
}

export interface ScheduleTiming {
  cron?: string;
  interval?: string;
  timezone?: string;
  catchupWindow?: string;
}

export const MIN_INTERVAL_MS = 1000;
/** Temporal refuses catch-up windows under 10 seconds. */
export const MIN_CATCHUP_WINDOW_MS = 10_000;
export const DEFAULT_CATCHUP_WINDOW = '1m';
export const MAX_BATCH_SIZE = 500;
export const DEFAULT_BATCH_SIZE = 100;

const CRON_SHORTHANDS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);
const CRON_FIELD_NAMES = ['minute', 'hour', 'day of month', 'month', 'day of week'];
const MONTH_NAMES = new Set(['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC']);
const WEEKDAY_NAMES = new Set(['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT']);

/** Why a cron expression is unusable, or undefined when Temporal and croner both read it. */
export function cronProblem(cron: string): string | undefined {
  const text = cron.trim();
  if (text.startsWith('@')) {
    return CRON_SHORTHANDS.has(text.toLowerCase()) ? undefined : `"${cron}" is not a cron shorthand; use @hourly, @daily, @weekly, @monthly or @yearly (or an "interval")`;
  }
  const fields = text.split(/\s+/);
  if (fields.length !== 5) {
    return `"${cron}" has ${fields.length} fields; a cron expression has 5: minute hour day-of-month month day-of-week (use "interval" for seconds)`;
  }
  for (const [i, field] of fields.entries()) {
    // Numbers, *, ranges, steps, lists, and month or weekday names where they belong. L, W, # and ?
    // mean different things (or nothing) to Temporal's parser: not accepted.
    const names = i === 3 ? MONTH_NAMES : i === 4 ? WEEKDAY_NAMES : undefined;
    const bad = field.split(/[,/-]/).find((token) => !(token === '*' || /^[0-9]+$/.test(token) || names?.has(token.toUpperCase())));
    if (bad !== undefined) return `the ${CRON_FIELD_NAMES[i]} field "${field}" has "${bad}", which is not a number${names ? ', a name' : ''} or *`;
  }
  try {
    new CronPattern(text);
  } catch (err) {
    return `"${cron}" is not a valid cron expression: ${(err as Error).message.replace(/^CronPattern:\s*/, '')}`;
  }
  return undefined;
}

/** Whether the runtime knows this IANA time zone. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export function timingProblems(t: ScheduleTiming): TriggerProblem[] {
  const out: TriggerProblem[] = [];
  if (t.cron !== undefined) {
    const problem = cronProblem(t.cron);
    if (problem) out.push({ code: 'invalid_schedule', path: ['cron'], message: problem });
  }
  if (t.interval !== undefined) {
    const ms = parseDuration(t.interval);
    if (ms === undefined) out.push({ code: 'invalid_duration', path: ['interval'], message: `"${t.interval}" is not a duration; write e.g. "30s", "1h" or "1d"` });
    else if (ms < MIN_INTERVAL_MS) out.push({ code: 'out_of_range', path: ['interval'], message: `"${t.interval}" is shorter than the 1s minimum` });
  }
  if (t.timezone !== undefined) {
    if (t.interval !== undefined) out.push({ code: 'invalid_schedule', path: ['timezone'], message: 'a time zone applies to a cron expression; an interval runs every so long wherever you are' });
    else if (!isTimeZone(t.timezone)) out.push({ code: 'invalid_schedule', path: ['timezone'], message: `"${t.timezone}" is not an IANA time zone such as "Europe/Berlin" or "UTC"` });
  }
  if (t.catchupWindow !== undefined) {
    const ms = parseDuration(t.catchupWindow);
    if (ms === undefined) out.push({ code: 'invalid_duration', path: ['catchupWindow'], message: `"${t.catchupWindow}" is not a duration; write e.g. "10m"` });
    else if (ms < MIN_CATCHUP_WINDOW_MS) out.push({ code: 'out_of_range', path: ['catchupWindow'], message: `"${t.catchupWindow}" is shorter than the 10s minimum` });
  }
  return out;
}

export function recurringProblems(t: ScheduleTiming & { objectType: RecurringObjectType; filter?: ObjectFilter; batchSize?: number }): TriggerProblem[] {
  const out = timingProblems(t);
  if (t.batchSize !== undefined && (t.batchSize < 1 || t.batchSize > MAX_BATCH_SIZE)) {
    out.push({ code: 'out_of_range', path: ['batchSize'], message: `batchSize must be from 1 to ${MAX_BATCH_SIZE}, got ${t.batchSize}` });
  }
  if (t.filter !== undefined) {
    for (const p of filterProblems(t.objectType, t.filter, (d) => parseDuration(d) !== undefined)) {
      out.push({ code: 'invalid_filter', path: ['filter', ...p.path], message: p.message });
    }
  }
  return out;
}
