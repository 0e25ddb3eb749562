/**
 * Errors as the definition handles them: per-step retry policies (attempts
 * shown in the run state), catch routes by error type (a non-retryable
 * failure, a timeout, any error), the error readable by later steps as
 * `steps.<id>.error`, step deadlines, and a failure with no route failing
 * the run as before.
 */
import { createHarness, isClosed, publishWorkflow, replayAndMaybeRecord, startRun, stepOf, waitForRun, type Harness } from './support/harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

async function attemptsOf(runId: string, stepId: string): Promise<number | undefined> {
  const { rows } = await h.db.query<{ attempts: number }>('SELECT attempts FROM test_marks WHERE run_id = $1 AND step_id = $2', [runId, stepId]);
  return rows[0] ? Number(rows[0].attempts) : undefined;
}

describe('retries', () => {
  it('retries a step that fails twice, then succeeds; the state shows 3 attempts and the last error', async () => {
    await publishWorkflow(h, 'flaky_twice', {
      trigger: { type: 'api' },
      steps: [
        { id: 'call_vendor', type: 'action', action: 'flaky_mark', params: { label: 'vendor', failures: 2 }, retry: { attempts: 4, initialInterval: '100ms', backoff: 2 }, next: 'after' },
        { id: 'after', type: 'action', action: 'set_variables', params: { variables: { attempt: { $cel: 'steps.call_vendor.output.attempt' } } } },
      ],
    });
    const runId = await startRun(h, 'flaky_twice');
    const run = await waitForRun(h, runId, isClosed);
    expect(run.status).toBe('completed');
    expect(stepOf(run, 'call_vendor')).toMatchObject({
      status: 'completed',
      attempts: 3,
      lastError: { type: 'VendorUnavailable', message: 'vendor said no (attempt 2)' },
      output: { label: 'vendor', attempt: 3 },
    });
    expect(stepOf(run, 'after').output).toEqual({ attempt: 3 });
    // Each attempt ran once, all under the step's one idempotency key.
    expect(await attemptsOf(runId, 'call_vendor')).toBe(3);
    await replayAndMaybeRecord(h, runId, 'retry-fails-twice-then-succeeds');
  });

  it('fails the run when the attempts run out and no catch route takes the error', async () => {
    await publishWorkflow(h, 'flaky_too_often', {
      trigger: { type: 'api' },
      steps: [{ id: 'call_vendor', type: 'action', action: 'flaky_mark', params: { label: 'vendor', failures: 5 }, retry: { attempts: 2, initialInterval: '50ms' } }],
    });
    const runId = await startRun(h, 'flaky_too_often');
    const run = await waitForRun(h, runId, isClosed);
    expect(run.status).toBe('failed');
    expect(run.state.error).toMatchObject({ type: 'VendorUnavailable', stepId: 'call_vendor' });
    expect(run.state.error.message).toContain('after 2 attempts');
    expect(stepOf(run, 'call_vendor')).toMatchObject({ status: 'failed', attempts: 2, error: { type: 'VendorUnavailable' } });
    expect(await attemptsOf(runId, 'call_vendor')).toBe(2);
  });
});

describe('catch routes', () => {
  beforeAll(async () => {
    await publishWorkflow(h, 'vendor_with_fallback', {
      trigger: { type: 'api', inputSchema: { type: 'object', properties: { failures: { type: 'integer' }, nonRetryable: { type: 'boolean' }, sleepMs: { type: 'integer' } } } },
      steps: [
        {
          id: 'call_vendor',
          type: 'action',
          action: 'flaky_mark',
          params: { label: 'vendor', failures: { $cel: 'trigger.failures' }, errorType: 'VendorRejected', nonRetryable: { $cel: 'trigger.nonRetryable' } },
          retry: { attempts: 3, initialInterval: '50ms' },
          catch: [
            { errors: ['non_retryable'], next: 'manual_review', label: 'the vendor refused' },
            { next: 'give_up' },
          ],
          next: 'approve',
        },
        { id: 'approve', type: 'end', output: { decision: 'approve' } },
        {
          id: 'manual_review',
          type: 'end',
          reason: 'vendor refused: {{ steps.call_vendor.error.message }}',
          output: { decision: 'review', error: { $cel: 'steps.call_vendor.error' } },
        },
        { id: 'give_up', type: 'end', outcome: 'failed', reason: 'vendor kept failing ({{ steps.call_vendor.error.type }})' },
      ],
    });
  });

  it('routes a non-retryable failure to its catch step at once, with the error in steps.<id>.error', async () => {
    const runId = await startRun(h, 'vendor_with_fallback', { failures: 1, nonRetryable: true });
    const run = await waitForRun(h, runId, isClosed);
    expect(run.status).toBe('completed');
    expect(run.state.output).toEqual({ decision: 'review', error: { type: 'VendorRejected', message: 'vendor said no (attempt 1)' } });
    expect(run.state.reason).toBe('vendor refused: vendor said no (attempt 1)');
    expect(stepOf(run, 'call_vendor')).toMatchObject({ status: 'failed', attempts: 1, handledBy: 'manual_review', error: { type: 'VendorRejected' } });
    expect(stepOf(run, 'approve').status).toBe('skipped');
    expect(await attemptsOf(runId, 'call_vendor')).toBe(1);
    await replayAndMaybeRecord(h, runId, 'catch-non-retryable');
  });

  it('takes the first matching route: a retryable error that runs out of attempts goes to the catch-all', async () => {
    const runId = await startRun(h, 'vendor_with_fallback', { failures: 9, nonRetryable: false });
    const run = await waitForRun(h, runId, isClosed);
    expect(run.status).toBe('failed');
    expect(run.state.error).toMatchObject({ type: 'RunEndedFailed', stepId: 'give_up', message: 'vendor kept failing (VendorRejected)' });
    expect(stepOf(run, 'call_vendor')).toMatchObject({ status: 'failed', attempts: 3, handledBy: 'give_up' });
  });

  it('goes on normally when the step succeeds', async () => {
    const runId = await startRun(h, 'vendor_with_fallback', { failures: 0, nonRetryable: false });
    const run = await waitForRun(h, runId, isClosed);
    expect(run).toMatchObject({ status: 'completed', state: { output: { decision: 'approve' } } });
    expect(stepOf(run, 'manual_review').status).toBe('skipped');
  });
});

describe('timeouts', () => {
  it('routes an attempt that runs out of time by the error type timeout', async () => {
    await publishWorkflow(h, 'slow_vendor', {
      trigger: { type: 'api' },
      steps: [
        {
          id: 'call_vendor',
          type: 'action',
          action: 'record_mark',
          params: { label: 'slow', sleepMs: 10_000 },
          timeout: '500ms',
          retry: { attempts: 2, initialInterval: '50ms' },
          catch: [
            { errors: ['ActionFailed', 'non_retryable'], next: 'rejected' },
            { errors: ['timeout'], next: 'timed_out' },
          ],
        },
        { id: 'rejected', type: 'end', reason: 'rejected' },
        { id: 'timed_out', type: 'end', reason: 'vendor too slow: {{ steps.call_vendor.error.type }}' },
      ],
    });
    const started = Date.now();
    const runId = await startRun(h, 'slow_vendor');
    const run = await waitForRun(h, runId, isClosed);
    expect(run.status).toBe('completed');
    expect(run.state.reason).toBe('vendor too slow: Timeout');
    expect(stepOf(run, 'call_vendor')).toMatchObject({ status: 'failed', attempts: 2, handledBy: 'timed_out', error: { type: 'Timeout' } });
    // Two attempts cut short at 500 ms (plus the server's timer latency), not two of 10 s.
    expect(Date.now() - started).toBeLessThan(8000);
    await replayAndMaybeRecord(h, runId, 'catch-timeout');
  });

  it("fails a step whose deadline passes between its attempts, as a Timeout", async () => {
    await publishWorkflow(h, 'deadline_vendor', {
      trigger: { type: 'api' },
      steps: [
        {
          id: 'call_vendor',
          type: 'action',
          action: 'flaky_mark',
          params: { label: 'vendor', failures: 50 },
          retry: { attempts: 50, initialInterval: '200ms', backoff: 1 },
          deadline: '1s',
        },
      ],
    });
    const runId = await startRun(h, 'deadline_vendor');
    const run = await waitForRun(h, runId, isClosed);
    expect(run.status).toBe('failed');
    expect(run.state.error).toMatchObject({ type: 'Timeout', stepId: 'call_vendor' });
    const attempts = stepOf(run, 'call_vendor').attempts;
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(attempts).toBeLessThan(10);
  });

  it('cancels a child run that passes its deadline and routes the Timeout', async () => {
    await publishWorkflow(h, 'sleepy_child', {
      trigger: { type: 'api' },
      steps: [{ id: 'nap', type: 'wait_for_time', duration: '1h' }],
    });
    await publishWorkflow(h, 'impatient_parent', {
      trigger: { type: 'api' },
      steps: [
        { id: 'child', type: 'run_workflow', workflow: 'sleepy_child', deadline: '1s', catch: [{ errors: ['timeout'], next: 'late' }] },
        { id: 'late', type: 'end', reason: 'child late' },
      ],
    });
    const runId = await startRun(h, 'impatient_parent');
    const run = await waitForRun(h, runId, isClosed);
    expect(run.status).toBe('completed');
    expect(stepOf(run, 'child')).toMatchObject({ status: 'failed', error: { type: 'Timeout' }, handledBy: 'late' });
    const child = await waitForRun(h, `${runId}-child`, isClosed);
    expect(child.status).toBe('cancelled');
  });
});

describe('catch on parallel steps', () => {
  it('routes a failed branch (BranchFailed) and cancels the branches still running', async () => {
    await publishWorkflow(h, 'parallel_catch', {
      trigger: { type: 'api' },
      steps: [
        {
          id: 'checks',
          type: 'parallel',
          branches: [
            { id: 'slow', steps: [{ id: 'slow_wait', type: 'wait_for_time', duration: '1h' }] },
            { id: 'broken', steps: [{ id: 'boom', type: 'action', action: 'fail_always', params: { message: 'down' } }] },
          ],
          catch: [{ errors: ['BranchFailed'], next: 'fallback' }],
          next: 'unreached',
        },
        { id: 'unreached', type: 'end' },
        { id: 'fallback', type: 'end', reason: '{{ steps.checks.error.message }}' },
      ],
    });
    const runId = await startRun(h, 'parallel_catch');
    const run = await waitForRun(h, runId, isClosed);
    expect(run.status).toBe('completed');
    expect(run.state.reason).toContain('branch "broken" failed');
    expect(stepOf(run, 'slow_wait').status).toBe('cancelled');
    expect(stepOf(run, 'checks')).toMatchObject({ status: 'failed', handledBy: 'fallback' });
  });
});
