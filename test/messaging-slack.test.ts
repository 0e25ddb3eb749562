/**
 * send_slack_message against a loopback Slack Web API: the exact
 * chat.postMessage request the official WebClient makes (path, Bearer token,
 * form fields, blocks), Slack's `ok: false` codes and HTTP errors mapped to
 * our failure types, parameter failures, and runs of a published workflow on
 * the dev server (retried after 500s; the activity named send_slack_message
 * in history; the token never in it).
 */
import { IntegrationFailureType } from '../src/integrations/errors';
import { createHarness, isClosed, publishWorkflow, startRun, stepOf, waitForRun, type Harness } from './support/harness';
import type { HttpPeer } from './support/peers/http-peer';
import { activitiesOf, createCredentials, historyText, LOOPBACK_NETWORK, runAction } from './support/peers/action-runs';
import { startSlackPeer, type SlackPost } from './support/peers/slack-peer';

const token = 'xoxb-1234-5678-slack-bot-token';

let peer: HttpPeer & { posts: SlackPost[] };
let h: Harness;
let cred: Record<string, string>;

beforeAll(async () => {
  peer = await startSlackPeer({ token, channels: { C0COMPLIANCE: 'compliance-alerts', C0REVIEWS: 'reviews' } });
  h = await createHarness();
  cred = await createCredentials(h, {
    slack_bot: ['slack', { token, apiUrl: `${peer.url}/api/` }],
    slack_revoked: ['slack', { token: 'xoxb-revoked', apiUrl: `${peer.url}/api` }],
  });
});
afterAll(async () => {
  await peer?.close();
  await h?.close();
});
beforeEach(() => {
  peer.reset();
  peer.posts.length = 0;
});

const deps = () => ({ credentials: h.credentials, network: LOOPBACK_NETWORK, credentialIds: cred });
const blocks = [
  { type: 'header', text: { type: 'plain_text', text: 'Watchlist match' } },
  { type: 'section', text: { type: 'mrkdwn', text: '*Inquiry* inq_123 matched *OFAC SDN* (score 0.97)' } },
];
const message = { credential: 'slack_bot', channel: 'C0COMPLIANCE', text: 'Watchlist match on inq_123', blocks };

describe('send_slack_message: the request the WebClient makes', () => {
  it('POSTs chat.postMessage with the bot token and the form fields, blocks as JSON', async () => {
    const outcome = await runAction(deps(), 'send_slack_message', { ...message, threadTs: '1712000000.000200' });
    expect(outcome.ok).toBe(true);
    expect(outcome.value).toEqual({ ts: peer.posts[0].ts, channel: 'C0COMPLIANCE' });

    expect(peer.requests).toHaveLength(1);
    const [request] = peer.requests;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/api/chat.postMessage');
    expect(request.headers.authorization).toBe(`Bearer ${token}`);
    expect(request.headers['content-type']).toContain('application/x-www-form-urlencoded');
    expect(request.headers['user-agent']).toContain('@slack:web-api');
    const form = request.body as Record<string, string>;
    expect(form.channel).toBe('C0COMPLIANCE');
    expect(form.text).toBe('Watchlist match on inq_123');
    expect(JSON.parse(form.blocks)).toEqual(blocks);
    expect(form.thread_ts).toBe('1712000000.000200');
    // The token travels only in the header.
    expect(request.rawBody).not.toContain(token);
  });

  it('posts blocks alone, or text alone, and to a channel named with #', async () => {
    const blocksOnly = await runAction(deps(), 'send_slack_message', { credential: 'slack_bot', channel: 'C0REVIEWS', blocks });
    expect(blocksOnly.ok).toBe(true);
    expect(peer.posts[0]).toMatchObject({ channel: 'C0REVIEWS', blocks, text: undefined });

    const byName = await runAction(deps(), 'send_slack_message', { credential: 'slack_bot', channel: '#compliance-alerts', text: 'plain' });
    expect(byName.value.channel).toBe('C0COMPLIANCE');
    expect((peer.requests[1].body as Record<string, string>).channel).toBe('#compliance-alerts');
  });
});

describe('send_slack_message: Slack error answers', () => {
  it('invalid_auth from a revoked token, and an HTTP 401: IntegrationAuthFailed, not retried', async () => {
    const revoked = await runAction(deps(), 'send_slack_message', { ...message, credential: 'slack_revoked' });
    expect(revoked.failure).toMatchObject({ type: IntegrationFailureType.AuthFailed, nonRetryable: true });
    expect(revoked.failure.message).toContain('invalid_auth');

    peer.failNext({ status: 401, body: 'Unauthorized' });
    const http401 = await runAction(deps(), 'send_slack_message', message);
    expect(http401.failure).toMatchObject({ type: IntegrationFailureType.AuthFailed, nonRetryable: true });
    expect(http401.failure.message).toContain('HTTP 401');
  });

  it('channel_not_found, and an HTTP 404: IntegrationNotFound, not retried', async () => {
    const unknown = await runAction(deps(), 'send_slack_message', { ...message, channel: 'C0NOSUCH' });
    expect(unknown.failure).toMatchObject({ type: IntegrationFailureType.NotFound, nonRetryable: true });
    expect(unknown.failure.details).toEqual([{ service: 'Slack', code: 'channel_not_found' }]);

    peer.failNext({ status: 404, body: 'Not Found' });
    const http404 = await runAction(deps(), 'send_slack_message', message);
    expect(http404.failure).toMatchObject({ type: IntegrationFailureType.NotFound, nonRetryable: true });
  });

  it('an answer Slack refuses (invalid_blocks): IntegrationRejected, not retried', async () => {
    peer.failNext({ status: 200, body: { ok: false, error: 'invalid_blocks' } });
    const outcome = await runAction(deps(), 'send_slack_message', message);
    expect(outcome.failure).toMatchObject({ type: IntegrationFailureType.Rejected, nonRetryable: true });
  });

  it('429 with Retry-After: retryable after the wait Slack asked for; no sleeping inside the client', async () => {
    peer.failNext({ status: 429, headers: { 'retry-after': '12' }, body: { ok: false, error: 'ratelimited' } });
    const started = Date.now();
    const outcome = await runAction(deps(), 'send_slack_message', message);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(outcome.failure).toMatchObject({ type: IntegrationFailureType.RateLimited, nonRetryable: false, nextRetryDelay: 12_000 });
    expect(peer.requests).toHaveLength(1);
  });

  it('500 and ok:false internal_error: IntegrationUnavailable, retryable, with one request each', async () => {
    peer.failNext({ status: 500, body: 'oops' }, { status: 200, body: { ok: false, error: 'internal_error' } });
    const http500 = await runAction(deps(), 'send_slack_message', message);
    expect(http500.failure).toMatchObject({ type: IntegrationFailureType.Unavailable, nonRetryable: false });
    const internal = await runAction(deps(), 'send_slack_message', message);
    expect(internal.failure).toMatchObject({ type: IntegrationFailureType.Unavailable, nonRetryable: false });
    expect(peer.requests).toHaveLength(2);
  });
});

describe('send_slack_message: parameters', () => {
  it.each([
    ['/text: give text or blocks (or both)', { credential: 'slack_bot', channel: 'C0REVIEWS' }],
    ['/blocks/0/type: every block has a type', { ...message, blocks: [{ type: '' }] }],
    ['/blocks: Slack accepts at most 50 blocks', { ...message, blocks: Array.from({ length: 51 }, () => ({ type: 'divider' })) }],
    ['/channel: must be a channel id (C0123ABCD) or name (#alerts)', { ...message, channel: 'compliance alerts' }],
    ['/threadTs: must be a message timestamp', { ...message, threadTs: 'yesterday' }],
    ['/credential:', { channel: 'C0REVIEWS', text: 'x' }],
  ])('rejects the params, reporting %s, without calling Slack', async (expected, params) => {
    const outcome = await runAction(deps(), 'send_slack_message', params);
    expect(outcome.failure).toMatchObject({ type: 'InvalidActionParams', nonRetryable: true });
    expect(outcome.failure.message).toContain(expected);
    expect(peer.requests).toHaveLength(0);
  });

  it('fails clearly without a credential resolver', async () => {
    const outcome = await runAction({ network: LOOPBACK_NETWORK, credentialIds: cred }, 'send_slack_message', message);
    expect(outcome.failure).toMatchObject({ type: IntegrationFailureType.CredentialError, nonRetryable: true });
  });
});

describe('send_slack_message in a run of a published workflow', () => {
  beforeAll(async () => {
    await publishWorkflow(h, 'alert_compliance', {
      trigger: { type: 'api', inputSchema: { type: 'object', required: ['inquiryId'], properties: { inquiryId: { type: 'string' } } } },
      steps: [
        {
          id: 'alert',
          type: 'action',
          name: 'Alert the compliance channel',
          action: 'send_slack_message',
          params: { credential: cred.slack_bot, channel: '#compliance-alerts', text: 'Inquiry {{ trigger.inquiryId }} needs a review' },
        },
      ],
    });
  });
  it('retries after two 500s, posts once, and shows send_slack_message in history without the token', async () => {
    peer.failNext({ status: 500, body: 'oops' }, { status: 503, body: 'unavailable' });
    const runId = await startRun(h, 'alert_compliance', { inquiryId: 'inq_42' });
    const run = await waitForRun(h, runId, isClosed);

    expect(run.status).toBe('completed');
    expect(peer.requests).toHaveLength(3);
    expect(peer.posts).toEqual([{ channel: 'C0COMPLIANCE', ts: expect.any(String), text: 'Inquiry inq_42 needs a review', blocks: undefined, threadTs: undefined }]);
    expect(stepOf(run, 'alert')).toMatchObject({ status: 'completed', output: { channel: 'C0COMPLIANCE', ts: peer.posts[0].ts } });
    expect(await activitiesOf(h, runId)).toEqual([{ activityType: 'send_slack_message', activityId: 'alert', attempts: 3, outcome: 'completed' }]);
    expect(await historyText(h, runId)).not.toContain(token);
  });

  it('fails the step at once when the channel does not exist', async () => {
    await publishWorkflow(h, 'alert_nowhere', {
      trigger: { type: 'api' },
      steps: [{ id: 'alert', type: 'action', action: 'send_slack_message', params: { credential: cred.slack_bot, channel: 'C0GONE', text: 'x' } }],
    });
    const runId = await startRun(h, 'alert_nowhere', {});
    const run = await waitForRun(h, runId, isClosed);
    expect(run.status).toBe('failed');
    expect(stepOf(run, 'alert')).toMatchObject({ status: 'failed', error: { type: IntegrationFailureType.NotFound } });
    expect(peer.requests).toHaveLength(1);
  });
});
