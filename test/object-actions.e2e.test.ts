/**
 * The object actions end to end: published workflows started through the
 * API trigger run each action as an activity on the real dev server against
 * the real PostgreSQL. Checks each action's output, its effect and event in
 * the store, conditions over object data (load_object, check_lists), and
 * that failures retrying cannot fix fail the step with a stable type.
 */
import { api, createHarness, isClosed, publishWorkflow, startRun, stepOf, waitForRun, type Harness } from './support/harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

async function create(path: string, body: unknown): Promise<any> {
  const res = await api(h, 'POST', path, body);
  if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}
async function completedInquiry(fields: Record<string, unknown> = {}, template = 'kyc'): Promise<any> {
  const inq = await create('/v1/inquiries', { template, fields });
  await api(h, 'POST', `/v1/inquiries/${inq.id}/submit`);
  return (await api(h, 'POST', `/v1/inquiries/${inq.id}/complete`)).body;
}
const get = async (id: string) => (await api(h, 'GET', `/v1/objects/${id}`)).body;
async function typesOf(objectId: string): Promise<string[]> {
  const { rows } = await h.db.query<{ type: string }>('SELECT type FROM events WHERE object_id = $1 ORDER BY seq', [objectId]);
  return rows.map((r) => r.type);
}
async function runToEnd(workflowId: string, input: unknown): Promise<any> {
  return waitForRun(h, await startRun(h, workflowId, input), isClosed);
}

describe('inquiry decisions', () => {
  beforeAll(async () => {
    await publishWorkflow(h, 'decide_inquiry', {
      trigger: { type: 'api', inputSchema: { type: 'object', required: ['inquiryId', 'decision'], properties: { inquiryId: { type: 'string' }, decision: { enum: ['approve', 'decline', 'review'] } } } },
      steps: [
        {
          id: 'route',
          type: 'condition',
          routes: [
            { when: 'trigger.decision == "approve"', next: 'approve' },
            { when: 'trigger.decision == "decline"', next: 'decline' },
          ],
          default: 'review',
        },
        { id: 'approve', type: 'action', action: 'approve_inquiry', params: { inquiryId: '{{ trigger.inquiryId }}' } },
        { id: 'decline', type: 'action', action: 'decline_inquiry', params: { inquiryId: { $cel: 'trigger.inquiryId' } } },
        { id: 'review', type: 'action', action: 'mark_inquiry_for_review', params: { inquiryId: { $cel: 'trigger.inquiryId' } } },
      ],
    });
  });

  it.each([
    ['approve', 'approve', 'approved', 'inquiry.approved'],
    ['decline', 'decline', 'declined', 'inquiry.declined'],
    ['review', 'review', 'needs_review', 'inquiry.marked-for-review'],
  ])('%s: moves the inquiry and returns it without person fields', async (decision, stepId, status, event) => {
    const inq = await completedInquiry({ email: 'person@example.org' });
    const run = await runToEnd('decide_inquiry', { inquiryId: inq.id, decision });
    expect(run.status).toBe('completed');
    const output = stepOf(run, stepId).output;
    expect(output).toMatchObject({ id: inq.id, object: 'inquiry', status, template: 'kyc' });
    expect(output.fields).toBeUndefined();
    expect((await get(inq.id)).status).toBe(status);
    expect((await typesOf(inq.id)).at(-1)).toBe(event);
  });

  it('fails the step with IllegalTransition for an illegal move, and with ObjectNotFound for an unknown inquiry', async () => {
    const fresh = await create('/v1/inquiries', { template: 'kyc' });
    const illegal = await runToEnd('decide_inquiry', { inquiryId: fresh.id, decision: 'approve' });
    expect(illegal.status).toBe('failed');
    expect(stepOf(illegal, 'approve')).toMatchObject({ status: 'failed', error: { type: 'IllegalTransition' } });
    expect(stepOf(illegal, 'approve').error.message).toContain('cannot move from created to approved');
    expect(await typesOf(fresh.id)).toEqual(['inquiry.created']);

    const missing = await runToEnd('decide_inquiry', { inquiryId: 'inq_nosuchinquiry', decision: 'decline' });
    expect(stepOf(missing, 'decline')).toMatchObject({ status: 'failed', error: { type: 'ObjectNotFound' } });

    const badId = await runToEnd('decide_inquiry', { inquiryId: 'case_1', decision: 'review' });
    expect(stepOf(badId, 'review')).toMatchObject({ status: 'failed', error: { type: 'InvalidActionParams' } });
  });
});

describe('creating and changing objects', () => {
  it('creates an inquiry and a case linked to it, tags, adds to a list, trusts a device', async () => {
    const account = await create('/v1/accounts', { referenceId: 'intake-1' });
    const list = await create('/v1/lists', { name: 'Seen emails', kind: 'email' });
    const device = await create('/v1/devices', { fingerprint: 'fp-intake', ip: '198.51.100.4' });
    await publishWorkflow(h, 'intake', {
      trigger: { type: 'api' },
      steps: [
        {
          id: 'new_inquiry',
          type: 'action',
          action: 'create_inquiry',
          params: { template: 'kyc_reverify', accountId: { $cel: 'trigger.accountId' }, fields: { email: { $cel: 'trigger.email' }, country: 'de' }, tags: ['reverify'] },
          next: 'open_case',
        },
        {
          id: 'open_case',
          type: 'action',
          action: 'create_case',
          params: { title: 'Re-verify {{ trigger.email }}', links: [{ $cel: 'steps.new_inquiry.output.id' }, { $cel: 'trigger.accountId' }], assignee: 'ops@risk.example', priority: 'high' },
          next: 'tag_case',
        },
        { id: 'tag_case', type: 'action', action: 'tag_object', params: { objectId: { $cel: 'steps.open_case.output.id' }, tag: 'auto' }, next: 'untag_inquiry' },
        { id: 'untag_inquiry', type: 'action', action: 'tag_object', params: { objectId: { $cel: 'steps.new_inquiry.output.id' }, tag: 'reverify', operation: 'remove' }, next: 'remember_email' },
        { id: 'remember_email', type: 'action', action: 'add_list_item', params: { listId: { $cel: 'trigger.listId' }, value: { $cel: 'trigger.email' } }, next: 'trust' },
        { id: 'trust', type: 'action', action: 'trust_device', params: { deviceId: { $cel: 'trigger.deviceId' } } },
      ],
    });
    const run = await runToEnd('intake', { accountId: account.id, email: ' New.Person@Example.org', listId: list.id, deviceId: device.id });
    expect(run.status).toBe('completed');

    const inquiryOut = stepOf(run, 'new_inquiry').output;
    expect(inquiryOut).toMatchObject({ object: 'inquiry', status: 'created', template: 'kyc_reverify', accountId: account.id, tags: ['reverify'] });
    expect(inquiryOut.fields).toBeUndefined();
    expect(await get(inquiryOut.id)).toMatchObject({ fields: { email: 'new.person@example.org', country: 'DE' }, tags: [] });

    const caseOut = stepOf(run, 'open_case').output;
    expect(caseOut).toMatchObject({ object: 'case', status: 'open', title: 'Re-verify  New.Person@Example.org', links: [inquiryOut.id, account.id], assignee: 'ops@risk.example', priority: 'high' });
    expect(stepOf(run, 'tag_case').output).toEqual({ objectId: caseOut.id, tag: 'auto', operation: 'add', changed: true, tags: ['auto'] });
    expect(stepOf(run, 'untag_inquiry').output).toEqual({ objectId: inquiryOut.id, tag: 'reverify', operation: 'remove', changed: true, tags: [] });
    expect(stepOf(run, 'remember_email').output).toEqual({ listId: list.id, value: 'new.person@example.org', added: true });
    expect(stepOf(run, 'trust').output).toMatchObject({ id: device.id, trusted: true, changed: true });

    expect(await typesOf(inquiryOut.id)).toEqual(['inquiry.created', 'inquiry.tag-removed']);
    expect(await typesOf(caseOut.id)).toEqual(['case.created', 'case.tag-added']);
    expect(await typesOf(list.id)).toEqual(['list.created', 'list.item-added']);
    expect(await typesOf(device.id)).toEqual(['device.created', 'device.trusted']);
  });

  it('fails create_case with InvalidObjectReference when a linked object does not exist, creating nothing', async () => {
    await publishWorkflow(h, 'bad_case', {
      trigger: { type: 'api' },
      steps: [{ id: 'open_case', type: 'action', action: 'create_case', params: { title: 'orphan', links: ['inq_doesnotexist'] } }],
    });
    const run = await runToEnd('bad_case', {});
    expect(stepOf(run, 'open_case')).toMatchObject({ status: 'failed', error: { type: 'InvalidObjectReference' } });
    expect((await h.db.query(`SELECT 1 FROM cases WHERE title = 'orphan'`)).rows).toHaveLength(0);
  });

  it('checks static params when the workflow is saved', async () => {
    const res = await api(h, 'POST', '/v1/workflows', {
      id: 'bad_params',
      name: 'bad params',
      definition: {
        trigger: { type: 'api' },
        steps: [
          { id: 'a', type: 'action', action: 'create_case', params: { priority: 'sky-high', links: ['nonsense'] }, next: 'b' },
          { id: 'b', type: 'action', action: 'tag_object', params: { objectId: { $cel: 'trigger.id' }, tag: 'x', operation: 'toggle' }, next: 'c' },
          { id: 'c', type: 'action', action: 'redact_object', params: { objectId: 'inq_1', fields: ['shoe_size'] } },
        ],
      },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual([
      '/definition/steps/0/params/links/0',
      '/definition/steps/0/params/priority',
      '/definition/steps/1/params/operation',
      '/definition/steps/2/params/fields/0',
    ]);
  });
});

describe('redact_object', () => {
  it("redacts an account and its inquiries from a workflow step", async () => {
    const account = await create('/v1/accounts', { fields: { name_last: 'Forgetme', email: 'forget.me@example.org' } });
    const inq = await create('/v1/inquiries', { template: 'kyc', accountId: account.id, fields: { name_last: 'Forgetme', phone: '+15550100999' } });
    await publishWorkflow(h, 'erase_person', {
      trigger: { type: 'api' },
      steps: [{ id: 'erase', type: 'action', action: 'redact_object', params: { objectId: { $cel: 'trigger.accountId' } } }],
    });
    const run = await runToEnd('erase_person', { accountId: account.id });
    expect(run.status).toBe('completed');
    expect(stepOf(run, 'erase').output).toEqual({ redacted: [account.id, inq.id], fields: ['name_first', 'name_last', 'birthdate', 'address', 'country', 'id_number', 'email', 'phone'] });
    const { rows } = await h.db.query<{ t: string }>(
      `SELECT row_to_json(x)::text AS t FROM (SELECT fields FROM accounts WHERE id = $1 UNION ALL SELECT fields FROM inquiries WHERE id = $2 UNION ALL SELECT snapshot FROM events WHERE object_id IN ($1, $2)) x`,
      [account.id, inq.id],
    );
    expect(rows.map((r) => r.t).join()).not.toMatch(/Forgetme|forget\.me|15550100999/);
    expect(await typesOf(inq.id)).toEqual(['inquiry.created', 'inquiry.redacted']);
  });

  it('refuses to redact an object that holds no personal data', async () => {
    const kase = await create('/v1/cases', {});
    await publishWorkflow(h, 'erase_case', {
      trigger: { type: 'api' },
      steps: [{ id: 'erase', type: 'action', action: 'redact_object', params: { objectId: { $cel: 'trigger.id' } } }],
    });
    const run = await runToEnd('erase_case', { id: kase.id });
    expect(stepOf(run, 'erase')).toMatchObject({ status: 'failed', error: { type: 'InvalidObjectReference' } });
  });
});

describe('conditions over object data', () => {
  let blocklist: any;
  let names: any;
  beforeAll(async () => {
    blocklist = await create('/v1/lists', { name: 'Blocked emails', kind: 'email' });
    await api(h, 'POST', `/v1/lists/${blocklist.id}/items`, { value: 'fraud@example.org' });
    names = await create('/v1/lists', { name: 'Sanctioned names', kind: 'name' });
    await api(h, 'POST', `/v1/lists/${names.id}/items`, { value: 'Ivan Blocked' });
    // Screen a completed inquiry: liveness too low -> decline; email blocklisted -> tag + case; otherwise approve.
    await publishWorkflow(h, 'screen_inquiry', {
      trigger: { type: 'api' },
      steps: [
        { id: 'load', type: 'action', action: 'load_object', params: { objectId: { $cel: 'trigger.inquiryId' } }, next: 'check' },
        {
          id: 'check',
          type: 'action',
          action: 'check_lists',
          params: {
            lists: [{ $cel: 'trigger.blocklistId' }, { $cel: 'trigger.namesId' }],
            values: { email: { $cel: 'steps.load.output.fields.email' }, name: '{{ steps.load.output.fields.name_first }} {{ steps.load.output.fields.name_last }}' },
          },
          next: 'route',
        },
        {
          id: 'route',
          type: 'condition',
          routes: [
            { when: 'steps.load.output.template != "kyc_screen"', next: 'wrong_template' },
            { when: 'steps.load.output.scores.selfie_liveness < 0.5', next: 'decline' },
            { when: 'steps.check.output.matched', next: 'flag' },
          ],
          default: 'approve',
        },
        { id: 'wrong_template', type: 'end', reason: 'not a screening inquiry' },
        { id: 'decline', type: 'action', action: 'decline_inquiry', params: { inquiryId: { $cel: 'trigger.inquiryId' } } },
        { id: 'flag', type: 'action', action: 'tag_object', params: { objectId: { $cel: 'trigger.inquiryId' }, tag: 'list-match' }, next: 'open_case' },
        {
          id: 'open_case',
          type: 'action',
          action: 'create_case',
          params: { title: 'List match: {{ steps.check.output.matches[0].listName }}', links: [{ $cel: 'trigger.inquiryId' }] },
        },
        { id: 'approve', type: 'action', action: 'approve_inquiry', params: { inquiryId: { $cel: 'trigger.inquiryId' } } },
      ],
    });
  });

  const screen = async (inquiryId: string) => runToEnd('screen_inquiry', { inquiryId, blocklistId: blocklist.id, namesId: names.id });
  const screening = async (fields: Record<string, unknown>, liveness: number) => {
    const inq = await completedInquiry(fields, 'kyc_screen');
    await api(h, 'PATCH', `/v1/inquiries/${inq.id}`, { scores: { selfie_liveness: liveness } });
    return inq;
  };

  it('approves a clean inquiry', async () => {
    const inq = await screening({ name_first: 'Clean', name_last: 'Person', email: 'clean@example.org' }, 0.97);
    const run = await screen(inq.id);
    expect(run.status).toBe('completed');
    expect(stepOf(run, 'load').output).toMatchObject({ id: inq.id, template: 'kyc_screen', status: 'completed', fields: { email: 'clean@example.org' }, scores: { selfie_liveness: 0.97 } });
    expect(stepOf(run, 'check').output).toEqual({ matched: false, matches: [] });
    expect((await get(inq.id)).status).toBe('approved');
  });

  it('declines on a low liveness score', async () => {
    const inq = await screening({ email: 'fraud@example.org' }, 0.2);
    expect((await screen(inq.id)).status).toBe('completed');
    expect((await get(inq.id)).status).toBe('declined');
  });

  it('tags the inquiry and opens a case when its email or name is on a list', async () => {
    const inq = await screening({ name_first: 'IVAN', name_last: ' blocked', email: 'Fraud@Example.org' }, 0.9);
    const run = await screen(inq.id);
    expect(run.status).toBe('completed');
    expect(stepOf(run, 'check').output).toEqual({
      matched: true,
      matches: [
        { listId: blocklist.id, listName: 'Blocked emails', kind: 'email', key: 'email', value: 'fraud@example.org' },
        { listId: names.id, listName: 'Sanctioned names', kind: 'name', key: 'name', value: 'ivan blocked' },
      ],
    });
    expect(await get(inq.id)).toMatchObject({ status: 'completed', tags: ['list-match'] });
    const cases = (await api(h, 'GET', `/v1/cases?object=${inq.id}`)).body.cases;
    expect(cases).toHaveLength(1);
    expect(cases[0].title).toBe('List match: Blocked emails');
  });

  it('ends without acting on an inquiry of another template', async () => {
    const inq = await completedInquiry({ email: 'x@example.org' }, 'kyb');
    const run = await screen(inq.id);
    expect(run.state.reason ?? stepOf(run, 'wrong_template').output?.reason).toBe('not a screening inquiry');
    expect((await get(inq.id)).status).toBe('completed');
  });

  it('reads case, account and report data for conditions, and one value against one list', async () => {
    const account = await create('/v1/accounts', { tags: ['vip'] });
    const kase = await create('/v1/cases', { links: [account.id] });
    await api(h, 'POST', `/v1/cases/${kase.id}/resolve`, { resolution: 'declined' });
    const report = await create('/v1/reports', { type: 'watchlist', objectId: account.id });
    await api(h, 'POST', `/v1/reports/${report.id}/ready`, { matches: [{ name: 'Someone' }] });
    await publishWorkflow(h, 'read_objects', {
      trigger: { type: 'api' },
      steps: [
        { id: 'acc', type: 'action', action: 'load_object', params: { objectId: { $cel: 'trigger.accountId' } }, next: 'kase' },
        { id: 'kase', type: 'action', action: 'load_object', params: { objectId: { $cel: 'trigger.caseId' } }, next: 'rep' },
        { id: 'rep', type: 'action', action: 'load_object', params: { objectId: { $cel: 'trigger.reportId' } }, next: 'one' },
        { id: 'one', type: 'action', action: 'check_lists', params: { lists: { $cel: 'trigger.listId' }, value: 'FRAUD@example.org' }, next: 'facts' },
        {
          id: 'facts',
          type: 'action',
          action: 'set_variables',
          params: {
            variables: {
              vip: { $cel: '"vip" in steps.acc.output.tags' },
              declined: { $cel: 'steps.kase.output.status == "resolved" && steps.kase.output.resolution == "declined"' },
              watchlistHit: { $cel: 'steps.rep.output.type == "watchlist" && steps.rep.output.hasMatch' },
              blocked: { $cel: 'steps.one.output.matched' },
            },
          },
        },
      ],
    });
    const run = await runToEnd('read_objects', { accountId: account.id, caseId: kase.id, reportId: report.id, listId: blocklist.id });
    expect(run.status).toBe('completed');
    expect(stepOf(run, 'facts').output).toEqual({ vip: true, declined: true, watchlistHit: true, blocked: true });
    expect(stepOf(run, 'one').output.matches[0]).toMatchObject({ key: null, value: 'fraud@example.org' });

    const missing = await runToEnd('read_objects', { accountId: 'act_missing', caseId: kase.id, reportId: report.id, listId: blocklist.id });
    expect(stepOf(missing, 'acc')).toMatchObject({ status: 'failed', error: { type: 'ObjectNotFound' } });
    const noList = await runToEnd('read_objects', { accountId: account.id, caseId: kase.id, reportId: report.id, listId: 'lst_missing' });
    expect(stepOf(noList, 'one')).toMatchObject({ status: 'failed', error: { type: 'ObjectNotFound' } });
  });
});
