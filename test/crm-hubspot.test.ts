/**
 * update_hubspot against a loopback HubSpot CRM v3 API: the exact PATCH the
 * official @hubspot/api-client makes for a contact (by id or by email), a
 * company and a deal, HubSpot's error answers mapped to our failure types,
 * parameter failures, and runs of a published workflow on the dev server.
 */
import { IntegrationFailureType } from '../src/integrations/errors';
import { createHarness, isClosed, publishWorkflow, startRun, stepOf, waitForRun, type Harness } from './support/harness';
import { hubspotError, startHubspotPeer, type HubspotObjectType, type HubspotRecord } from './support/peers/hubspot-peer';
import { HttpPeer } from './support/peers/http-peer';
import { activitiesOf, createCredentials, historyText, LOOPBACK_NETWORK, runAction } from './support/peers/action-runs';

const accessToken = 'pat-eu1-11111111-2222-3333-4444-555555555555';

let peer: HttpPeer & { records: Record<HubspotObjectType, Map<string, HubspotRecord>> };
let h: Harness;
let cred: Record<string, string>;

beforeAll(async () => {
  peer = await startHubspotPeer({
    accessToken,
    properties: {
      contacts: ['email', 'lifecyclestage', 'kyc_status', 'risk_score', 'is_pep', 'kyc_notes'],
      companies: ['name', 'kyb_status'],
      deals: ['dealstage', 'kyc_cleared'],
    },
  });
  h = await createHarness();
  cred = await createCredentials(h, {
    hubspot_app: ['hubspot', { accessToken, basePath: peer.url }],
    hubspot_revoked: ['hubspot', { accessToken: 'pat-revoked', basePath: peer.url }],
    hubspot_nowhere: ['hubspot', { accessToken, basePath: 'http://127.0.0.1:9' }],
  });
});
afterAll(async () => {
  await peer?.close();
  await h?.close();
});
beforeEach(() => {
  peer.reset();
  peer.records.contacts.clear();
  peer.records.companies.clear();
  peer.records.deals.clear();
  peer.records.contacts.set('101', { id: '101', properties: { email: 'ada@example.org', kyc_status: 'pending' }, updatedAt: '' });
  peer.records.companies.set('202', { id: '202', properties: { name: 'Acme Ltd' }, updatedAt: '' });
  peer.records.deals.set('303', { id: '303', properties: { dealstage: 'qualified' }, updatedAt: '' });
});

const deps = () => ({ credentials: h.credentials, network: LOOPBACK_NETWORK, credentialIds: cred });
const contactUpdate = { credential: 'hubspot_app', object: 'contact', id: '101', properties: { kyc_status: 'approved', risk_score: 42, is_pep: false, kyc_notes: null } };

describe('update_hubspot: the requests the official client makes', () => {
  it('PATCHes the contact by id with the Bearer token and string property values', async () => {
    const outcome = await runAction(deps(), 'update_hubspot', contactUpdate);
    expect(outcome.ok).toBe(true);
    expect(outcome.value).toEqual({ id: '101' });

    expect(peer.requests).toHaveLength(1);
    const [request] = peer.requests;
    expect(request.method).toBe('PATCH');
    expect(request.path).toBe('/crm/v3/objects/contacts/101');
    expect(request.query).toEqual({});
    expect(request.headers.authorization).toBe(`Bearer ${accessToken}`);
    expect(request.headers['content-type']).toContain('application/json');
    // HubSpot property values are strings; null clears a property.
    expect(request.body).toEqual({ properties: { kyc_status: 'approved', risk_score: '42', is_pep: 'false', kyc_notes: '' } });
    expect(peer.records.contacts.get('101')?.properties).toMatchObject({ kyc_status: 'approved', risk_score: '42' });
  });

  it('addresses a contact by email through idProperty=email', async () => {
    const outcome = await runAction(deps(), 'update_hubspot', { credential: 'hubspot_app', object: 'contact', email: 'ada@example.org', properties: { lifecyclestage: 'customer' } });
    expect(outcome.value).toEqual({ id: '101' });
    expect(peer.requests[0].path).toBe('/crm/v3/objects/contacts/ada%40example.org');
    expect(peer.requests[0].query).toEqual({ idProperty: 'email' });
  });

  it('updates a company and a deal by id', async () => {
    const company = await runAction(deps(), 'update_hubspot', { credential: 'hubspot_app', object: 'company', id: 202, properties: { kyb_status: 'verified' } });
    const deal = await runAction(deps(), 'update_hubspot', { credential: 'hubspot_app', object: 'deal', id: '303', properties: { kyc_cleared: true } });
    expect([company.value, deal.value]).toEqual([{ id: '202' }, { id: '303' }]);
    expect(peer.requests.map((r) => `${r.method} ${r.path} ${JSON.stringify(r.body)}`)).toEqual([
      'PATCH /crm/v3/objects/companies/202 {"properties":{"kyb_status":"verified"}}',
      'PATCH /crm/v3/objects/deals/303 {"properties":{"kyc_cleared":"true"}}',
    ]);
  });
});

describe('update_hubspot: HubSpot error answers', () => {
  it('401 for a revoked token: IntegrationAuthFailed, not retried', async () => {
    const outcome = await runAction(deps(), 'update_hubspot', { ...contactUpdate, credential: 'hubspot_revoked' });
    expect(outcome.failure).toMatchObject({ type: IntegrationFailureType.AuthFailed, nonRetryable: true });
    expect(outcome.failure.details).toEqual([{ service: 'HubSpot', status: 401, code: 'INVALID_AUTHENTICATION' }]);
  });

  it('404 for a record that does not exist: IntegrationNotFound, not retried', async () => {
    const outcome = await runAction(deps(), 'update_hubspot', { ...contactUpdate, id: '999' });
    expect(outcome.failure).toMatchObject({ type: IntegrationFailureType.NotFound, nonRetryable: true });
    expect(outcome.failure.message).toContain('resource not found');
  });

  it('400 for a property that does not exist: IntegrationRejected, not retried', async () => {
    const outcome = await runAction(deps(), 'update_hubspot', { ...contactUpdate, properties: { favourite_colour: 'blue' } });
    expect(outcome.failure).toMatchObject({ type: IntegrationFailureType.Rejected, nonRetryable: true });
    expect(outcome.failure.message).toContain('favourite_colour');
  });

  it('429 with Retry-After: IntegrationRateLimited, retryable after the wait HubSpot asked for', async () => {
    peer.failNext({ ...hubspotError(429, 'RATE_LIMITS', 'You have reached your secondly limit.'), headers: { 'retry-after': '10' } });
    const outcome = await runAction(deps(), 'update_hubspot', contactUpdate);
    expect(outcome.failure).toMatchObject({ type: IntegrationFailureType.RateLimited, nonRetryable: false, nextRetryDelay: 10_000 });
    expect(peer.requests).toHaveLength(1);
  });

  it('500 and a refused connection: IntegrationUnavailable, retryable, no retry inside the client', async () => {
    peer.failNext(hubspotError(500, 'INTERNAL_ERROR', 'internal error'));
    const outcome = await runAction(deps(), 'update_hubspot', contactUpdate);
    expect(outcome.failure).toMatchObject({ type: IntegrationFailureType.Unavailable, nonRetryable: false });
    expect(peer.requests).toHaveLength(1);

    const refused = await runAction(deps(), 'update_hubspot', { ...contactUpdate, credential: 'hubspot_nowhere' });
    expect(refused.failure).toMatchObject({ type: IntegrationFailureType.Unavailable, nonRetryable: false });
  });
});

describe('update_hubspot: redirects never carry the token or the PATCH elsewhere (finding 10)', () => {
  let elsewhere: HttpPeer;
  beforeAll(async () => {
    // Another server on the same loopback address (another port): the client's own redirect rules would hand it the token.
    elsewhere = await HttpPeer.start(() => ({ status: 200, body: { id: '101', properties: {} } }));
  });
  afterAll(async () => {
    await elsewhere?.close();
  });

  it.each([
    ['another port of the same host', () => `${elsewhere.url}/steal`, () => elsewhere.url],
    ['a private address', () => 'http://10.0.0.1/admin', () => 'http://10.0.0.1'],
    ['the metadata address', () => 'http://169.254.169.254/latest/meta-data/', () => 'http://169.254.169.254'],
  ])('a 307 to %s: IntegrationEndpointBlocked, not retried, nothing sent there', async (_what, location, origin) => {
    const before = elsewhere.requests.length;
    peer.failNext({ status: 307, headers: { location: location() } });
    const outcome = await runAction(deps(), 'update_hubspot', contactUpdate);
    expect(outcome.failure).toMatchObject({ type: IntegrationFailureType.EndpointBlocked, nonRetryable: true });
    expect(outcome.failure.message).toContain(`HubSpot redirected to ${origin()}: the token is only sent to ${peer.url}, so nothing was sent there`);
    expect(peer.requests).toHaveLength(1);
    expect(elsewhere.requests.length).toBe(before);
  });

  it('a redirect within the checked origin is followed', async () => {
    peer.failNext({ status: 307, headers: { location: `${peer.url}/crm/v3/objects/contacts/101` } });
    const outcome = await runAction(deps(), 'update_hubspot', contactUpdate);
    expect(outcome.ok).toBe(true);
    expect(peer.requests).toHaveLength(2);
    expect(peer.requests[1].headers.authorization).toBe(`Bearer ${accessToken}`);
  });
});

describe('update_hubspot: parameters', () => {
  it.each([
    ['/email: give id or email, not both', { ...contactUpdate, email: 'ada@example.org' }],
    ['/id: give the record id (or, for a contact, its email)', { ...contactUpdate, id: undefined }],
    ['/email: only contacts can be found by email', { ...contactUpdate, object: 'company', id: undefined, email: 'ada@example.org' }],
    ['/object: must be contact, company or deal', { ...contactUpdate, object: 'ticket' }],
    ['/id: must be the record id (digits)', { ...contactUpdate, id: 'abc' }],
    ['/email: must be an email address', { ...contactUpdate, id: undefined, email: 'ada' }],
    ['/properties: give at least one property to set', { ...contactUpdate, properties: {} }],
    ['/properties/kyc-status: "kyc-status": HubSpot property names are letters, digits and _', { ...contactUpdate, properties: { 'kyc-status': 'x' } }],
  ])('rejects the params, reporting %s, without calling HubSpot', async (expected, params) => {
    const outcome = await runAction(deps(), 'update_hubspot', params);
    expect(outcome.failure).toMatchObject({ type: 'InvalidActionParams', nonRetryable: true });
    expect(outcome.failure.message).toContain(expected);
    expect(peer.requests).toHaveLength(0);
  });

  it('fails clearly without a credential resolver', async () => {
    const outcome = await runAction({ network: LOOPBACK_NETWORK, credentialIds: cred }, 'update_hubspot', contactUpdate);
    expect(outcome.failure).toMatchObject({ type: IntegrationFailureType.CredentialError, nonRetryable: true });
  });
});

describe('update_hubspot in a run of a published workflow', () => {
  beforeAll(async () => {
    await publishWorkflow(h, 'mark_contact_verified', {
      trigger: { type: 'api', inputSchema: { type: 'object', required: ['email'], properties: { email: { type: 'string' } } } },
      steps: [
        {
          id: 'mark_verified',
          type: 'action',
          name: 'Mark the contact verified',
          action: 'update_hubspot',
          params: { credential: cred.hubspot_app, object: 'contact', email: '{{ trigger.email }}', properties: { kyc_status: 'approved' } },
        },
      ],
    });
  });
  it('retries after a 500 and a 502, updates once, and shows update_hubspot in history without the token', async () => {
    peer.failNext(hubspotError(500, 'INTERNAL_ERROR', 'internal error'), { status: 502, body: 'Bad Gateway' });
    const runId = await startRun(h, 'mark_contact_verified', { email: 'ada@example.org' });
    const run = await waitForRun(h, runId, isClosed);

    expect(run.status).toBe('completed');
    expect(peer.requests).toHaveLength(3);
    expect(peer.requests.map((r) => r.path)).toEqual(Array(3).fill('/crm/v3/objects/contacts/ada%40example.org'));
    expect(peer.records.contacts.get('101')?.properties.kyc_status).toBe('approved');
    expect(stepOf(run, 'mark_verified')).toMatchObject({ status: 'completed', output: { id: '101' } });
    expect(await activitiesOf(h, runId)).toEqual([{ activityType: 'update_hubspot', activityId: 'mark_verified', attempts: 3, outcome: 'completed' }]);
    expect(await historyText(h, runId)).not.toContain(accessToken);
  });

  it('fails the step at once when the contact does not exist', async () => {
    const runId = await startRun(h, 'mark_contact_verified', { email: 'nobody@example.org' });
    const run = await waitForRun(h, runId, isClosed);
    expect(run.status).toBe('failed');
    expect(stepOf(run, 'mark_verified')).toMatchObject({ status: 'failed', error: { type: IntegrationFailureType.NotFound } });
    expect(peer.requests).toHaveLength(1);
  });
});
