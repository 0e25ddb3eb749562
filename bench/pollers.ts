/**
 * Worker options compared (`npm run bench -- pollers`): the overhead
 * section's shapes under several poller and cache settings, each on a fresh
 * service process against the same dev server; the service goes back to the
 * options it started with afterwards.
 */
import type { WorkerOptions } from '@temporalio/worker';
import { overheadSection, type OverheadOptions, type ShapeResult } from './overhead';
import type { Stack } from './stack';

export const POLLER_SETTINGS: Record<string, Partial<WorkerOptions>> = {
  'SDK defaults': {},
  'autoscaling pollers': { workflowTaskPollerBehavior: { type: 'autoscaling' }, activityTaskPollerBehavior: { type: 'autoscaling' } },
  'more pollers (20 + 20)': { maxConcurrentWorkflowTaskPolls: 20, maxConcurrentActivityTaskPolls: 20 },
  'more slots (100 workflow tasks, 50 polls)': { maxConcurrentWorkflowTaskExecutions: 100, maxConcurrentWorkflowTaskPolls: 50, maxConcurrentActivityTaskPolls: 20 },
  'sticky pollers only (ratio 0.1)': { nonStickyToStickyPollRatio: 0.1 },
};

export interface PollerResult {
  setting: string;
  options: Partial<WorkerOptions>;
  shapes: ShapeResult[];
}

export async function pollerSection(stack: Stack, o: OverheadOptions, log: (line: string) => void): Promise<PollerResult[]> {
  const original = stack.service.options;
  const results: PollerResult[] = [];
  for (const [setting, options] of Object.entries(POLLER_SETTINGS)) {
    log(` ${setting}: ${JSON.stringify(options)}`);
    await stack.restartService({ ...original, ...options });
    results.push({ setting, options, shapes: await overheadSection(stack, o, log) });
  }
  await stack.restartService(original);
  return results;
}
