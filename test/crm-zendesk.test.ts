/**
 * update_zendesk against a loopback Zendesk Support API: the exact PUT the
 * official node-zendesk client makes (path, API-token Basic auth, JSON
 * ticket with comment, tags, status and custom fields), Zendesk's error
 * answers mapped to our failure types, parameter failures, and runs of a
 * published workflow on the dev server.
 */
import { IntegrationFailureType } from '../src/integrations/errors';
import { createHarness, isClosed, publishWorkflow, startRun, stepOf, waitForRun, type Harness } from './support/harness';
import type { HttpPeer } from './support/peers/http-peer';
import { activitiesOf, createCredentials, historyText, LOOPBACK_NETWORK, runAction } from './support/peers/action-runs';
import { startZendeskPeer, zendeskError, type ZendeskTicket } from './support/peers/zendesk-peer';

const agent = { email: 'automation@acme.test', token: 'zendesk-api-token-6d2f' };

let peer: HttpPeer & { tickets: Map<number, ZendeskTicket> };
let h: Harness;
let cred: Record<string, string>;

beforeAll(async () => {
  peer = await startZendeskPeer(agent);
  h = await createHarness();
  cred = await createCredentials(h, {
    zendesk_support: ['zendesk', { ...agent, remoteUri: `${peer.url}/api/v2` }],
    zendesk_wrong_token: ['zendesk', { ...agent, token: 'wrong', remoteUri: `${peer.url}/api/v2/` }],
    zendesk_nowhere: ['zendesk', { ...agent, remoteUri: 'http://127.0.0.1:9/api/v2' }],
    zendesk_bad_subdomain: ['zendesk', { ...agent, subdomain: 'evil.example/x?' }],
  });
});
afterAll(async () => {
  await peer?.close();
  await h?.close();
});
beforeEach(() => {
  peer.reset();
  peer.tickets.clear();
  peer.tickets.set(4242, { id: 4242, status: 'open', tags: ['kyc', 'needs_review'], comments: [], custom_fields: [] });
  peer.tickets.set(5000, { id: 5000, status: 'closed', tags: [], comments: [], custom_fields: [] });
});

const deps = () => ({ credentials: h.credentials, network: LOOPBACK_NETWORK, credentialIds: cred });
const update = {
  credential: 'zendesk_support',
  ticketId: 4242,
  comment: { body: 'Watchlist screening found no match. Closing the review.', public: false },
  tags: { add: ['kyc_cleared'], remove: ['needs_review'] },
  status: 'solved',
  customFields: [{ id: 360001, value: 'approved' }, { id: 360002, value: ['pep', 'sanctions'] }],
};

describe('update_zendesk: the request node-zendesk makes', () => {
  it('PUTs the ticket with API-token auth and one JSON body: private comment, tag changes, status, custom fields', async () => {
    const outcome = await runAction(deps(), 'update_zendesk', update);
    expect(outcome.ok).toBe(true);
    expect(outcome.value).toEqual({ ticketId: 4242, status: 'solved' });

    expect(peer.requests).toHaveLength(1);
    const [request] = peer.requests;
    expect(request.method).toBe('PUT');
    expect(request.path).toBe('/api/v2/tickets/4242.json');
    expect(request.headers.authorization).toBe(`Basic ${Buffer.from(`${agent.email}/token:${agent.token}`).toString('base64')}`);
    expect(request.headers['content-type']).toContain('application/json');
    expect(request.headers['user-agent']).toMatch(/^node-zendesk\//);
    expect(request.body).toEqual({
      ticket: {
        comment: { body: 'Watchlist screening found no match. Closing the review.', public: false },
        additional_tags: ['kyc_cleared'],
        remove_tags: ['needs_review'],
        status: 'solved',
        custom_fields: [{ id: 360001, value: 'approved' }, { id: 360002, value: ['pep', 'sanctions'] }],
      },
    });
    expect(peer.tickets.get(4242)).toMatchObject({ status: 'solved', tags: ['kyc', 'kyc_cleared'], comments: [{ public: false }] });
  });

  it('replaces the tags with set, posts a public comment by default, and takes the ticket id as text', async () => {
    const outcome = await runAction(deps(), 'update_zendesk', { credential: 'zendesk_support', ticketId: '4242', tags: { set: ['Approved'] }, comment: { body: 'Your verification is complete.' } });
    expect(outcome.value).toEqual({ ticketId: 4242, status: 'open' });
    expect(peer.requests[0].body).toEqual({ ticket: { comment: { body: 'Your verification is complete.', public: true }, tags: ['Approved'] } });
    expect(peer.tickets.get(4242)?.tags).toEqual(['approved']);
  });
});

describe('update_zendesk: Zendesk error answers', () => {
  it('401 for a wrong token: IntegrationAuthFailed, not retried', async () => {
    const outcome = await runAction(deps(), 'update_zendesk', { ...update, credential: 'zendesk_wrong_token' });
    expect(outcome.failure).toMatchObject({ type: IntegrationFailureType.AuthFailed, nonRetryable: true });
    expect(outcome.failure.message).toContain("Couldn't authenticate you");
    expect(outcome.failure.message).not.toContain('wrong');
  });

  it('404 for a ticket that does not exist: IntegrationNotFound, not retried', async () => {
    const outcome = await runAction(deps(), 'update_zendesk', { ...update, ticketId: 1 });
    expect(outcome.failure).toMatchObject({ type: IntegrationFailureType.NotFound, nonRetryable: true });
    expect(outcome.failure.message).toContain('RecordNotFound');
  });

  it('422 for a closed ticket: IntegrationRejected, not retried, with Zendesk\'s reason', async () => {
    const outcome = await runAction(deps(), 'update_zendesk', { ...update, ticketId: 5000 });
    expect(outcome.failure).toMatchObject({ type: IntegrationFailureType.Rejected, nonRetryable: true });
    expect(outcome.failure.message).toContain('closed prevents ticket update');
  });

  it('429 with Retry-After: IntegrationRateLimited, retryable after the wait Zendesk asked for', async () => {
    peer.failNext({ ...zendeskError(429, 'APIRateLimitExceeded', 'Number of allowed API requests per minute exceeded'), headers: { 'retry-after': '30' } });
    const outcome = await runAction(deps(), 'update_zendesk', update);
    expect(outcome.failure).toMatchObject({ type: IntegrationFailureType.RateLimited, nonRetryable: false, nextRetryDelay: 30_000 });
    expect(outcome.failure.details).toEqual([{ service: 'Zendesk', status: 429, retryAfterMs: 30_000 }]);
  });

  it('500, 502 and a refused connection: IntegrationUnavailable, retryable', async () => {
    peer.failNext(zendeskError(500, 'InternalError'), { status: 502, body: '<html>Bad Gateway</html>' });
    const first = await runAction(deps(), 'update_zendesk', update);
    const second = await runAction(deps(), 'update_zendesk', update);
    expect([first.failure?.type, second.failure?.type]).toEqual([IntegrationFailureType.Unavailable, IntegrationFailureType.Unavailable]);
    expect(second.failure.message).toContain('HTTP 502');
    expect(peer.requests).toHaveLength(2);

    const refused = await runAction(deps(), 'update_zendesk', { ...update, credential: 'zendesk_nowhere' });
    expect(refused.failure).toMatchObject({ type: IntegrationFailureType.Unavailable, nonRetryable: false });
  });
});

describe('update_zendesk: parameters and credentials', () => {
  it.each([
    ['/comment: give at least one change', { credential: 'zendesk_support', ticketId: 4242 }],
    ['/ticketId: must be a ticket number', { ...update, ticketId: -3 }],
    ['/tags/set: set replaces all tags', { ...update, tags: { set: ['a'], add: ['b'] } }],
    ['/tags/add/0: a tag has no spaces or commas', { ...update, tags: { add: ['needs review'] } }],
    ['/status: must be new, open, pending, hold, solved or closed', { ...update, status: 'done' }],
    ['/comment/body: a comment needs a body', { ...update, comment: { body: '' } }],
    ['/customFields/0/value: must be a string, number, boolean, null or a list of strings', { ...update, customFields: [{ id: 1, value: { nested: true } }] }],
  ])('rejects the params, reporting %s, without calling Zendesk', async (expected, params) => {
    const outcome = await runAction(deps(), 'update_zendesk', params);
    expect(outcome.failure).toMatchObject({ type: 'InvalidActionParams', nonRetryable: true });
    expect(outcome.failure.message).toContain(expected);
    expect(peer.requests).toHaveLength(0);
  });

  it('refuses a subdomain that would make another host', async () => {
    const outcome = await runAction(deps(), 'update_zendesk', { ...update, credential: 'zendesk_bad_subdomain' });
    expect(outcome.failure).toMatchObject({ type: IntegrationFailureType.CredentialError, nonRetryable: true });
    expect(outcome.failure.message).toContain('subdomain');
  });
});

describe('update_zendesk in a run of a published workflow', () => {
  beforeAll(async () => {
    await publishWorkflow(h, 'resolve_ticket', {
      trigger: { type: 'api', inputSchema: { type: 'object', required: ['ticketId', 'decision'], properties: { ticketId: { type: 'integer' }, decision: { type: 'string' } } } },
      steps: [
        {
          id: 'resolve',
          type: 'action',
          name: 'Resolve the support ticket',
          action: 'update_zendesk',
          params: {
            credential: cred.zendesk_support,
            ticketId: { $cel: 'trigger.ticketId' },
            comment: { body: 'Verification {{ trigger.decision }}.', public: true },
            tags: { add: ['kyc_{{ trigger.decision }}'] },
            status: 'solved',
          },
        },
      ],
    });
  });
  it('retries after two 500s and shows update_zendesk in history without the token', async () => {
    peer.failNext(zendeskError(500, 'InternalError'), zendeskError(503, 'ServiceUnavailable'));
    const runId = await startRun(h, 'resolve_ticket', { ticketId: 4242, decision: 'approved' });
    const run = await waitForRun(h, runId, isClosed);

    expect(run.status).toBe('completed');
    expect(peer.requests).toHaveLength(3);
    expect(peer.requests.every((r) => r.method === 'PUT' && r.path === '/api/v2/tickets/4242.json')).toBe(true);
    expect(peer.tickets.get(4242)).toMatchObject({ status: 'solved', tags: ['kyc', 'needs_review', 'kyc_approved'], comments: [{ body: 'Verification approved.', public: true }] });
    expect(stepOf(run, 'resolve')).toMatchObject({ status: 'completed', output: { ticketId: 4242, status: 'solved' } });
    expect(await activitiesOf(h, runId)).toEqual([{ activityType: 'update_zendesk', activityId: 'resolve', attempts: 3, outcome: 'completed' }]);
    expect(await historyText(h, runId)).not.toContain(agent.token);
  });

  it('fails the step at once when the ticket is closed', async () => {
    const runId = await startRun(h, 'resolve_ticket', { ticketId: 5000, decision: 'declined' });
    const run = await waitForRun(h, runId, isClosed);
    expect(run.status).toBe('failed');
    expect(stepOf(run, 'resolve')).toMatchObject({ status: 'failed', error: { type: IntegrationFailureType.Rejected } });
    expect(peer.requests).toHaveLength(1);
  });
});
