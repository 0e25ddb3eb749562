/**
 * send_sms against a loopback Twilio that speaks the Messages resource:
 * the exact request the official `twilio` client makes (path, Basic auth,
 * form body, idempotency token), how each Twilio error answer is mapped,
 * parameter and credential failures, and runs of a published workflow on
 * the dev server (retries after 500, Retry-After after 429, a 401 failing at
 * once, the activity named send_sms in history, no secret in history).
 */
import { IntegrationFailureType } from '../src/integrations/errors';
import { createHarness, isClosed, publishWorkflow, startRun, stepOf, waitForRun, type Harness } from './support/harness';
import { activitiesOf, createCredentials, historyText, LOOPBACK_NETWORK, runAction } from './support/peers/action-runs';
import { startTwilioPeer, twilioError, type TwilioMessage } from './support/peers/twilio-peer';
import { HttpPeer } from './support/peers/http-peer';

const account = { accountSid: `AC${'0a1b2c3d'.repeat(4)}`, authToken: 'twilio-auth-token-7f3a9c' };
const serviceSid = `MG${'9e8d7c6b'.repeat(4)}`;

let peer: HttpPeer & { messages: TwilioMessage[] };
let h: Harness;
let cred: Record<string, string>;

beforeAll(async () => {
  peer = await startTwilioPeer(account);
  h = await createHarness();
  cred = await createCredentials(h, {
    twilio_main: ['twilio', { ...account, from: '+15005550006', baseUrl: peer.url }],
    twilio_service: ['twilio', { ...account, messagingServiceSid: serviceSid, baseUrl: peer.url }],
    twilio_no_sender: ['twilio', { ...account, baseUrl: peer.url }],
    twilio_wrong_token: ['twilio', { ...account, authToken: 'not-the-token', from: '+15005550006', baseUrl: peer.url }],
    twilio_nowhere: ['twilio', { ...account, from: '+15005550006', baseUrl: 'http://127.0.0.1:9' }],
    smtp_relay: ['smtp', { host: '127.0.0.1', port: 25 }],
  });
});
afterAll(async () => {
  await peer?.close();
  await h?.close();
});
beforeEach(() => {
  peer.reset();
  peer.messages.length = 0;
});

const deps = () => ({ credentials: h.credentials, network: LOOPBACK_NETWORK, credentialIds: cred });
const sms = { credential: 'twilio_main', to: '+14155550100', body: 'Your verification code is 481516' };

describe('send_sms: the request the twilio client makes', () => {
  it('POSTs the Messages resource with Basic auth, the form fields and the step idempotency token', async () => {
    const outcome = await runAction(deps(), 'send_sms', sms, { runId: 'run_sms_1', stepId: 'text_applicant' });
    expect(outcome.ok).toBe(true);
    expect(outcome.value).toEqual({ sid: expect.stringMatching(/^SM[0-9a-f]{32}$/), status: 'queued' });

    expect(peer.requests).toHaveLength(1);
    const [request] = peer.requests;
    expect(request.method).toBe('POST');
    expect(request.path).toBe(`/2010-04-01/Accounts/${account.accountSid}/Messages.json`);
    expect(request.headers.authorization).toBe(`Basic ${Buffer.from(`${account.accountSid}:${account.authToken}`).toString('base64')}`);
    expect(request.headers['content-type']).toContain('application/x-www-form-urlencoded');
    expect(request.headers['user-agent']).toMatch(/^twilio-node\//);
    expect(request.headers['i-twilio-idempotency-token']).toBe('run_sms_1:text_applicant');
    expect(request.body).toEqual({ To: '+14155550100', Body: 'Your verification code is 481516', From: '+15005550006' });
    expect(peer.messages[0]).toMatchObject({ sid: outcome.value.sid, to: '+14155550100', from: '+15005550006' });
  });

  it('sends through a Messaging Service: the step\'s, else the credential\'s; a step\'s from wins over the credential', async () => {
    const viaStep = await runAction(deps(), 'send_sms', { ...sms, messagingServiceSid: serviceSid });
    expect(viaStep.value.status).toBe('accepted');
    expect(peer.requests[0].body).toEqual({ To: sms.to, Body: sms.body, MessagingServiceSid: serviceSid });

    const viaCredential = await runAction(deps(), 'send_sms', { ...sms, credential: 'twilio_service' });
    expect(viaCredential.ok).toBe(true);
    expect(peer.requests[1].body).toEqual({ To: sms.to, Body: sms.body, MessagingServiceSid: serviceSid });

    const ownSender = await runAction(deps(), 'send_sms', { ...sms, credential: 'twilio_service', from: 'ACME' });
    expect(ownSender.ok).toBe(true);
    expect(peer.requests[2].body).toEqual({ To: sms.to, Body: sms.body, From: 'ACME' });
  });

  it('sends the same idempotency token on every attempt of a step, and another one for another step', async () => {
    await runAction(deps(), 'send_sms', sms, { runId: 'run_sms_2', stepId: 'notify', attempt: 1 });
    await runAction(deps(), 'send_sms', sms, { runId: 'run_sms_2', stepId: 'notify', attempt: 2 });
    await runAction(deps(), 'send_sms', sms, { runId: 'run_sms_2', stepId: 'remind', attempt: 1 });
    expect(peer.requests.map((r) => r.headers['i-twilio-idempotency-token'])).toEqual(['run_sms_2:notify', 'run_sms_2:notify', 'run_sms_2:remind']);
  });
});

describe('send_sms: Twilio error answers', () => {
  it('401 from a wrong auth token: IntegrationAuthFailed, not retried', async () => {
    const outcome = await runAction(deps(), 'send_sms', { ...sms, credential: 'twilio_wrong_token' });
    expect(outcome.failure).toMatchObject({ type: IntegrationFailureType.AuthFailed, nonRetryable: true });
    expect(outcome.failure.message).toContain('HTTP 401');
    expect(outcome.failure.message).toContain('20003');
    // The token is never echoed into the failure (it goes into workflow history).
    expect(JSON.stringify({ message: outcome.failure.message, details: outcome.failure.details })).not.toContain('not-the-token');
  });

  it('404: IntegrationNotFound, not retried', async () => {
    peer.failNext(twilioError(404, 20404, 'The requested resource was not found'));
    const outcome = await runAction(deps(), 'send_sms', sms);
    expect(outcome.failure).toMatchObject({ type: IntegrationFailureType.NotFound, nonRetryable: true });
  });

  it('400 for a number Twilio refuses: IntegrationRejected, not retried, with Twilio\'s error code', async () => {
    const outcome = await runAction(deps(), 'send_sms', { ...sms, to: '+15005550001' });
    expect(outcome.failure).toMatchObject({ type: IntegrationFailureType.Rejected, nonRetryable: true });
    expect(outcome.failure.message).toContain('21211');
    expect(outcome.failure.details).toEqual([{ service: 'Twilio', status: 400, code: '21211' }]);
  });

  it('429 with Retry-After: retryable, and the next attempt waits what Twilio asked', async () => {
    peer.failNext({ ...twilioError(429, 20429, 'Too Many Requests'), headers: { 'retry-after': '7' } });
    const outcome = await runAction(deps(), 'send_sms', sms);
    expect(outcome.failure).toMatchObject({ type: IntegrationFailureType.RateLimited, nonRetryable: false, nextRetryDelay: 7000 });
  });

  it('500 and a refused connection: IntegrationUnavailable, retryable', async () => {
    peer.failNext(twilioError(500, 20500, 'Internal Server Error'));
    const outcome = await runAction(deps(), 'send_sms', sms);
    expect(outcome.failure).toMatchObject({ type: IntegrationFailureType.Unavailable, nonRetryable: false });
    expect(outcome.failure.nextRetryDelay).toBeUndefined();

    const refused = await runAction(deps(), 'send_sms', { ...sms, credential: 'twilio_nowhere' });
    expect(refused.failure).toMatchObject({ type: IntegrationFailureType.Unavailable, nonRetryable: false });
  });
});

describe('send_sms: a redirect never carries the account\'s auth elsewhere (finding 10)', () => {
  it('a 307 to another server is not followed: the step fails, nothing reaches it', async () => {
    const elsewhere = await HttpPeer.start(() => ({ status: 201, body: { sid: 'SMstolen', status: 'queued' } }));
    try {
      peer.failNext({ status: 307, headers: { location: `${elsewhere.url}/steal` } });
      const outcome = await runAction(deps(), 'send_sms', sms);
      expect(outcome.ok).toBe(false);
      expect(outcome.failure.message).toContain('307');
      expect(peer.requests).toHaveLength(1);
      expect(elsewhere.requests).toHaveLength(0);
    } finally {
      await elsewhere.close();
    }
  });
});

describe('send_sms: parameters, credentials and the network policy', () => {
  it.each([
    ['/to: must be a phone number in E.164 form', { ...sms, to: '4155550100' }],
    ['/body: an SMS needs a body', { ...sms, body: '' }],
    ['/from: must be an E.164 number or an alphanumeric sender id', { ...sms, from: 'a sender id that is far too long' }],
    ['/messagingServiceSid: must be a Messaging Service SID', { ...sms, messagingServiceSid: 'MG123' }],
    ['Unrecognized key', { ...sms, media: ['https://x'] }],
    ['/credential:', { to: sms.to, body: sms.body }],
    ['/credential: must be the id of a credential (cred_...)', { ...sms, credential: 'my twilio' }],
    ['/messagingServiceSid: give from or messagingServiceSid, not both', { ...sms, from: '+15005550006', messagingServiceSid: serviceSid }],
    ['/from: give from or messagingServiceSid, or set a default on the twilio credential', { ...sms, credential: 'twilio_no_sender' }],
  ])('rejects the params, reporting %s, without calling Twilio', async (message, params) => {
    const outcome = await runAction(deps(), 'send_sms', params);
    expect(outcome.failure).toMatchObject({ type: 'InvalidActionParams', nonRetryable: true });
    expect(outcome.failure.message).toContain(message);
    expect(peer.requests).toHaveLength(0);
  });

  it('fails clearly without a credential resolver, for an unknown credential, and for one of another kind', async () => {
    const none = await runAction({ network: LOOPBACK_NETWORK, credentialIds: cred }, 'send_sms', sms);
    expect(none.failure).toMatchObject({ type: IntegrationFailureType.CredentialError, nonRetryable: true });
    expect(none.failure.message).toContain('no credential store');

    const unknown = await runAction(deps(), 'send_sms', { ...sms, credential: 'cred_01jqnosuchcredential' });
    expect(unknown.failure).toMatchObject({ type: IntegrationFailureType.CredentialError, nonRetryable: true });
    expect(unknown.failure.message).toContain('no credential "cred_01jqnosuchcredential"');

    const wrongKind = await runAction(deps(), 'send_sms', { ...sms, credential: 'smtp_relay' });
    expect(wrongKind.failure).toMatchObject({ type: IntegrationFailureType.CredentialError, nonRetryable: true });
    expect(wrongKind.failure.message).toContain('is of kind smtp; this step needs one of kind twilio');
    expect(peer.requests).toHaveLength(0);
  });

  it('refuses a loopback base URL that the network allow-list does not name', async () => {
    const outcome = await runAction({ credentials: h.credentials, network: { allowList: [] }, credentialIds: cred }, 'send_sms', sms);
    expect(outcome.failure).toMatchObject({ type: IntegrationFailureType.EndpointBlocked, nonRetryable: true });
    // The reason is the loopback address itself, not a hint at https://127.0.0.1:…, which is refused too.
    expect(outcome.failure.message).toContain("127.0.0.1 is a loopback address; only an operator's network allow-list can open it");
    expect(outcome.failure.message).not.toContain('use https://');
    expect(peer.requests).toHaveLength(0);
  });
});

describe('send_sms in a run of a published workflow', () => {
  beforeAll(async () => {
    await publishWorkflow(h, 'text_applicant', {
      trigger: { type: 'api', inputSchema: { type: 'object', required: ['phone', 'name'], properties: { phone: { type: 'string' }, name: { type: 'string' } } } },
      steps: [
        {
          id: 'notify',
          type: 'action',
          name: 'Text the applicant',
          action: 'send_sms',
          params: { credential: cred.twilio_main, to: '{{ trigger.phone }}', body: 'Hello {{ trigger.name }}, please finish your verification.' },
        },
      ],
    });
  });
  it('retries after two 500s, sends one idempotency token throughout, and shows send_sms in history', async () => {
    peer.failNext(twilioError(500, 20500, 'Internal Server Error'), twilioError(503, 20503, 'Service Unavailable'));
    const runId = await startRun(h, 'text_applicant', { phone: '+447700900123', name: 'Ada' });
    const run = await waitForRun(h, runId, isClosed);

    expect(run.status).toBe('completed');
    expect(stepOf(run, 'notify')).toMatchObject({ status: 'completed', output: { sid: peer.messages[0].sid, status: 'queued' } });
    expect(peer.requests).toHaveLength(3);
    expect(new Set(peer.requests.map((r) => r.headers['i-twilio-idempotency-token']))).toEqual(new Set([`${runId}:notify`]));
    expect(peer.messages).toHaveLength(1);
    expect(peer.messages[0]).toMatchObject({ to: '+447700900123', body: 'Hello Ada, please finish your verification.' });

    expect(await activitiesOf(h, runId)).toEqual([{ activityType: 'send_sms', activityId: 'notify', attempts: 3, outcome: 'completed' }]);
    const history = await historyText(h, runId);
    expect(history).toContain(cred.twilio_main);
    expect(history).not.toContain(account.authToken);
  });

  it('waits for Retry-After after a 429 before the next attempt', async () => {
    peer.failNext({ ...twilioError(429, 20429, 'Too Many Requests'), headers: { 'retry-after': '3' } });
    const runId = await startRun(h, 'text_applicant', { phone: '+447700900124', name: 'Grace' });
    const run = await waitForRun(h, runId, isClosed);

    expect(run.status).toBe('completed');
    expect(peer.requests).toHaveLength(2);
    // The policy's first backoff is 1 s; Twilio asked for 3.
    expect(peer.requests[1].at - peer.requests[0].at).toBeGreaterThanOrEqual(2900);
  });

  it('fails the step at once on a 401, with the stable type in the run state', async () => {
    await publishWorkflow(h, 'text_with_bad_token', {
      trigger: { type: 'api' },
      steps: [{ id: 'notify', type: 'action', action: 'send_sms', params: { credential: cred.twilio_wrong_token, to: '+447700900125', body: 'hi' } }],
    });
    const runId = await startRun(h, 'text_with_bad_token', {});
    const run = await waitForRun(h, runId, isClosed);

    expect(run.status).toBe('failed');
    expect(stepOf(run, 'notify')).toMatchObject({ status: 'failed', error: { type: IntegrationFailureType.AuthFailed } });
    expect(peer.requests).toHaveLength(1);
    expect(await activitiesOf(h, runId)).toEqual([{ activityType: 'send_sms', activityId: 'notify', attempts: 1, outcome: 'failed' }]);
  });
});
