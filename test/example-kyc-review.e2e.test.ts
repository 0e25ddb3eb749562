/**
 * The example a user builds first (examples/kyc-completed-review.json), end
 * to end through the HTTP API: inquiries are created, submitted and completed
 * through the REST API; `inquiry.completed` starts the workflow; minors are
 * declined, clean applicants approved, blocklisted ones tagged and sent
 * through a case whose resolution (or its absence) decides.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventRunId } from '../src/events/router';
import { api, createHarness, isClosed, waitForRun, type Harness } from './support/harness';

let h: Harness;
let blocklist: string;

beforeAll(async () => {
  h = await createHarness();
  const list = await api(h, 'POST', '/v1/lists', { name: 'Email blocklist', kind: 'email' });
  expect(list.status).toBe(201);
  blocklist = list.body.id;
  expect((await api(h, 'POST', `/v1/lists/${blocklist}/items`, { value: 'Fraud@Example.com' })).status).toBeLessThan(300);

  const text = readFileSync(join(__dirname, '..', 'examples', 'kyc-completed-review.json'), 'utf8')
    .replaceAll('lst_replace_with_your_blocklist', blocklist)
    // The shipped 3-day default resolution time, shortened for the test.
    .replace('"timeout": "3d"', '"timeout": "4s"');
  const created = await api(h, 'POST', '/v1/workflows', JSON.parse(text));
  if (created.status !== 201) throw new Error(JSON.stringify(created.body));
  expect((await api(h, 'POST', '/v1/workflows/kyc_completed_review/publish')).status).toBe(201);
});
afterAll(async () => {
  await h?.close();
});

/** Create an inquiry, submit and complete it; returns its id and the run it starts. */
async function completeInquiry(fields: Record<string, unknown>, template = 'tmpl_kyc_basic'): Promise<{ inquiryId: string; runId: string }> {
  const created = await api(h, 'POST', '/v1/inquiries', { template, fields });
  expect(created.status).toBe(201);
  const inquiryId = created.body.id;
  expect((await api(h, 'POST', `/v1/inquiries/${inquiryId}/submit`, {})).status).toBe(200);
  expect((await api(h, 'POST', `/v1/inquiries/${inquiryId}/complete`, {})).status).toBe(200);
  const events = await api(h, 'GET', `/v1/events?objectId=${inquiryId}&type=inquiry.completed`);
  expect(events.body.events).toHaveLength(1);
  return { inquiryId, runId: eventRunId(events.body.events[0].id, 'kyc_completed_review') };
}

async function inquiry(id: string): Promise<any> {
  return (await api(h, 'GET', `/v1/inquiries/${id}`)).body;
}

it('declines an applicant under 18', async () => {
  const { inquiryId, runId } = await completeInquiry({ name_first: 'Kim', birthdate: '2012-03-04', email: 'kim@example.com' });
  const run = await waitForRun(h, runId, isClosed);
  expect(run.state.output).toEqual({ decision: 'declined', why: 'minor' });
  expect((await inquiry(inquiryId)).status).toBe('declined');
});

it('approves a clean adult applicant', async () => {
  const { inquiryId, runId } = await completeInquiry({ name_first: 'Ada', birthdate: '1990-01-01', email: 'ada@example.com' });
  const run = await waitForRun(h, runId, isClosed);
  expect(run.state.output).toEqual({ decision: 'approved', why: 'clean' });
  const inq = await inquiry(inquiryId);
  expect(inq.status).toBe('approved');
  expect(inq.tags).toEqual([]);
});

it('sends a blocklisted email through review and follows the resolution', async () => {
  for (const resolution of ['approved', 'declined'] as const) {
    const { inquiryId, runId } = await completeInquiry({ name_first: 'Eve', birthdate: '1985-05-05', email: 'fraud@example.com' });
    await waitForRun(h, runId, (run) => run.state?.steps?.some((s: any) => s.id === 'await_decision' && s.status === 'waiting'));
    const inq = await inquiry(inquiryId);
    expect(inq.tags).toEqual(['blocklist-hit']);
    const list = (await api(h, 'GET', `/v1/cases?object=${inquiryId}`)).body.cases;
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ status: 'open', priority: 'high', links: [inquiryId] });

    expect((await api(h, 'POST', `/v1/cases/${list[0].id}/resolve`, { resolution })).status).toBe(200);
    const run = await waitForRun(h, runId, isClosed);
    expect(run.state.output).toEqual({ decision: resolution, why: 'review' });
    expect((await inquiry(inquiryId)).status).toBe(resolution);
  }
});

it('marks the inquiry for review when nobody resolves the case in time', async () => {
  const { inquiryId, runId } = await completeInquiry({ name_first: 'Mal', birthdate: '1970-07-07', email: 'FRAUD@example.com' });
  const run = await waitForRun(h, runId, isClosed);
  expect(run.state.output).toEqual({ decision: 'needs_review', why: 'timeout' });
  expect((await inquiry(inquiryId)).status).toBe('needs_review');
});

it('starts nothing for another template', async () => {
  const { runId } = await completeInquiry({ name_first: 'Oz', birthdate: '1990-01-01', email: 'oz@example.com' }, 'tmpl_other');
  await new Promise((r) => setTimeout(r, 1500));
  expect((await api(h, 'GET', `/v1/runs/${runId}`)).status).toBe(404);
});
