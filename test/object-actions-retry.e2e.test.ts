/**
 * Each writing object action is exactly-once under retries. Two ways:
 * - directly: the action's run function called twice (and twice at once)
 *   with the same idempotency key creates one object and returns the same
 *   result;
 * - in a real run: a worker whose writing actions lose their first
 *   attempt's result after it committed (as a worker crash would), so
 *   Temporal retries every step; each effect still happens once.
 * And failures retrying cannot fix are not retried.
 */
import { readFileSync } from 'node:fs';
import { ApplicationFailure } from '@temporalio/activity';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createActions } from '../src/activities';
import type { ActionContext, ActionDefinition } from '../src/activities/action-definition';
import { ActionRegistry } from '../src/activities/registry';
import { createRunWorker } from '../src/worker/create-worker';
import { api, createHarness, isClosed, publishWorkflow, startRun, stepOf, waitForRun, type Harness, TEST_PAYLOAD_CODEC } from './support/harness';
import { testActions } from './support/test-actions';

const WRITING = ['approve_inquiry', 'decline_inquiry', 'mark_inquiry_for_review', 'create_inquiry', 'create_case', 'tag_object', 'add_list_item', 'trust_device', 'redact_object'];

let h: Harness;
let connection: NativeConnection;
let worker: Worker;
let running: Promise<void>;
/** Attempts per run and action, and the idempotency keys each attempt was given, as the flaky worker saw them. */
const attempts = new Map<string, number>();
const keys = new Map<string, Set<string>>();

/** The real action, but the first attempt's result is lost after its transaction committed. */
function losingFirstResult(action: ActionDefinition<never>): ActionDefinition<never> {
  return {
    ...action,
    async run(params, ctx) {
      const seen = `${ctx.runId}:${action.name}`;
      attempts.set(seen, (attempts.get(seen) ?? 0) + 1);
      keys.set(seen, new Set([...(keys.get(seen) ?? []), ctx.idempotencyKey]));
      const result = await action.run(params, ctx);
      if (ctx.attempt === 1) throw ApplicationFailure.retryable('the worker lost the result after the effect committed', 'SimulatedCrash');
      return result;
    },
  };
}

beforeAll(async () => {
  h = await createHarness({ worker: false });
  const actions = createActions({ db: h.db }).map((a) => (WRITING.includes(a.name) ? losingFirstResult(a) : a));
  connection = await NativeConnection.connect({ address: h.address });
  worker = await createRunWorker({
    connection,
    namespace: 'default',
    taskQueue: h.taskQueue,
    registry: new ActionRegistry([...actions, ...testActions(h.db)]),
    workflows: h.workflows,
    db: h.db,
    workflowBundle: { code: readFileSync(process.env.TEST_WORKFLOW_BUNDLE!, 'utf8') },
    payloadCodec: TEST_PAYLOAD_CODEC,
  });
  running = worker.run();
});
afterAll(async () => {
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running;
  await connection?.close();
  await h?.close();
});

async function create(path: string, body: unknown): Promise<any> {
  const res = await api(h, 'POST', path, body);
  if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}
async function count(sql: string, params: unknown[]): Promise<number> {
  const { rows } = await h.db.query<{ n: string }>(sql, params);
  return Number(rows[0].n);
}
const eventCount = (objectId: string, type: string) => count('SELECT count(*) AS n FROM events WHERE object_id = $1 AND type = $2', [objectId, type]);

describe('called directly with one idempotency key', () => {
  const action = (name: string) => createActions({ db: h.db }).find((a) => a.name === name)!;
  const ctx = (key: string): ActionContext => ({ idempotencyKey: key, runId: 'run_direct', stepId: 'step', attempt: 1, log: () => undefined, signal: new AbortController().signal });

  it('create_case: twice in a row and twice at once, one case each time', async () => {
    const inq = await create('/v1/inquiries', { template: 'kyc' });
    const params = action('create_case').params.parse({ title: 'direct', links: [inq.id] }) as never;
    const first = await action('create_case').run(params, ctx('run_direct:case_seq'));
    const second = await action('create_case').run(params, ctx('run_direct:case_seq'));
    expect(second).toEqual(first);
    const [a, b] = await Promise.all([action('create_case').run(params, ctx('run_direct:case_par')), action('create_case').run(params, ctx('run_direct:case_par'))]);
    expect(a).toEqual(b);
    expect(await count(`SELECT count(*) AS n FROM cases WHERE $1 = ANY(links)`, [inq.id])).toBe(2);
    expect(await count(`SELECT count(*) AS n FROM events WHERE type = 'case.created' AND snapshot->'links' ? $1`, [inq.id])).toBe(2);
  });

  it('create_inquiry: twice with one key, one inquiry', async () => {
    const params = action('create_inquiry').params.parse({ template: 'direct_tpl', fields: { email: 'd@example.org' } }) as never;
    const first = (await action('create_inquiry').run(params, ctx('run_direct:inq'))) as { id: string };
    expect(await action('create_inquiry').run(params, ctx('run_direct:inq'))).toEqual(first);
    expect(await count(`SELECT count(*) AS n FROM inquiries WHERE template = 'direct_tpl'`, [])).toBe(1);
    // What is kept for the retry holds no person fields.
    const { rows } = await h.db.query<{ result: unknown }>('SELECT result FROM action_effects WHERE idempotency_key = $1', ['run_direct:inq']);
    expect(JSON.stringify(rows[0].result)).not.toContain('d@example.org');
  });

  it('approve_inquiry: the second call returns the first result instead of failing as approved -> approved', async () => {
    const inq = await create('/v1/inquiries', { template: 'kyc' });
    await api(h, 'POST', `/v1/inquiries/${inq.id}/submit`);
    await api(h, 'POST', `/v1/inquiries/${inq.id}/complete`);
    const params = { inquiryId: inq.id } as never;
    const first = await action('approve_inquiry').run(params, ctx('run_direct:approve'));
    expect(await action('approve_inquiry').run(params, ctx('run_direct:approve'))).toEqual(first);
    expect(await eventCount(inq.id, 'inquiry.approved')).toBe(1);
    // Another step (another key) asking for the same move is an illegal transition.
    await expect(action('approve_inquiry').run(params, ctx('run_direct:approve_again'))).rejects.toMatchObject({ type: 'IllegalTransition', nonRetryable: true });
  });
});

describe('a run whose every writing step is retried after its effect committed', () => {
  it('creates, moves, tags, lists, trusts and redacts exactly once', async () => {
    const toApprove = await create('/v1/inquiries', { template: 'kyc' });
    await api(h, 'POST', `/v1/inquiries/${toApprove.id}/submit`);
    await api(h, 'POST', `/v1/inquiries/${toApprove.id}/complete`);
    const account = await create('/v1/accounts', { fields: { email: 'retry.person@example.org' } });
    const list = await create('/v1/lists', { name: 'retry list', kind: 'phone' });
    const device = await create('/v1/devices', { fingerprint: 'fp-retry' });
    await publishWorkflow(h, 'retried_writes', {
      trigger: { type: 'api' },
      steps: [
        { id: 'new_inquiry', type: 'action', action: 'create_inquiry', params: { template: 'retry_tpl', accountId: { $cel: 'trigger.accountId' } }, next: 'open_case' },
        { id: 'open_case', type: 'action', action: 'create_case', params: { title: 'retry case', links: [{ $cel: 'steps.new_inquiry.output.id' }] }, next: 'approve' },
        { id: 'approve', type: 'action', action: 'approve_inquiry', params: { inquiryId: { $cel: 'trigger.approveId' } }, next: 'tag' },
        { id: 'tag', type: 'action', action: 'tag_object', params: { objectId: { $cel: 'steps.open_case.output.id' }, tag: 'retried' }, next: 'remember' },
        { id: 'remember', type: 'action', action: 'add_list_item', params: { listId: { $cel: 'trigger.listId' }, value: '+1 555 0100 222' }, next: 'trust' },
        { id: 'trust', type: 'action', action: 'trust_device', params: { deviceId: { $cel: 'trigger.deviceId' } }, next: 'erase' },
        { id: 'erase', type: 'action', action: 'redact_object', params: { objectId: { $cel: 'trigger.accountId' } } },
      ],
    });
    const runId = await startRun(h, 'retried_writes', { accountId: account.id, approveId: toApprove.id, listId: list.id, deviceId: device.id });
    const run = await waitForRun(h, runId, isClosed);
    expect(run.status).toBe('completed');
    for (const action of ['create_inquiry', 'create_case', 'approve_inquiry', 'tag_object', 'add_list_item', 'trust_device', 'redact_object']) {
      // Two attempts, one key: the retry was recognised as the same step.
      expect([action, attempts.get(`${runId}:${action}`), keys.get(`${runId}:${action}`)?.size]).toEqual([action, 2, 1]);
    }

    const inquiryId = stepOf(run, 'new_inquiry').output.id;
    const caseId = stepOf(run, 'open_case').output.id;
    expect(await count(`SELECT count(*) AS n FROM inquiries WHERE template = 'retry_tpl'`, [])).toBe(1);
    expect(await count(`SELECT count(*) AS n FROM cases WHERE title = 'retry case'`, [])).toBe(1);
    expect(await eventCount(inquiryId, 'inquiry.created')).toBe(1);
    expect(await eventCount(caseId, 'case.created')).toBe(1);
    expect(await eventCount(toApprove.id, 'inquiry.approved')).toBe(1);
    expect(stepOf(run, 'approve').output.status).toBe('approved');
    expect(await eventCount(caseId, 'case.tag-added')).toBe(1);
    expect(stepOf(run, 'tag').output.changed).toBe(true);
    expect(await eventCount(list.id, 'list.item-added')).toBe(1);
    expect(stepOf(run, 'remember').output).toEqual({ listId: list.id, value: '+15550100222', added: true });
    expect(await eventCount(device.id, 'device.trusted')).toBe(1);
    expect(await eventCount(account.id, 'account.redacted')).toBe(1);
    expect(await eventCount(inquiryId, 'inquiry.redacted')).toBe(1);
    expect(stepOf(run, 'erase').output.redacted).toEqual([account.id, inquiryId]);
  });

  it('does not retry an illegal transition', async () => {
    const fresh = await create('/v1/inquiries', { template: 'kyc' });
    await publishWorkflow(h, 'illegal_once', {
      trigger: { type: 'api' },
      steps: [{ id: 'decline', type: 'action', action: 'decline_inquiry', params: { inquiryId: { $cel: 'trigger.id' } } }],
    });
    const runId = await startRun(h, 'illegal_once', { id: fresh.id });
    const run = await waitForRun(h, runId, isClosed);
    expect(stepOf(run, 'decline')).toMatchObject({ status: 'failed', error: { type: 'IllegalTransition' } });
    expect(attempts.get(`${runId}:decline_inquiry`)).toBe(1);
    expect((await api(h, 'GET', `/v1/inquiries/${fresh.id}`)).body.status).toBe('created');
  });
});
