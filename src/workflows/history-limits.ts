/**
 * When an execution's history is long enough to go on in a new one
 * (continue-as-new). Temporal stops an execution at 50k events / 50 MB and
 * slows down well before; we keep every execution under ~10k events.
 */
import { workflowInfo } from '@temporalio/workflow';

/** Continue as new at a step boundary once the history has this many events... */
export const CONTINUE_AS_NEW_AFTER_EVENTS = 8000;
/** ...or this many bytes (large outputs fill a history long before its events do). */
export const CONTINUE_AS_NEW_AFTER_BYTES = 16 * 1024 * 1024;

/**
 * Steps of the main graph one execution runs at most. The history length a
 * workflow sees is the one its current workflow task began with; a loop of
 * local activities with waits that are already over can run many steps in
 * one task, so the step count bounds those too.
 */
export const CONTINUE_AS_NEW_AFTER_STEPS = 5000;

export function historyIsLong(maxEvents: number = CONTINUE_AS_NEW_AFTER_EVENTS): boolean {
  const info = workflowInfo();
  return info.historyLength >= maxEvents || info.historySize >= CONTINUE_AS_NEW_AFTER_BYTES;
}
