/**
 * Inquiry links, the whole loop against real peers: a published workflow
 * emails the applicant a link (through a loopback SMTP server) and waits for
 * `inquiry.completed`; the test opens the link from the received message,
 * submits the hosted form, and the waiting run wakes. Around it: the link is
 * single-use and expires, a bad submission is shown again with its errors and
 * changes nothing, unknown tokens show nothing, a retried send carries the
 * same link (one row), the SMS variant through a loopback Twilio, and the
 * docs/actions.md sections are valid steps naming every failure type.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { validateDefinition } from '../src/interpreter/validate';
import { api, createHarness, isClosed, publishWorkflow, startRun, stepOf, waitForRun, type Harness } from './support/harness';
import { activitiesOf, createCredentials, historyText } from './support/peers/action-runs';
import { SmtpPeer } from './support/peers/smtp-peer';
import { startTwilioPeer, type TwilioMessage } from './support/peers/twilio-peer';
import type { HttpPeer } from './support/peers/http-peer';

const mailer = { user: 'mailer@acme.test', password: 'smtp-password-2c9d' };
const account = { accountSid: `AC${'5e6f7a8b'.repeat(4)}`, authToken: 'twilio-auth-token-41c2' };
const LINK = /http:\/\/127\.0\.0\.1:\d+\/inquiry-links\/([A-Za-z0-9_-]{43})/;

let smtp: SmtpPeer;
let twilio: HttpPeer & { messages: TwilioMessage[] };
let h: Harness;
let cred: Record<'smtp' | 'twilio', string>;

beforeAll(async () => {
  [smtp, twilio] = await Promise.all([SmtpPeer.start(mailer), startTwilioPeer(account)]);
  h = await createHarness();
  cred = await createCredentials(h, {
    smtp: ['smtp', { host: '127.0.0.1', port: smtp.port, requireTLS: true, user: mailer.user, password: mailer.password, ca: smtp.certificate, from: 'Acme Compliance <compliance@acme.test>' }],
    twilio: ['twilio', { ...account, from: '+15005550006', baseUrl: twilio.url }],
  });
});
afterAll(async () => {
  await Promise.all([smtp?.close(), twilio?.close()]);
  await h?.close();
});
beforeEach(() => {
  smtp.reset();
  twilio.reset();
  twilio.messages.length = 0;
});

async function newInquiry(): Promise<string> {
  const res = await api(h, 'POST', '/v1/inquiries', { template: 'tmpl_kyc_basic' });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function linkRows(inquiryId: string): Promise<Array<{ id: string; channel: string; used: boolean }>> {
  const { rows } = await h.db.query<{ id: string; channel: string; used: boolean }>(
    'SELECT id, channel, used_at IS NOT NULL AS used FROM inquiry_links WHERE inquiry_id = $1 ORDER BY id',
    [inquiryId],
  );
  return rows;
}

/** One attempt of an action through the harness's registry (the worker's code path), as Temporal's activity environment runs it. */
async function attempt(action: string, params: unknown, info: { runId: string; stepId: string; attempt?: number }): Promise<{ ok: boolean; value?: any; failure?: any }> {
  const env = new MockActivityEnvironment(
    { activityId: info.stepId, attempt: info.attempt ?? 1, workflowExecution: { workflowId: info.runId, runId: 'temporal-run' } },
    { logger: new DefaultLogger('ERROR') },
  );
  try {
    return { ok: true, value: await env.run(h.registry.activities()[action], params) };
  } catch (failure) {
    return { ok: false, failure };
  }
}

const page = async (url: string, form?: Record<string, string>): Promise<{ status: number; html: string; headers: Headers }> => {
  const res = await fetch(url, form ? { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() } : {});
  return { status: res.status, html: await res.text(), headers: res.headers };
};

const ada = { name_first: 'Ada', name_last: 'Lovelace', birthdate: '1990-12-10', email: 'Ada@Example.org', phone: '+44 20 7946 0000', country: 'gb' };

describe('the whole loop: link emailed -> page opened -> form submitted -> waiting run wakes', () => {
  beforeAll(async () => {
    await publishWorkflow(h, 'invite_applicant', {
      trigger: { type: 'api', inputSchema: { type: 'object', required: ['inquiryId', 'email'], properties: { inquiryId: { type: 'string' }, email: { type: 'string' } } } },
      steps: [
        {
          id: 'send_link',
          type: 'action',
          action: 'send_inquiry_link_email',
          params: {
            inquiryId: '{{ trigger.inquiryId }}',
            credential: cred.smtp,
            to: '{{ trigger.email }}',
            subject: 'Please finish your verification',
            text: 'Hello, continue here: %LINK% (it works once).',
            html: '<p>Hello, <a href="%LINK%">continue here</a>.</p>',
            expiresIn: '1h',
          },
          next: 'await_details',
        },
        { id: 'await_details', type: 'wait_for_event', events: ['inquiry.completed'], object: 'trigger.inquiryId', timeout: '1h', onTimeout: 'fail' },
      ],
    });
  });

  it('completes the inquiry and wakes the run; the link then answers 410, and the token is nowhere in the run', async () => {
    const inquiryId = await newInquiry();
    // The first connection is refused at the greeting: Temporal retries, and the retry must not make a second link.
    smtp.deferConnections = 1;
    const runId = await startRun(h, 'invite_applicant', { inquiryId, email: 'ada@example.org' });
    await waitForRun(h, runId, (run) => run.state?.steps?.some((s: any) => s.id === 'await_details' && s.status === 'waiting'));

    expect(smtp.messages).toHaveLength(1);
    const { parsed } = smtp.messages[0];
    expect(parsed.subject).toBe('Please finish your verification');
    const inText = LINK.exec(parsed.text ?? '');
    const inHtml = LINK.exec(String(parsed.html));
    expect(inText).not.toBeNull();
    expect(parsed.text).toContain(`Hello, continue here: ${inText![0]} (it works once).`);
    expect(parsed.html).toContain(`<a href="${inText![0]}">continue here</a>`);
    expect(inHtml![0]).toBe(inText![0]);
    expect(await linkRows(inquiryId)).toEqual([{ id: expect.stringMatching(/^ilk_/), channel: 'email', used: false }]);
    expect(await activitiesOf(h, runId)).toEqual([{ activityType: 'send_inquiry_link_email', activityId: 'send_link', attempts: 2, outcome: 'completed' }]);

    const url = inText![0];
    const token = inText![1];
    const opened = await page(url);
    expect(opened.status).toBe(200);
    expect(opened.headers.get('content-type')).toMatch(/^text\/html/);
    expect(opened.headers.get('referrer-policy')).toBe('no-referrer');
    expect(opened.headers.get('cache-control')).toBe('no-store');
    expect(opened.html).toContain('<form method="post">');
    for (const field of ['name_first', 'name_last', 'birthdate', 'email', 'phone', 'country']) {
      expect(opened.html).toMatch(new RegExp(`<label for="${field}">[^<]+</label>\\n<input id="${field}" name="${field}"`));
    }

    const submitted = await page(url, ada);
    expect(submitted.status).toBe(200);
    expect(submitted.html).toContain('Thank you');

    const run = await waitForRun(h, runId, isClosed);
    expect(run.status).toBe('completed');
    const woke = stepOf(run, 'await_details');
    expect(woke).toMatchObject({ status: 'completed', output: { timedOut: false, event: { type: 'inquiry.completed', objectId: inquiryId } } });
    const sent = stepOf(run, 'send_link').output;
    expect(sent).toEqual({ linkId: (await linkRows(inquiryId))[0].id, expiresAt: expect.any(String), messageId: `<${runId}.send_link@acme.test>` });
    const minutesLeft = (Date.parse(sent.expiresAt) - Date.now()) / 60_000;
    expect(minutesLeft).toBeGreaterThan(55);
    expect(minutesLeft).toBeLessThanOrEqual(60);

    const inquiry = await api(h, 'GET', `/v1/inquiries/${inquiryId}`);
    expect(inquiry.body).toMatchObject({
      status: 'completed',
      fields: { name_first: 'Ada', name_last: 'Lovelace', birthdate: '1990-12-10', email: 'ada@example.org', phone: '+442079460000', country: 'GB' },
    });
    const events = await api(h, 'GET', `/v1/events?objectId=${inquiryId}`);
    expect(events.body.events.map((e: any) => e.type).sort()).toEqual(['inquiry.completed', 'inquiry.created', 'inquiry.pending', 'inquiry.updated']);

    expect(await linkRows(inquiryId)).toEqual([expect.objectContaining({ used: true })]);
    const again = await page(url);
    expect(again.status).toBe(410);
    expect(again.html).toContain('already been used');
    const resubmitted = await page(url, ada);
    expect(resubmitted.status).toBe(410);

    // Only the message carries the token: not the run's history, not the database.
    expect(await historyText(h, runId)).not.toContain(token);
    const { rows } = await h.db.query<{ dump: string }>('SELECT row_to_json(l)::text AS dump FROM inquiry_links l WHERE inquiry_id = $1', [inquiryId]);
    expect(rows[0].dump).not.toContain(token);
  });
});

describe('the hosted page', () => {
  it('answers 404 for an unknown or malformed token, showing nothing typed or stored', async () => {
    for (const token of ['A'.repeat(43), 'short', '..%2F..%2Fetc']) {
      const res = await page(`${h.baseUrl}/inquiry-links/${token}`);
      expect(res.status).toBe(404);
      expect(res.html).toContain('not valid');
    }
    const posted = await page(`${h.baseUrl}/inquiry-links/${'B'.repeat(43)}`, { ...ada, name_last: 'Secretname' });
    expect(posted.status).toBe(404);
    expect(posted.html).not.toContain('Secretname');
  });

  it('shows a refused submission again with its errors, escaped, and changes nothing', async () => {
    const inquiryId = await newInquiry();
    const sent = await attempt('send_inquiry_link_email', { inquiryId, credential: cred.smtp, to: 'ada@example.org' }, { runId: 'run_01badform', stepId: 'invite' });
    expect(sent.ok).toBe(true);
    const url = LINK.exec(smtp.messages[0].parsed.text ?? '')![0];

    const res = await page(url, { name_first: '<script>alert(1)</script>', name_last: '', birthdate: '2999-01-01', email: 'not-an-email', phone: '', country: 'Germany' });
    expect(res.status).toBe(400);
    expect(res.html).toContain('value="&lt;script&gt;alert(1)&lt;/script&gt;"');
    expect(res.html).not.toContain('<script>');
    expect(res.html).toContain('<p class="error" id="name_last-error">Please enter this field.</p>');
    expect(res.html).toContain('<p class="error" id="birthdate-error">must not be in the future</p>');
    expect(res.html).toMatch(/id="email-error">must be an email address</);
    expect(res.html).toMatch(/id="country-error">must be an ISO 3166-1 alpha-2 country code/);
    expect(res.html).not.toContain('id="phone-error"');
    expect(res.html).toContain('aria-describedby="birthdate-error"');

    expect((await api(h, 'GET', `/v1/inquiries/${inquiryId}`)).body).toMatchObject({ status: 'created', fields: { name_first: null } });
    expect(await linkRows(inquiryId)).toEqual([expect.objectContaining({ used: false })]);
    // Still usable after the refusal; a pending inquiry completes straight away.
    await api(h, 'POST', `/v1/inquiries/${inquiryId}/submit`);
    expect((await page(url, { ...ada, email: '', phone: '' })).status).toBe(200);
    expect((await api(h, 'GET', `/v1/inquiries/${inquiryId}`)).body).toMatchObject({ status: 'completed', fields: { name_first: 'Ada', email: null } });
  });

  it('answers 410 for an expired link and does not complete the inquiry', async () => {
    const inquiryId = await newInquiry();
    const sent = await attempt('send_inquiry_link_email', { inquiryId, credential: cred.smtp, to: 'ada@example.org', expiresIn: '1s' }, { runId: 'run_01expiry', stepId: 'invite' });
    expect(sent.ok).toBe(true);
    const url = LINK.exec(smtp.messages[0].parsed.text ?? '')![0];
    expect((await page(url)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1_200));
    const res = await page(url);
    expect(res.status).toBe(410);
    expect(res.html).toContain('expired');
    expect((await page(url, ada)).status).toBe(410);
    expect((await api(h, 'GET', `/v1/inquiries/${inquiryId}`)).body.status).toBe('created');
  });

  it('answers 410 when the inquiry was decided by another path since the link was sent', async () => {
    const inquiryId = await newInquiry();
    expect((await attempt('send_inquiry_link_email', { inquiryId, credential: cred.smtp, to: 'ada@example.org' }, { runId: 'run_01closed', stepId: 'invite' })).ok).toBe(true);
    const url = LINK.exec(smtp.messages[0].parsed.text ?? '')![0];
    await api(h, 'POST', `/v1/inquiries/${inquiryId}/expire`);
    const res = await page(url, ada);
    expect(res.status).toBe(410);
    // The whole submission rolled back: neither the fields nor the link changed.
    expect((await api(h, 'GET', `/v1/inquiries/${inquiryId}`)).body).toMatchObject({ status: 'expired', fields: { name_first: null } });
    expect(await linkRows(inquiryId)).toEqual([expect.objectContaining({ used: false })]);
  });
});

describe('sending', () => {
  it('a retried attempt of the same step re-sends the same link and makes no second one', async () => {
    const inquiryId = await newInquiry();
    const params = { inquiryId, credential: cred.smtp, to: 'ada@example.org' };
    const first = await attempt('send_inquiry_link_email', params, { runId: 'run_01retry', stepId: 'invite', attempt: 1 });
    const second = await attempt('send_inquiry_link_email', params, { runId: 'run_01retry', stepId: 'invite', attempt: 2 });
    expect(second.value).toEqual(first.value);
    const links = smtp.messages.map((m) => LINK.exec(m.parsed.text ?? '')![0]);
    expect(links).toHaveLength(2);
    expect(links[1]).toBe(links[0]);
    // The default text when the step gives no body.
    expect(smtp.messages[0].parsed.text).toContain('Please continue your verification here:');
    expect(smtp.messages[0].parsed.subject).toBe('Continue your verification');
    expect(await linkRows(inquiryId)).toHaveLength(1);

    // Another step is another link.
    await attempt('send_inquiry_link_email', params, { runId: 'run_01retry', stepId: 'remind' });
    expect(await linkRows(inquiryId)).toHaveLength(2);
    expect(LINK.exec(smtp.messages[2].parsed.text ?? '')![0]).not.toBe(links[0]);
  });

  it('by SMS through Twilio: the body gets a working link appended, and a retry sends the same one', async () => {
    const inquiryId = await newInquiry();
    const params = { inquiryId, credential: cred.twilio, to: '+14155550100', body: 'Acme: finish your verification at' };
    const first = await attempt('send_inquiry_link_sms', params, { runId: 'run_01sms', stepId: 'text_link' });
    expect(first.ok).toBe(true);
    expect(first.value).toEqual({ linkId: expect.stringMatching(/^ilk_/), expiresAt: expect.any(String), sid: twilio.messages[0].sid });
    const days = (Date.parse(first.value.expiresAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.99);
    expect(days).toBeLessThanOrEqual(7);

    const [message] = twilio.messages;
    expect(message.to).toBe('+14155550100');
    expect(message.from).toBe('+15005550006');
    expect(message.idempotencyToken).toBe('run_01sms:text_link');
    const url = LINK.exec(message.body)![0];
    expect(message.body).toBe(`Acme: finish your verification at ${url}`);

    const retried = await attempt('send_inquiry_link_sms', params, { runId: 'run_01sms', stepId: 'text_link', attempt: 2 });
    expect(retried.value.linkId).toBe(first.value.linkId);
    expect(twilio.messages[1].body).toBe(message.body);
    expect(await linkRows(inquiryId)).toEqual([expect.objectContaining({ channel: 'sms' })]);

    expect((await page(url)).status).toBe(200);
    expect((await page(url, ada)).status).toBe(200);
    expect((await api(h, 'GET', `/v1/inquiries/${inquiryId}`)).body.status).toBe('completed');
  });

  it.each([
    ['an inquiry that is no longer open', 'InquiryNotOpen', 'is completed; links can only be sent while it is created or pending'],
    ['an inquiry that does not exist', 'ObjectNotFound', 'inq_01nosuchinquiry000000000'],
  ])('fails at once, sending nothing, for %s', async (_what, type, message) => {
    let inquiryId = 'inq_01nosuchinquiry000000000';
    if (type === 'InquiryNotOpen') {
      inquiryId = await newInquiry();
      await api(h, 'POST', `/v1/inquiries/${inquiryId}/submit`);
      await api(h, 'POST', `/v1/inquiries/${inquiryId}/complete`);
    }
    const outcome = await attempt('send_inquiry_link_email', { inquiryId, credential: cred.smtp, to: 'ada@example.org' }, { runId: `run_01${type.toLowerCase()}`, stepId: 'invite' });
    expect(outcome.failure).toMatchObject({ type, nonRetryable: true });
    expect(outcome.failure.message).toContain(message);
    expect(smtp.connections).toHaveLength(0);
  });

  it.each([
    ['/expiresIn: must be at most 30 days', { expiresIn: '31d' }],
    ['/expiresIn: must be a duration', { expiresIn: 'soon' }],
    ['/inquiryId: must be a inquiry id', { inquiryId: 'case_01x' }],
    ['/to/0:', { to: 'not an address' }],
    ['Unrecognized key', { cc: 'someone@example.org' }],
  ])('rejects params, reporting %s, without connecting', async (message, change) => {
    const outcome = await attempt('send_inquiry_link_email', { inquiryId: 'inq_01x', credential: cred.smtp, to: 'ada@example.org', ...change }, { runId: 'run_01params', stepId: 'invite' });
    expect(outcome.failure).toMatchObject({ type: 'InvalidActionParams', nonRetryable: true });
    expect(outcome.failure.message).toContain(message);
    expect(smtp.connections).toHaveLength(0);
  });
});

describe('docs/actions.md', () => {
  const markdown = readFileSync(join(__dirname, '..', 'docs', 'actions.md'), 'utf8');
  it.each([
    ['Inquiry Link Email', 'send_inquiry_link_email'],
    ['Inquiry Link SMS', 'send_inquiry_link_sms'],
  ])('the "%s" section has a valid example step of %s naming every failure type', (title, action) => {
    const start = markdown.indexOf(`\n## ${title}\n`);
    expect(start).toBeGreaterThanOrEqual(0);
    const next = markdown.indexOf('\n## ', start + 1);
    const section = markdown.slice(start, next < 0 ? undefined : next);
    const example = /```json\n([\s\S]*?)\n```/.exec(section);
    expect(example).not.toBeNull();
    const step = JSON.parse(example![1]) as { action: string };
    expect(step.action).toBe(action);
    const catalog = h.registry.catalog;
    const result = validateDefinition({ trigger: { type: 'api' }, steps: [step] }, catalog);
    expect(result.ok ? [] : result.problems).toEqual([]);
    const spec = catalog.get(action)!;
    const raised = [...(spec.policy.retry.nonRetryableErrorTypes ?? []), ...(spec.errorTypes ?? [])];
    expect(raised.filter((type) => !section.includes(type))).toEqual([]);
  });
});
