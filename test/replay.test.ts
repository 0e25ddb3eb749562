/**
 * Replay: every recorded history under test/fixtures/histories is replayed
 * against the current workflow code. A change that makes the interpreter
 * workflow take a different path for an old run (nondeterminism) fails here,
 * before it can break runs in flight. Gate behaviour changes with patched().
 *
 * Refresh the fixtures with `npm run record-histories` only when a change is
 * meant to be compatible and new shapes of run should be covered.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { replayOptions } from './support/harness';

const dir = join(__dirname, 'fixtures', 'histories');
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

it('has recorded histories of the representative runs', () => {
  expect(fixtures).toEqual(
    expect.arrayContaining([
      'condition-default-route.json',
      'parallel-continue-on-error.json',
      'parallel-branch-fails.json',
      'run-workflow-parent.json',
      'wait-for-time.json',
      'wait-for-event-delivered.json',
      'wait-for-event-timeout.json',
      'durability-kill-in-activity.json',
      'durability-kill-in-waits.json',
      // Error routes, retries, loops and flow control (issue 9).
      'retry-fails-twice-then-succeeds.json',
      'catch-non-retryable.json',
      'catch-timeout.json',
      'for-each-concurrency.json',
      'for-each-batched-parent.json',
      'for-each-batch.json',
      'for-each-batch-continued-first.json',
      'for-each-batch-continued-last.json',
      'continue-as-new-first-execution.json',
      'continue-as-new-last-execution.json',
      'concurrency-key-queued.json',
      'concurrency-gate.json',
      'cancel-on-event.json',
      // A wait woken while the run was being queried (test/wait-wake-under-queries.e2e.test.ts).
      'wait-woken-under-queries.json',
      // Waits through the router, with their cursors (issue 12), and an event-triggered run.
      'wait-on-object-via-router.json',
      'event-trigger.json',
    ]),
  );
});

describe.each(fixtures)('%s', (file) => {
  it('replays without nondeterminism', async () => {
    const history = historyFromJSON(JSON.parse(readFileSync(join(dir, file), 'utf8')));
    const workflowId = `replay-${file}`;
    await expect(
      // Histories recorded since payload encryption hold payloads encrypted with the test keys (replayOptions
      // carries the codec); older ones pass through.
      Worker.runReplayHistory(replayOptions(), history, workflowId),
    ).resolves.toBeUndefined();
  });
});
