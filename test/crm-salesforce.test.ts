/**
 * update_salesforce against a loopback Salesforce org: the exact REST
 * requests jsforce makes (update by id, upsert by external id, the SOAP
 * login when the credential holds a username and password), Salesforce's
 * error answers mapped to our failure types, parameter failures, and runs of
 * a published workflow on the dev server.
 */
import { IntegrationFailureType } from '../src/integrations/errors';
import { createHarness, isClosed, publishWorkflow, startRun, stepOf, waitForRun, type Harness } from './support/harness';
import type { HttpPeer } from './support/peers/http-peer';
import { activitiesOf, createCredentials, historyText, LOOPBACK_NETWORK, runAction } from './support/peers/action-runs';
import { salesforceError, startSalesforcePeer, type SalesforceRecords } from './support/peers/salesforce-peer';

const org = {
  accessToken: '00D000000000001!AQ4AQFakeSessionToken',
  username: 'integration@acme.test',
  passwordAndToken: 'sf-password-91c2' + 'SECTOKEN42',
  schema: {
    Account: ['Name', 'Risk_Level__c', 'Verified__c', 'External_Key__c'],
    Contact: ['LastName', 'Email', 'Inquiry_Id__c', 'Verification_Status__c', 'Account'],
  },
};

let peer: HttpPeer & { records: SalesforceRecords; newId(type: string): string; loginInstanceUrl?: string };
let h: Harness;
let cred: Record<string, string>;

beforeAll(async () => {
  peer = await startSalesforcePeer(org);
  h = await createHarness();
  cred = await createCredentials(h, {
    sf_token: ['salesforce', { instanceUrl: peer.url, accessToken: org.accessToken }],
    sf_login: ['salesforce', { instanceUrl: peer.url, loginUrl: peer.url, username: org.username, password: 'sf-password-91c2', securityToken: 'SECTOKEN42' }],
    sf_bad_login: ['salesforce', { instanceUrl: peer.url, loginUrl: peer.url, username: org.username, password: 'wrong', securityToken: 'SECTOKEN42' }],
    sf_expired: ['salesforce', { instanceUrl: peer.url, accessToken: 'expired-session' }],
    sf_nowhere: ['salesforce', { instanceUrl: 'http://127.0.0.1:9', accessToken: org.accessToken }],
  });
});
afterAll(async () => {
  await peer?.close();
  await h?.close();
});
beforeEach(() => {
  peer.reset();
  peer.records.clear();
});

const deps = () => ({ credentials: h.credentials, network: LOOPBACK_NETWORK, credentialIds: cred });

function seedAccount(fields: Record<string, unknown> = { Name: 'Acme Ltd' }): string {
  const id = peer.newId('Account');
  peer.records.set(id, { type: 'Account', fields: { ...fields } });
  return id;
}

describe('update_salesforce: the requests jsforce makes', () => {
  it('updates a record by id with one PATCH of the fields, Bearer session, API v62.0', async () => {
    const id = seedAccount();
    const outcome = await runAction(deps(), 'update_salesforce', { credential: 'sf_token', object: 'Account', recordId: id, fields: { Risk_Level__c: 'High', Verified__c: true } });
    expect(outcome.ok).toBe(true);
    expect(outcome.value).toEqual({ id, created: false });

    expect(peer.requests).toHaveLength(1);
    const [request] = peer.requests;
    expect(request.method).toBe('PATCH');
    expect(request.path).toBe(`/services/data/v62.0/sobjects/Account/${id}`);
    expect(request.headers.authorization).toBe(`Bearer ${org.accessToken}`);
    expect(request.headers['content-type']).toContain('application/json');
    expect(request.body).toEqual({ Risk_Level__c: 'High', Verified__c: true });
    expect(peer.records.get(id)?.fields).toEqual({ Name: 'Acme Ltd', Risk_Level__c: 'High', Verified__c: true });
  });

  it('upserts by external id: created first, updated (same id) when the step runs again', async () => {
    const params = {
      credential: 'sf_token',
      object: 'Contact',
      externalIdField: 'Inquiry_Id__c',
      externalId: 'inq/2024 #42',
      fields: { LastName: 'Lovelace', Verification_Status__c: 'approved', Account: { External_Key__c: 'acme-1' } },
    };
    const first = await runAction(deps(), 'update_salesforce', params);
    expect(first.value).toEqual({ id: expect.stringMatching(/^003/), created: true });
    const again = await runAction(deps(), 'update_salesforce', { ...params, fields: { ...params.fields, Verification_Status__c: 'declined' } });
    expect(again.value).toEqual({ id: first.value.id, created: false });

    // The external id is encoded into the path, so "/" and "#" stay part of the value.
    expect(peer.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'PATCH /services/data/v62.0/sobjects/Contact/Inquiry_Id__c/inq%2F2024%20%2342',
      'PATCH /services/data/v62.0/sobjects/Contact/Inquiry_Id__c/inq%2F2024%20%2342',
    ]);
    expect(peer.requests[0].body).toEqual({ LastName: 'Lovelace', Verification_Status__c: 'approved', Account: { External_Key__c: 'acme-1' } });
    expect(peer.records.size).toBe(1);
    expect(peer.records.get(first.value.id)?.fields).toMatchObject({ Inquiry_Id__c: 'inq/2024 #42', Verification_Status__c: 'declined' });
  });

  it('logs in with username, password and security token (SOAP) when the credential has no access token', async () => {
    const id = seedAccount();
    const outcome = await runAction(deps(), 'update_salesforce', { credential: 'sf_login', object: 'Account', recordId: id, fields: { Risk_Level__c: 'Low' } });
    expect(outcome.ok).toBe(true);
    expect(peer.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /services/Soap/u/62.0', `PATCH /services/data/v62.0/sobjects/Account/${id}`]);
    expect(peer.requests[0].rawBody).toContain(`<username>${org.username}</username>`);
    expect(peer.requests[0].rawBody).toContain(`<password>${org.passwordAndToken}</password>`);
    expect(peer.requests[1].headers.authorization).toMatch(/^Bearer 00D000000000001!/);
    expect(peer.requests[1].headers.authorization).not.toBe(`Bearer ${org.accessToken}`);
  });
});

describe('update_salesforce: the instance a login names goes through the SSRF guard (finding 10)', () => {
  afterEach(() => {
    peer.loginInstanceUrl = undefined;
  });

  it('a login answering with an instance on a private address: IntegrationEndpointBlocked, not retried, the session token goes nowhere', async () => {
    peer.loginInstanceUrl = 'http://10.0.0.9';
    const outcome = await runAction(deps(), 'update_salesforce', { credential: 'sf_login', object: 'Account', recordId: seedAccount(), fields: { Risk_Level__c: 'Low' } });
    expect(outcome.failure).toMatchObject({ type: IntegrationFailureType.EndpointBlocked, nonRetryable: true });
    expect(outcome.failure.message).toContain('10.0.0.9 is a private address');
    expect(peer.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /services/Soap/u/62.0']);
  });
});

describe('update_salesforce: Salesforce error answers', () => {
  const update = (fields: Record<string, unknown> = { Risk_Level__c: 'High' }, credential = 'sf_token') =>
    runAction(deps(), 'update_salesforce', { credential, object: 'Account', recordId: seedAccount(), fields });

  it('401 INVALID_SESSION_ID and a refused login: IntegrationAuthFailed, not retried', async () => {
    const expired = await update(undefined, 'sf_expired');
    expect(expired.failure).toMatchObject({ type: IntegrationFailureType.AuthFailed, nonRetryable: true });
    expect(expired.failure.message).toContain('INVALID_SESSION_ID');
    expect(expired.failure.details).toEqual([{ service: 'Salesforce', status: 401, code: 'INVALID_SESSION_ID' }]);

    const badLogin = await update(undefined, 'sf_bad_login');
    expect(badLogin.failure).toMatchObject({ type: IntegrationFailureType.AuthFailed, nonRetryable: true });
    expect(badLogin.failure.message).toContain('INVALID_LOGIN');
  });

  it('404 for a record that does not exist: IntegrationNotFound, not retried', async () => {
    const outcome = await runAction(deps(), 'update_salesforce', { credential: 'sf_token', object: 'Account', recordId: '001000000000000AAA', fields: { Name: 'x' } });
    expect(outcome.failure).toMatchObject({ type: IntegrationFailureType.NotFound, nonRetryable: true });
    expect(outcome.failure.message).toContain('NOT_FOUND');
  });

  it('400 INVALID_FIELD and 300 for an ambiguous external id: IntegrationRejected, not retried', async () => {
    const badField = await update({ Favourite_Colour__c: 'blue' });
    expect(badField.failure).toMatchObject({ type: IntegrationFailureType.Rejected, nonRetryable: true });
    expect(badField.failure.message).toContain("No such column 'Favourite_Colour__c'");

    for (let i = 0; i < 2; i++) peer.records.set(peer.newId('Account'), { type: 'Account', fields: { External_Key__c: 'dup' } });
    const ambiguous = await runAction(deps(), 'update_salesforce', { credential: 'sf_token', object: 'Account', externalIdField: 'External_Key__c', externalId: 'dup', fields: { Name: 'x' } });
    expect(ambiguous.failure).toMatchObject({ type: IntegrationFailureType.Rejected, nonRetryable: true });
    expect(ambiguous.failure.message).toContain('MULTIPLE_CHOICES');
  });

  it('429 with Retry-After, and 403 REQUEST_LIMIT_EXCEEDED: IntegrationRateLimited, retryable', async () => {
    peer.failNext({ ...salesforceError(429, 'REQUEST_LIMIT_EXCEEDED', 'Too many requests'), headers: { 'retry-after': '5' } });
    const tooMany = await update();
    expect(tooMany.failure).toMatchObject({ type: IntegrationFailureType.RateLimited, nonRetryable: false, nextRetryDelay: 5000 });

    peer.failNext(salesforceError(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.'));
    const quota = await update();
    expect(quota.failure).toMatchObject({ type: IntegrationFailureType.RateLimited, nonRetryable: false });
  });

  it('500, 503 SERVER_UNAVAILABLE and a refused connection: IntegrationUnavailable, retryable, one request each', async () => {
    peer.failNext({ status: 500, headers: { 'content-type': 'text/html' }, body: '<html>Internal Server Error</html>' }, salesforceError(503, 'SERVER_UNAVAILABLE', 'Server temporarily unavailable'));
    const html500 = await update();
    expect(html500.failure).toMatchObject({ type: IntegrationFailureType.Unavailable, nonRetryable: false });
    const unavailable = await update();
    expect(unavailable.failure).toMatchObject({ type: IntegrationFailureType.Unavailable, nonRetryable: false });
    expect(peer.requests).toHaveLength(2);

    const refused = await update(undefined, 'sf_nowhere');
    expect(refused.failure).toMatchObject({ type: IntegrationFailureType.Unavailable, nonRetryable: false });
  });
});

describe('update_salesforce: parameters', () => {
  const base = { credential: 'sf_token', object: 'Account', fields: { Name: 'x' } };
  it.each([
    ['/recordId: give recordId, or externalIdField and externalId', base],
    ['/recordId: give recordId, or externalIdField and externalId, not both', { ...base, recordId: '001000000000000AAA', externalIdField: 'External_Key__c', externalId: 'k' }],
    ['/externalId: an upsert needs the external id value too', { ...base, externalIdField: 'External_Key__c' }],
    ['/fields/Id: the record is named by recordId', { ...base, recordId: '001000000000000AAA', fields: { Id: '001000000000000AAA' } }],
    ['/fields/External_Key__c: the external id is given by externalId', { ...base, externalIdField: 'External_Key__c', externalId: 'k', fields: { External_Key__c: 'k' } }],
    ['/fields: give at least one field to write', { ...base, recordId: '001000000000000AAA', fields: {} }],
    ['/recordId: must be a 15- or 18-character Salesforce record id', { ...base, recordId: '42' }],
    ['/object: must be an sObject API name', { ...base, object: 'Account; DROP', recordId: '001000000000000AAA' }],
    ['/fields/Tags__c: must be a string, number, boolean or null', { ...base, recordId: '001000000000000AAA', fields: { Tags__c: ['a'] } }],
    ['/fields/Risk Level: "Risk Level": must be a field API name', { ...base, recordId: '001000000000000AAA', fields: { 'Risk Level': 'High' } }],
  ])('rejects the params, reporting %s, without calling Salesforce', async (expected, params) => {
    const outcome = await runAction(deps(), 'update_salesforce', params);
    expect(outcome.failure).toMatchObject({ type: 'InvalidActionParams', nonRetryable: true });
    expect(outcome.failure.message).toContain(expected);
    expect(peer.requests).toHaveLength(0);
  });

  it('refuses an http instance URL that the network allow-list does not name', async () => {
    const outcome = await runAction({ credentials: h.credentials, network: { allowList: [] }, credentialIds: cred }, 'update_salesforce', { ...base, recordId: '001000000000000AAA' });
    expect(outcome.failure).toMatchObject({ type: IntegrationFailureType.EndpointBlocked, nonRetryable: true });
    expect(peer.requests).toHaveLength(0);
  });
});

describe('update_salesforce in a run of a published workflow', () => {
  beforeAll(async () => {
    await publishWorkflow(h, 'sync_contact', {
      trigger: { type: 'api', inputSchema: { type: 'object', required: ['inquiryId', 'lastName'], properties: { inquiryId: { type: 'string' }, lastName: { type: 'string' } } } },
      steps: [
        {
          id: 'upsert_contact',
          type: 'action',
          name: 'Upsert the contact',
          action: 'update_salesforce',
          params: { credential: cred.sf_token, object: 'Contact', externalIdField: 'Inquiry_Id__c', externalId: '{{ trigger.inquiryId }}', fields: { LastName: '{{ trigger.lastName }}', Verification_Status__c: 'approved' } },
        },
      ],
    });
  });
  it('retries after two 500s, creates the record once, and shows update_salesforce in history without the token', async () => {
    peer.failNext(salesforceError(500, 'UNKNOWN_EXCEPTION', 'An unexpected error occurred'), salesforceError(503, 'SERVER_UNAVAILABLE', 'Try again'));
    const runId = await startRun(h, 'sync_contact', { inquiryId: 'inq_77', lastName: 'Hopper' });
    const run = await waitForRun(h, runId, isClosed);

    expect(run.status).toBe('completed');
    expect(peer.requests).toHaveLength(3);
    expect(peer.requests.every((r) => r.path === '/services/data/v62.0/sobjects/Contact/Inquiry_Id__c/inq_77')).toBe(true);
    expect(peer.records.size).toBe(1);
    const [[id, record]] = [...peer.records.entries()];
    expect(record.fields).toEqual({ Inquiry_Id__c: 'inq_77', LastName: 'Hopper', Verification_Status__c: 'approved' });
    expect(stepOf(run, 'upsert_contact')).toMatchObject({ status: 'completed', output: { id, created: true } });
    expect(await activitiesOf(h, runId)).toEqual([{ activityType: 'update_salesforce', activityId: 'upsert_contact', attempts: 3, outcome: 'completed' }]);
    expect(await historyText(h, runId)).not.toContain(org.accessToken);
  });

  it('fails the step at once when the session is refused', async () => {
    await publishWorkflow(h, 'sync_with_expired_session', {
      trigger: { type: 'api' },
      steps: [{ id: 'update', type: 'action', action: 'update_salesforce', params: { credential: cred.sf_expired, object: 'Account', recordId: '001000000000000AAA', fields: { Name: 'x' } } }],
    });
    const runId = await startRun(h, 'sync_with_expired_session', {});
    const run = await waitForRun(h, runId, isClosed);
    expect(run.status).toBe('failed');
    expect(stepOf(run, 'update')).toMatchObject({ status: 'failed', error: { type: IntegrationFailureType.AuthFailed } });
    expect(peer.requests).toHaveLength(1);
  });
});
