/**
 * Evaluate Code through real runs on the Temporal dev server: inputs taken
 * from the run go in, the returned JSON is the step output that later
 * steps (a condition, an end step's output) read; every failure kind fails
 * its step with its stable type, at once (no retry); the worker keeps
 * running afterwards; bad limits are refused when the workflow is saved.
 */
import { api, createHarness, isClosed, publishWorkflow, startRun, stepOf, waitForRun, type Harness } from './support/harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

let counter = 0;
async function runCode(params: Record<string, unknown>, input: Record<string, unknown> = {}): Promise<{ runId: string; run: any }> {
  const id = `code_${++counter}_${Date.now().toString(36)}`;
  await publishWorkflow(h, id, { trigger: { type: 'api' }, steps: [{ id: 'code', type: 'action', action: 'evaluate_code', params }] });
  const runId = await startRun(h, id, input);
  return { runId, run: await waitForRun(h, runId, isClosed) };
}

/**
 * How many times the code ran: a local activity leaves one marker per
 * scheduling, and each marker records the attempt it ended on (retries
 * inside the worker), so the attempts are the sum of those.
 */
async function attemptsOf(runId: string): Promise<number> {
  const history = await h.client.workflow.getHandle(runId).fetchHistory();
  const markers = history.events!.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity');
  let attempts = 0;
  for (const marker of markers) {
    const data = JSON.parse(Buffer.from(marker.markerRecordedEventAttributes!.details!.data!.payloads![0].data!).toString('utf8')) as { attempt: number; activity_type: string };
    expect(data.activity_type).toBe('evaluate_code');
    attempts += data.attempt;
  }
  return attempts;
}

it('takes inputs from the run and gives JSON that later steps read', async () => {
  const id = 'score_signals';
  await publishWorkflow(h, id, {
    trigger: { type: 'api' },
    steps: [
      {
        id: 'score',
        type: 'action',
        action: 'evaluate_code',
        params: {
          code: [
            'const score = inputs.signals.reduce((sum, s) => sum + s.weight, 0);',
            'return { score, band: score >= 50 ? "high" : "low", names: inputs.signals.map((s) => s.name), who: inputs.who };',
          ].join('\n'),
          inputs: { signals: { $cel: 'trigger.signals' }, who: 'Applicant {{ trigger.name }}' },
        },
        next: 'route',
      },
      {
        id: 'route',
        type: 'condition',
        routes: [{ when: 'steps.score.output.band == "high"', next: 'high' }],
        default: 'low',
      },
      { id: 'high', type: 'end', outcome: 'succeeded', reason: 'high risk: {{ steps.score.output.score }}', output: { score: { $cel: 'steps.score.output.score' } } },
      { id: 'low', type: 'end', outcome: 'succeeded', reason: 'low risk' },
    ],
  });
  const runId = await startRun(h, id, { name: 'Ada', signals: [{ name: 'email_risk', weight: 30 }, { name: 'ip_mismatch', weight: 25 }] });
  const run = await waitForRun(h, runId, isClosed);
  expect(run.status).toBe('completed');
  expect(stepOf(run, 'score').output).toEqual({ score: 55, band: 'high', names: ['email_risk', 'ip_mismatch'], who: 'Applicant Ada' });
  expect(stepOf(run, 'high').status).toBe('completed');
  expect(stepOf(run, 'low').status).toBe('skipped');
  expect(run.state.reason).toBe('high risk: 55');
  // Under its own name in the history (the Temporal UI shows the step as evaluate_code).
  const history = await h.client.workflow.getHandle(runId).fetchHistory();
  const markers = history.events!.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity');
  const decoded = JSON.stringify(markers, (key, value) => (key === 'data' && typeof value === 'string' ? Buffer.from(value, 'base64').toString('utf8') : value));
  expect(decoded).toMatch(/"activity_type\\?":\\?"evaluate_code/);
});

it.each([
  ['an endless loop', { code: 'while (true) {}', timeoutMs: 300 }, 'CodeTimeout', 'the code did not finish within 300 ms'],
  ['a memory bomb', { code: 'const a = []; while (true) a.push(new Uint8Array(1 << 20));', memoryMb: 16, timeoutMs: 5000 }, 'CodeMemoryLimit', 'the code used more than its 16 MB of memory'],
  ['a thrown error', { code: 'if (!inputs.country) throw new Error("no country given");\nreturn 1' }, 'CodeError', 'Error: no country given (line 1)'],
  ['a syntax error', { code: 'const ok = true;\nconst x = ;' }, 'CodeSyntaxError', "SyntaxError: unexpected token in expression: ';' (line 2)"],
  ['a function as the result', { code: 'return { check: () => true }' }, 'CodeResultNotJson', 'the result is not JSON: the value at key "check" is a function'],
  ['an oversized result', { code: 'return "z".repeat(300000)' }, 'CodeOutputTooLarge', 'the result is 300002 characters as JSON; the limit is 262144 bytes'],
  ['an escape attempt', { code: 'return this.constructor.constructor("return process")().env' }, 'CodeError', "ReferenceError: 'process' is not defined (line 1)"],
])('%s fails the step with its type, without a retry', async (_name, params, type, message) => {
  const { runId, run } = await runCode(params);
  expect(run.status).toBe('failed');
  expect(stepOf(run, 'code').error).toEqual({ type, message });
  expect(await attemptsOf(runId)).toBe(1);
});

it('the worker keeps running after every kind of failure: a later run works', async () => {
  const { run } = await runCode({ code: 'return inputs.list.map((n) => n * n)', inputs: { list: { $cel: 'trigger.list' } } }, { list: [1, 2, 3] });
  expect(run.status).toBe('completed');
  expect(stepOf(run, 'code').output).toEqual([1, 4, 9]);
  expect(h.worker?.getState()).toBe('RUNNING');
});

it('refuses limits above the ceilings and a missing code when the workflow is saved', async () => {
  const res = await api(h, 'POST', '/v1/workflows', {
    name: 'bad code step',
    definition: { trigger: { type: 'api' }, steps: [{ id: 'code', type: 'action', action: 'evaluate_code', params: { timeoutMs: 10000, memoryMb: 128, inputs: [] } }] },
  });
  expect(res.status).toBe(400);
  expect(res.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual([
    '/definition/steps/0/params/code',
    '/definition/steps/0/params/inputs',
    '/definition/steps/0/params/memoryMb',
    '/definition/steps/0/params/timeoutMs',
  ]);
});
