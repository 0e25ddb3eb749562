/**
 * Worker memory per 1,000 runs parked in a wait (kept in the worker's
 * workflow cache): the service process's RSS and V8 heap after a forced GC,
 * before and after parking `runs` runs, scaled to 1,000; interpreter runs
 * (wait_for_event, subscribed through the router) and hand-written ones
 * (a signal and `condition`). Afterwards each gets its event and finishes.
 */
import { SearchAttributes } from '../src/workflows/run-contract';
import { parkWaitingRuns, WAITING_DEFINITION } from './event-path';
import type { Stack } from './stack';
import { pool, sleep, spread, type Spread } from './stats';

export interface CachedRunsOptions {
  runs: number;
  reps: number;
}

export interface CachedRunsResult {
  runs: number;
  maxCachedWorkflows: number;
  interpreter: { rssMbPer1000: Spread; heapMbPer1000: Spread };
  handWritten: { rssMbPer1000: Spread; heapMbPer1000: Spread };
}

const mbPer1000 = (bytes: number, runs: number) => (bytes / 1024 / 1024) * (1000 / runs);

export async function cachedRunsSection(stack: Stack, o: CachedRunsOptions): Promise<CachedRunsResult> {
  const { client, service } = stack;
  const workflowId = 'bench_parked';
  await service.publish(workflowId, WAITING_DEFINITION);
  const samples = { interpreter: { rss: [] as number[], heap: [] as number[] }, handWritten: { rss: [] as number[], heap: [] as number[] } };
  for (let r = 0; r < o.reps; r++) {
    for (const variant of r % 2 === 0 ? (['interpreter', 'handWritten'] as const) : (['handWritten', 'interpreter'] as const)) {
      const prefix = `p${Date.now().toString(36)}_${r}`;
      const before = await service.usage(true);
      let runIds: string[];
      if (variant === 'interpreter') {
        runIds = await parkWaitingRuns(service, workflowId, o.runs, (i) => `case_${prefix}_${i}`);
      } else {
        runIds = Array.from({ length: o.runs }, (_, i) => `run_bench_parked_${prefix}_${i}`);
        await pool(o.runs, 16, async (i) => {
          await client.workflow.start('handParked', {
            taskQueue: service.taskQueue,
            workflowId: runIds[i],
            args: [{ key: `case_${prefix}_${i}` }],
            memo: { workflowId: `${workflowId}_hand`, version: 1, triggerType: 'api', startedAt: new Date().toISOString() },
            typedSearchAttributes: [
              { key: SearchAttributes.workflowId, value: `${workflowId}_hand` },
              { key: SearchAttributes.version, value: 1 },
              { key: SearchAttributes.triggerType, value: 'api' },
            ],
          });
        });
        // Parked once its first workflow task is done: a describe shows no pending task then.
        await pool(o.runs, 16, async (i) => {
          for (;;) {
            const d = await client.workflow.getHandle(runIds[i]).describe();
            if ((d.raw.pendingWorkflowTask ?? null) === null && d.historyLength >= 4) return;
            await sleep(20);
          }
        });
      }
      const after = await service.usage(true);
      samples[variant].rss.push(mbPer1000(after.rss - before.rss, o.runs));
      samples[variant].heap.push(mbPer1000(after.heapUsed - before.heapUsed, o.runs));
      // Let them finish (a terminated run would stay in the worker's cache): the event each waits for, signalled directly.
      await pool(o.runs, 16, async (i) => {
        const handle = client.workflow.getHandle(runIds[i]);
        await handle.signal('deliverEvent', { id: `evt_${prefix}_${i}`, type: 'case.resolved', objectType: 'case', objectId: `case_${prefix}_${i}` });
        await handle.result();
      });
    }
  }
  const pick = (v: 'interpreter' | 'handWritten') => ({ rssMbPer1000: spread(samples[v].rss), heapMbPer1000: spread(samples[v].heap) });
  return { runs: o.runs, maxCachedWorkflows: service.maxCachedWorkflows, interpreter: pick('interpreter'), handWritten: pick('handWritten') };
}
