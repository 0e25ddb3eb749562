/**
 * The gate of one concurrency key of one workflow (`flow.concurrency`): at
 * most `limit` runs hold a slot; the others wait in a queue, first come
 * first served, instead of failing.
 *
 * Protocol (all signals, so nothing polls):
 *   run  -> gate  acquireSlot {runId, limit}   before the run's first step
 *   gate -> run   slotGranted {gateId}         when a slot is free
 *   run  -> gate  releaseSlot {runId}          when the run ends, however it ends
 * A run starts the gate itself when it is not running (as an abandoned child
 * with the gate's fixed id, so two runs racing to start it end up with one).
 * The gate finishes once it has been idle a minute, and continues as new
 * when its history grows long. While runs are queued it pings holders now
 * and then: a holder that no longer runs (terminated, so it never released)
 * loses its slot. Acquire and release are idempotent, so a run may repeat
 * them safely.
 */
import { allHandlersFinished, condition, continueAsNew, getExternalWorkflowHandle, isCancellation, setHandler } from '@temporalio/workflow';
import { historyIsLong } from './history-limits';
import {
  acquireSlotSignal,
  gatePingSignal,
  gateStateQuery,
  releaseSlotSignal,
  slotGrantedSignal,
  type ConcurrencyGateInput,
} from './run-contract';

/** A gate with no holders and no queue finishes after this long. */
const IDLE_MS = 60_000;
/** While runs queue, holders are checked this often. */
const PING_MS = 15 * 60_000;

export async function concurrencyGate(input: ConcurrencyGateInput): Promise<void> {
  let limit = input.limit;
  const holders: string[] = [...input.holders];
  const queue: string[] = [...input.queue];
  /** Holders that asked again (e.g. after a gate restart): they get their grant again. */
  const regrant = new Set<string>();
  let changed = true;

  setHandler(acquireSlotSignal, ({ runId, limit: asked }) => {
    // The latest version of the workflow says how many may run at once.
    limit = asked;
    if (holders.includes(runId)) regrant.add(runId);
    else if (!queue.includes(runId)) queue.push(runId);
    changed = true;
  });
  setHandler(releaseSlotSignal, ({ runId }) => {
    remove(holders, runId);
    remove(queue, runId);
    regrant.delete(runId);
    changed = true;
  });
  setHandler(gateStateQuery, () => ({ limit, holders: [...holders], queue: [...queue] }));

  const tell = async (runId: string, signal: 'grant' | 'ping'): Promise<boolean> => {
    try {
      const handle = getExternalWorkflowHandle(runId);
      if (signal === 'grant') await handle.signal(slotGrantedSignal, { gateId: input.gateId });
      else await handle.signal(gatePingSignal);
      return true;
    } catch (err) {
      if (isCancellation(err)) throw err;
      // The run is not running any more: it cannot use (or give back) a slot.
      return false;
    }
  };

  for (;;) {
    while (holders.length < limit && queue.length > 0) {
      const runId = queue.shift()!;
      holders.push(runId);
      if (!(await tell(runId, 'grant'))) remove(holders, runId);
    }
    for (const runId of [...regrant]) {
      regrant.delete(runId);
      if (holders.includes(runId) && !(await tell(runId, 'grant'))) remove(holders, runId);
    }
    if (holders.length < limit && queue.length > 0) continue;

    if (historyIsLong()) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof concurrencyGate>({ gateId: input.gateId, limit, holders, queue });
    }

    changed = false;
    if (holders.length === 0 && queue.length === 0) {
      if (!(await condition(() => changed, IDLE_MS))) return;
      continue;
    }
    const news = await condition(() => changed, PING_MS);
    if (!news && queue.length > 0) {
      for (const runId of [...holders]) {
        if (!(await tell(runId, 'ping'))) remove(holders, runId);
      }
    }
  }
}

function remove(list: string[], value: string): void {
  const index = list.indexOf(value);
  if (index >= 0) list.splice(index, 1);
}
