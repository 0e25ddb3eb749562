/**
 * Tables for what the messaging and CRM actions share: where a credential's
 * base URL may point (the network policy), Retry-After parsing, HTTP status
 * to failure type, the Message-ID made from an idempotency key, mailbox
 * parsing; that definitions using the six actions are checked when saved
 * (templated parameters skipped, static mistakes reported with their path);
 * and that the example step in each of their docs/actions.md sections is
 * a valid step.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crmActions } from '../src/activities/crm-actions';
import { messagingActions, parseMailbox } from '../src/activities/messaging-actions';
import { ActionRegistry } from '../src/activities/registry';
import { assertEndpointAllowed } from '../src/integrations/endpoint-guard';
import { IntegrationError, IntegrationFailureType, MAX_RETRY_AFTER_MS, parseRetryAfter, typeForHttpStatus } from '../src/integrations/errors';
import { messageIdFor } from '../src/integrations/smtp';
import { validateDefinition } from '../src/interpreter/validate';

const deps = { db: undefined as never };
const catalog = ActionRegistry.with([...messagingActions(deps), ...crmActions(deps)]).catalog;

async function endpointVerdict(url: string, allowList: string[] = []): Promise<string> {
  try {
    await assertEndpointAllowed(url, { allowList });
    return 'allowed';
  } catch (err) {
    return err instanceof IntegrationError ? err.type : `threw ${String(err)}`;
  }
}

describe('which base URLs a credential may point an integration at', () => {
  it.each([
    ['https://93.184.215.14/api', [], 'allowed'],
    ['http://93.184.215.14/api', [], IntegrationFailureType.EndpointBlocked],
    ['https://127.0.0.1:8443', [], IntegrationFailureType.EndpointBlocked],
    ['https://localhost:8443', [], IntegrationFailureType.EndpointBlocked],
    ['https://10.1.2.3', [], IntegrationFailureType.EndpointBlocked],
    ['https://192.168.0.10', [], IntegrationFailureType.EndpointBlocked],
    ['https://169.254.169.254/latest/meta-data', [], IntegrationFailureType.EndpointBlocked],
    ['https://100.64.0.1', [], IntegrationFailureType.EndpointBlocked],
    ['https://[::1]:8443', [], IntegrationFailureType.EndpointBlocked],
    ['https://[::ffff:10.0.0.1]', [], IntegrationFailureType.EndpointBlocked],
    ['https://[fd00::1]', [], IntegrationFailureType.EndpointBlocked],
    ['ftp://93.184.215.14', [], IntegrationFailureType.EndpointBlocked],
    ['not a url', [], IntegrationFailureType.EndpointBlocked],
    ['http://127.0.0.1:4010', ['127.0.0.1'], 'allowed'],
    ['http://localhost:4010', ['localhost'], 'allowed'],
    ['http://localhost:4010', ['127.0.0.0/8'], 'allowed'],
    ['http://10.1.2.3', ['10.0.0.0/8'], 'allowed'],
    ['http://10.1.2.3', ['10.2.0.0/16'], IntegrationFailureType.EndpointBlocked],
    ['https://[::ffff:10.0.0.1]', ['10.0.0.1'], 'allowed'],
    ['https://user:pw@93.184.215.14', [], IntegrationFailureType.EndpointBlocked],
    ['https://no-such-host.invalid', [], IntegrationFailureType.Unavailable],
  ])('%s with allow-list %j: %s', async (url, allowList, expected) => {
    expect(await endpointVerdict(url, allowList)).toBe(expected);
  });

  it('names the address and why in the refusal', async () => {
    await expect(assertEndpointAllowed('https://169.254.169.254/latest', undefined)).rejects.toThrow("the credential's address https://169.254.169.254: 169.254.169.254 is a cloud metadata address");
    await expect(assertEndpointAllowed('https://10.1.2.3', undefined)).rejects.toThrow('10.1.2.3 is a private address');
  });
});

describe('Retry-After', () => {
  const now = Date.parse('2025-03-01T12:00:00Z');
  it.each([
    ['7', 7000],
    [' 0 ', 0],
    ['1.5', 1500],
    [12, 12_000],
    ['Sat, 01 Mar 2025 12:00:30 GMT', 30_000],
    ['Sat, 01 Mar 2025 11:00:00 GMT', 0],
    ['86400', MAX_RETRY_AFTER_MS],
    ['soon', undefined],
    ['', undefined],
    [null, undefined],
    [undefined, undefined],
  ])('%j is %j ms', (header, expected) => {
    expect(parseRetryAfter(header, now)).toBe(expected);
  });
});

describe('HTTP status to failure type', () => {
  it.each([
    [400, IntegrationFailureType.Rejected],
    [401, IntegrationFailureType.AuthFailed],
    [403, IntegrationFailureType.AuthFailed],
    [404, IntegrationFailureType.NotFound],
    [408, IntegrationFailureType.Unavailable],
    [409, IntegrationFailureType.Unavailable],
    [413, IntegrationFailureType.Rejected],
    [422, IntegrationFailureType.Rejected],
    [429, IntegrationFailureType.RateLimited],
    [500, IntegrationFailureType.Unavailable],
    [503, IntegrationFailureType.Unavailable],
  ])('%i is %s', (status, type) => {
    expect(typeForHttpStatus(status)).toBe(type);
    expect(new IntegrationError(type, 'x').retryable).toBe([IntegrationFailureType.RateLimited, IntegrationFailureType.Unavailable].includes(type as never));
  });
});

describe('the Message-ID of an email step', () => {
  it.each([
    ['run_01jq2:notify', 'compliance@Acme.Test', '<run_01jq2.notify@acme.test>'],
    ['run_01jq2:notify#3', 'compliance@acme.test', '<run_01jq2.notify#3@acme.test>'],
    ['run_01jq2:loop/2 <x>', 'a@acme.test', '<run_01jq2.loop/2.x@acme.test>'],
    ['::', 'a@bad domain', '<message@localhost>'],
  ])('key %j from %s is %s', (key, sender, expected) => {
    expect(messageIdFor(key, sender)).toBe(expected);
  });
});

describe('mailboxes', () => {
  it.each([
    ['ada@example.org', { address: 'ada@example.org' }],
    ['  Ada Lovelace <ada@example.org> ', { name: 'Ada Lovelace', address: 'ada@example.org' }],
    ['"Lovelace, Ada" <ada@example.org>', { name: 'Lovelace, Ada', address: 'ada@example.org' }],
    ['<ada@example.org>', { address: 'ada@example.org' }],
    ['ada@example.org, grace@example.org', undefined],
    ['Ada <ada@example.org>\r\nBcc: x@y.z', undefined],
    ['Ada', undefined],
    ['ada@', undefined],
  ])('%j is %j', (text, expected) => {
    expect(parseMailbox(text)).toEqual(expected);
  });
});

describe('definitions using the integration actions, checked when saved', () => {
  const step = (action: string, params: Record<string, unknown>) => ({ trigger: { type: 'api' }, steps: [{ id: 'act', type: 'action', action, params }] });

  it.each([
    ['send_email', { credential: 'cred_01jqsmtpmain', to: '{{ trigger.name }} <{{ trigger.email }}>', subject: 'Hi {{ trigger.name }}', html: '<p>{{ trigger.name }}</p>' }],
    ['send_sms', { credential: 'cred_01jqtwiliomain', to: { $cel: 'trigger.phone' }, body: 'Code {{ trigger.code }}' }],
    ['send_slack_message', { credential: 'cred_01jqslackbot', channel: '#alerts', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '{{ trigger.summary }}' } }] }],
    ['update_salesforce', { credential: 'cred_01jqsf', object: 'Contact', externalIdField: 'Inquiry_Id__c', externalId: '{{ trigger.inquiryId }}', fields: { LastName: '{{ trigger.name }}' } }],
    ['update_hubspot', { credential: 'cred_01jqhs', object: 'contact', email: '{{ trigger.email }}', properties: { kyc_status: 'approved' } }],
    ['update_zendesk', { credential: 'cred_01jqzd', ticketId: { $cel: 'trigger.ticket' }, tags: { add: ['kyc_done'] }, status: 'solved' }],
  ])('%s with templated parameters is valid', (action, params) => {
    const result = validateDefinition(step(action, params), catalog);
    expect(result.ok ? [] : result.problems).toEqual([]);
  });

  it.each([
    ['send_email', { credential: 'cred_01jqsmtpmain', to: ['ok@example.org', 'nope'], subject: '{{ trigger.s }}', text: 'x' }, '/steps/0/params/to/1'],
    ['send_sms', { credential: 'cred_01jqtwiliomain', to: '0044 7700', body: '{{ trigger.b }}' }, '/steps/0/params/to'],
    ['send_slack_message', { credential: 'cred_01jqslackbot', channel: 'C1', blocks: [{ text: 'no type' }], text: '{{ trigger.t }}' }, '/steps/0/params/blocks/0/type'],
    ['update_salesforce', { credential: 'cred_01jqsf', object: 'Contact', recordId: '{{ trigger.id }}', fields: { 'Last Name': 'x' } }, '/steps/0/params/fields/Last Name'],
    ['update_hubspot', { credential: 'cred_01jqhs', object: 'lead', id: '{{ trigger.id }}', properties: { a: 'b' } }, '/steps/0/params/object'],
    ['update_zendesk', { credential: 'cred_01jqzd', ticketId: '{{ trigger.id }}', status: 'done' }, '/steps/0/params/status'],
  ])('%s: a static mistake is reported at %s', (action, params, path) => {
    const result = validateDefinition(step(action, params), catalog);
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.problems.map((p) => p.path)).toContain(path);
  });
});

describe('docs/actions.md', () => {
  const markdown = readFileSync(join(__dirname, '..', 'docs', 'actions.md'), 'utf8');
  const SECTIONS: Record<string, string> = {
    'Send Email': 'send_email',
    'Send SMS': 'send_sms',
    'Send Slack Message': 'send_slack_message',
    'Update Salesforce': 'update_salesforce',
    'Update HubSpot': 'update_hubspot',
    'Update Zendesk': 'update_zendesk',
  };

  it.each(Object.entries(SECTIONS))('the "%s" section has a valid example step of %s', (title, action) => {
    const start = markdown.indexOf(`\n## ${title}\n`);
    expect(start).toBeGreaterThanOrEqual(0);
    const next = markdown.indexOf('\n## ', start + 1);
    const section = markdown.slice(start, next < 0 ? undefined : next);
    const example = /```json\n([\s\S]*?)\n```/.exec(section);
    expect(example).not.toBeNull();
    const stepValue = JSON.parse(example![1]) as { action: string };
    expect(stepValue.action).toBe(action);
    const result = validateDefinition({ trigger: { type: 'api' }, steps: [stepValue] }, catalog);
    expect(result.ok ? [] : result.problems).toEqual([]);
    // Every failure type the action can raise is named in its section.
    const spec = catalog.get(action)!;
    const raised = [...(spec.policy.retry.nonRetryableErrorTypes ?? []), ...(spec.errorTypes ?? [])];
    expect(raised.filter((type) => !section.includes(type))).toEqual([]);
  });
});
