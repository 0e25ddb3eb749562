/**
 * Every execution of a workflow id (one per continue-as-new), newest last,
 * with its history's event count: what the history-size tests measure.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { ensureTemporalCli } from '../../temporal/cli';
import { replayOptions } from './harness';

export interface ExecutionHistory {
  workflowId: string;
  runId: string;
  events: number;
}

export async function executionHistories(client: Client, workflowId: string): Promise<ExecutionHistory[]> {
  const out: ExecutionHistory[] = [];
  // The latest execution's start event names the one it continued from; walk back to the first.
  let runId: string | undefined = (await client.workflow.getHandle(workflowId).describe()).runId;
  while (runId) {
    const current: string = runId;
    const history = await client.workflow.getHandle(workflowId, current).fetchHistory();
    const events = history.events ?? [];
    out.unshift({ workflowId, runId: current, events: events.length });
    const previous: string | null | undefined = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
    runId = previous || undefined;
  }
  return out;
}

/** The ids of the child workflows an execution started (of a given type). */
export async function childWorkflowIds(client: Client, workflowId: string, runId: string, workflowType?: string): Promise<string[]> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  return (history.events ?? [])
    .map((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)
    .filter((a): a is NonNullable<typeof a> => !!a && (!workflowType || a.workflowType?.name === workflowType))
    .map((a) => a.workflowId!);
}

/**
 * Replay one execution (for example one that ended by continuing as new)
 * against the current workflow code, and with RECORD_HISTORIES=1 save it
 * under test/fixtures/histories as `<fixtureName>.json`.
 */
export async function replayExecution(address: string, client: Client, workflowId: string, runId: string, fixtureName: string): Promise<void> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  await Worker.runReplayHistory(replayOptions(), history, workflowId);
  if (process.env.RECORD_HISTORIES === '1') {
    const cli = await ensureTemporalCli({ log: () => undefined });
    const json = execFileSync(cli, ['workflow', 'show', '--workflow-id', workflowId, '--run-id', runId, '--output', 'json', '--address', address, '--namespace', 'default'], {
      maxBuffer: 64 * 1024 * 1024,
    });
    writeFileSync(join(__dirname, '..', 'fixtures', 'histories', `${fixtureName}.json`), json);
  }
}
