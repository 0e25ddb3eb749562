/**
 * send_email against a real SMTP server on loopback (smtp-server): the
 * message as received and parsed with mailparser (addresses, subject, text
 * and html, Message-ID from the idempotency key), STARTTLS and implicit TLS
 * negotiated, AUTH used; SMTP's answers mapped (550 final, 421 retried, 535
 * a refused login, an untrusted certificate); parameter and credential
 * failures; and runs of a published workflow on the dev server.
 */
import { IntegrationFailureType } from '../src/integrations/errors';
import { createHarness, isClosed, publishWorkflow, startRun, stepOf, waitForRun, type Harness } from './support/harness';
import { activitiesOf, createCredentials, historyText, LOOPBACK_NETWORK, runAction } from './support/peers/action-runs';
import { SmtpPeer } from './support/peers/smtp-peer';

const mailer = { user: 'mailer@acme.test', password: 'smtp-password-5b1e' };

let starttls: SmtpPeer;
let implicitTls: SmtpPeer;
let plaintext: SmtpPeer;
let h: Harness;
let cred: Record<string, string>;

beforeAll(async () => {
  [starttls, implicitTls, plaintext] = await Promise.all([SmtpPeer.start(mailer), SmtpPeer.start({ ...mailer, implicitTls: true }), SmtpPeer.start({ ...mailer, plaintextOnly: true })]);
  const relay = { host: '127.0.0.1', port: starttls.port, requireTLS: true, user: mailer.user, password: mailer.password, ca: starttls.certificate };
  h = await createHarness();
  cred = await createCredentials(h, {
    smtp_relay: ['smtp', relay],
    smtp_with_from: ['smtp', { ...relay, from: 'Acme Compliance <compliance@acme.test>' }],
    smtp_implicit_tls: ['smtp', { host: '127.0.0.1', port: implicitTls.port, secure: true, user: mailer.user, password: mailer.password, ca: implicitTls.certificate }],
    smtp_wrong_password: ['smtp', { ...relay, password: 'guess' }],
    smtp_untrusted: ['smtp', { ...relay, ca: undefined }],
    smtp_nowhere: ['smtp', { ...relay, port: 9 }],
    slack_bot: ['slack', { token: 'xoxb-1' }],
    // Only host, port and login: every other setting is the default.
    smtp_defaults_starttls: ['smtp', { host: '127.0.0.1', port: starttls.port, user: mailer.user, password: mailer.password, ca: starttls.certificate }],
    smtp_defaults_plaintext: ['smtp', { host: '127.0.0.1', port: plaintext.port, user: mailer.user, password: mailer.password }],
    // What the old defaults stored (requireTLS: false) for the same relay.
    smtp_old_defaults_plaintext: ['smtp', { host: '127.0.0.1', port: plaintext.port, secure: false, requireTLS: false, user: mailer.user, password: mailer.password }],
    smtp_plaintext_opt_in: ['smtp', { host: '127.0.0.1', port: plaintext.port, requireTLS: false, allowPlaintextAuth: true, user: mailer.user, password: mailer.password }],
    // By name: connected to the address the guard resolved, the certificate checked against the name.
    smtp_by_name: ['smtp', { host: 'localhost', port: starttls.port, user: mailer.user, password: mailer.password, ca: starttls.certificate }],
  });
});
afterAll(async () => {
  await Promise.all([starttls?.close(), implicitTls?.close(), plaintext?.close()]);
  await h?.close();
});
beforeEach(() => {
  starttls.reset();
  implicitTls.reset();
  plaintext.reset();
});

const deps = () => ({ credentials: h.credentials, network: LOOPBACK_NETWORK, credentialIds: cred });
const email = {
  credential: 'smtp_relay',
  from: 'Acme Compliance <compliance@acme.test>',
  to: ['Ada Lovelace <ada@example.org>', 'grace@example.org'],
  cc: 'reviewer@acme.test',
  bcc: ['audit@acme.test'],
  replyTo: 'support@acme.test',
  subject: 'Your verification is complete — thank you',
  text: 'Hello Ada,\nyour identity verification is complete.',
  html: '<p>Hello <b>Ada</b>,</p><p>your identity verification is complete.</p>',
};

describe('send_email: the message the SMTP server receives', () => {
  it('arrives over STARTTLS after AUTH, with every address, both bodies and the step\'s Message-ID', async () => {
    const outcome = await runAction(deps(), 'send_email', email, { runId: 'run_01mail', stepId: 'welcome' });
    expect(outcome.ok).toBe(true);
    expect(outcome.value).toEqual({
      messageId: '<run_01mail.welcome@acme.test>',
      accepted: ['ada@example.org', 'grace@example.org', 'reviewer@acme.test', 'audit@acme.test'],
      rejected: [],
    });

    expect(starttls.messages).toHaveLength(1);
    const [received] = starttls.messages;
    expect(received.secure).toBe(true);
    expect(received.tlsProtocol).toMatch(/^TLSv1\.[23]$/);
    expect(received.user).toBe(mailer.user);
    expect(received.authMethod).toBe('PLAIN');
    expect(received.envelope).toEqual({
      mailFrom: 'compliance@acme.test',
      rcptTo: ['ada@example.org', 'grace@example.org', 'reviewer@acme.test', 'audit@acme.test'],
    });

    const { parsed } = received;
    expect(parsed.messageId).toBe('<run_01mail.welcome@acme.test>');
    expect(parsed.from?.value).toEqual([{ name: 'Acme Compliance', address: 'compliance@acme.test' }]);
    expect(parsed.to && !Array.isArray(parsed.to) ? parsed.to.value : undefined).toEqual([
      { name: 'Ada Lovelace', address: 'ada@example.org' },
      { name: '', address: 'grace@example.org' },
    ]);
    expect(parsed.cc && !Array.isArray(parsed.cc) ? parsed.cc.text : undefined).toBe('reviewer@acme.test');
    expect(parsed.replyTo?.text).toBe('support@acme.test');
    // Bcc goes only into the envelope, never into the headers the other recipients see.
    expect(parsed.bcc).toBeUndefined();
    expect(received.raw).not.toMatch(/^bcc:/im);
    expect(parsed.subject).toBe(email.subject);
    expect(parsed.text?.trim()).toBe(email.text);
    expect(parsed.html).toBe(email.html);
  });

  it('uses TLS from the first byte when the credential says secure', async () => {
    const outcome = await runAction(deps(), 'send_email', { ...email, credential: 'smtp_implicit_tls', cc: undefined, bcc: undefined });
    expect(outcome.ok).toBe(true);
    expect(implicitTls.messages).toHaveLength(1);
    expect(implicitTls.messages[0]).toMatchObject({ secure: true, user: mailer.user });
    expect(starttls.messages).toHaveLength(0);
  });

  it('takes the credential\'s from address when the step names none, and sends a text-only email', async () => {
    const outcome = await runAction(deps(), 'send_email', { credential: 'smtp_with_from', to: 'ada@example.org', subject: 'Plain', text: 'Only text' });
    expect(outcome.ok).toBe(true);
    const { parsed } = starttls.messages[0];
    expect(parsed.from?.value).toEqual([{ name: 'Acme Compliance', address: 'compliance@acme.test' }]);
    expect(parsed.text?.trim()).toBe('Only text');
    expect(parsed.html).toBe(false);
  });

  it('gives every attempt of a step the same Message-ID, so a duplicate is recognisable', async () => {
    await runAction(deps(), 'send_email', email, { runId: 'run_01dup', stepId: 'notify', attempt: 1 });
    await runAction(deps(), 'send_email', email, { runId: 'run_01dup', stepId: 'notify', attempt: 2 });
    await runAction(deps(), 'send_email', email, { runId: 'run_01dup', stepId: 'remind', attempt: 1 });
    expect(starttls.messages.map((m) => m.parsed.messageId)).toEqual(['<run_01dup.notify@acme.test>', '<run_01dup.notify@acme.test>', '<run_01dup.remind@acme.test>']);
  });
});

describe('send_email: the password never travels in clear text unless the credential says so (finding 16)', () => {
  it('with the default settings, a relay that offers no STARTTLS never receives the password: IntegrationTlsFailed, not retried, nothing sent', async () => {
    for (const credential of ['smtp_defaults_plaintext', 'smtp_old_defaults_plaintext']) {
      const outcome = await runAction(deps(), 'send_email', { ...email, credential });
      expect([credential, outcome.failure?.type, outcome.failure?.nonRetryable]).toEqual([credential, IntegrationFailureType.TlsFailed, true]);
      expect(outcome.failure.message).toContain('nothing was sent without TLS');
      expect(outcome.failure.message).toContain('allowPlaintextAuth: true');
    }
    expect(plaintext.connections).toHaveLength(2);
    expect(plaintext.authAttempts).toEqual([]);
    expect(plaintext.messages).toHaveLength(0);
  });

  it('with the default settings, a relay that offers STARTTLS gets the login only after TLS', async () => {
    const outcome = await runAction(deps(), 'send_email', { ...email, credential: 'smtp_defaults_starttls' });
    expect(outcome.ok).toBe(true);
    expect(starttls.authAttempts).toEqual([{ username: mailer.user, password: mailer.password, secure: true }]);
    expect(starttls.messages[0]).toMatchObject({ secure: true, user: mailer.user });
  });

  it('only allowPlaintextAuth: true sends the login to a relay without TLS', async () => {
    const outcome = await runAction(deps(), 'send_email', { ...email, credential: 'smtp_plaintext_opt_in' });
    expect(outcome.ok).toBe(true);
    expect(plaintext.authAttempts).toEqual([{ username: mailer.user, password: mailer.password, secure: false }]);
    expect(plaintext.messages).toHaveLength(1);
  });
});

describe('send_email: the relay\'s host goes through the SSRF guard (finding 10)', () => {
  it('a relay on an address the allow-list does not name is refused before connecting: IntegrationEndpointBlocked, not retried', async () => {
    const outcome = await runAction({ credentials: h.credentials, network: { allowList: [] }, credentialIds: cred }, 'send_email', email);
    expect(outcome.failure).toMatchObject({ type: IntegrationFailureType.EndpointBlocked, nonRetryable: true });
    expect(outcome.failure.message).toContain("127.0.0.1 is a loopback address; only an operator's network allow-list can open it");
    expect(starttls.connections).toHaveLength(0);
  });

  it('a relay named by host name is reached at the address the guard checked, over TLS verified against the name', async () => {
    const outcome = await runAction({ credentials: h.credentials, network: { allowList: ['localhost'] }, credentialIds: cred }, 'send_email', { ...email, credential: 'smtp_by_name' });
    expect(outcome.ok).toBe(true);
    expect(starttls.messages).toHaveLength(1);
    expect(starttls.messages[0]).toMatchObject({ secure: true, user: mailer.user, servername: 'localhost' });
    // The same name without the allow-list entry: refused before connecting.
    const refused = await runAction({ credentials: h.credentials, network: { allowList: [] }, credentialIds: cred }, 'send_email', { ...email, credential: 'smtp_by_name' });
    expect(refused.failure).toMatchObject({ type: IntegrationFailureType.EndpointBlocked, nonRetryable: true });
    expect(refused.failure.message).toMatch(/localhost resolves to (127\.0\.0\.1|::1), a loopback address/);
    expect(starttls.connections).toHaveLength(1);
  });
});

describe('send_email: SMTP answers', () => {
  it('reports a recipient the server refused while the others are accepted', async () => {
    starttls.rejectRecipients.add('grace@example.org');
    const outcome = await runAction(deps(), 'send_email', email);
    expect(outcome.ok).toBe(true);
    expect(outcome.value.rejected).toEqual(['grace@example.org']);
    expect(starttls.messages[0].envelope.rcptTo).not.toContain('grace@example.org');
  });

  it('550 for every recipient: IntegrationRejected, not retried', async () => {
    starttls.rejectRecipients.add('ada@example.org');
    const outcome = await runAction(deps(), 'send_email', { ...email, to: 'ada@example.org', cc: undefined, bcc: undefined });
    expect(outcome.failure).toMatchObject({ type: IntegrationFailureType.Rejected, nonRetryable: true });
    expect(outcome.failure.message).toContain('550 Mailbox unavailable');
    expect(outcome.failure.details).toEqual([{ service: 'SMTP', status: 550, code: 'EENVELOPE' }]);
    expect(starttls.messages).toHaveLength(0);
  });

  it('421 at the greeting: IntegrationUnavailable, retryable', async () => {
    starttls.deferConnections = 1;
    const outcome = await runAction(deps(), 'send_email', email);
    expect(outcome.failure).toMatchObject({ type: IntegrationFailureType.Unavailable, nonRetryable: false });
    expect(outcome.failure.message).toContain('421');
  });

  it('535 for a wrong password: IntegrationAuthFailed, not retried, and the password is not in the failure', async () => {
    const outcome = await runAction(deps(), 'send_email', { ...email, credential: 'smtp_wrong_password' });
    expect(outcome.failure).toMatchObject({ type: IntegrationFailureType.AuthFailed, nonRetryable: true });
    expect(outcome.failure.message).toContain('535');
    expect(outcome.failure.message).not.toContain('guess');
  });

  it('a server certificate nobody vouches for: IntegrationTlsFailed, not retried, nothing sent', async () => {
    const outcome = await runAction(deps(), 'send_email', { ...email, credential: 'smtp_untrusted' });
    expect(outcome.failure).toMatchObject({ type: IntegrationFailureType.TlsFailed, nonRetryable: true });
    expect(outcome.failure.message).toContain('self-signed certificate');
    expect(starttls.messages).toHaveLength(0);
  });

  it('a refused connection: IntegrationUnavailable, retryable', async () => {
    const outcome = await runAction(deps(), 'send_email', { ...email, credential: 'smtp_nowhere' });
    expect(outcome.failure).toMatchObject({ type: IntegrationFailureType.Unavailable, nonRetryable: false });
    expect(outcome.failure.message).toContain('ECONNREFUSED');
  });
});

describe('send_email: parameters and credentials', () => {
  it.each([
    ['/to/0: "not an address" is not an email address or "Name <address>"', { ...email, to: 'not an address' }],
    ['/to: give at least one to address', { ...email, to: [] }],
    ['/cc/1:', { ...email, cc: ['ok@acme.test', 'broken@'] }],
    ['/subject: must be a single line', { ...email, subject: 'Hello\r\nBcc: victim@example.org' }],
    ['/subject: an email needs a subject', { ...email, subject: '' }],
    ['Unrecognized key', { ...email, attachments: [{ path: '/etc/passwd' }] }],
    ['/text: give a text or an html body (or both)', { ...email, text: undefined, html: undefined }],
    ['/from: give a from address, or set a default one on the smtp credential', { ...email, from: undefined }],
  ])('rejects the params, reporting %s, without connecting', async (message, params) => {
    const outcome = await runAction(deps(), 'send_email', params);
    expect(outcome.failure).toMatchObject({ type: 'InvalidActionParams', nonRetryable: true });
    expect(outcome.failure.message).toContain(message);
    expect(starttls.connections).toHaveLength(0);
  });

  it('fails clearly without a credential resolver and for a credential of another kind', async () => {
    const none = await runAction({ network: LOOPBACK_NETWORK, credentialIds: cred }, 'send_email', email);
    expect(none.failure).toMatchObject({ type: IntegrationFailureType.CredentialError, nonRetryable: true });
    const wrongKind = await runAction(deps(), 'send_email', { ...email, credential: 'slack_bot' });
    expect(wrongKind.failure).toMatchObject({ type: IntegrationFailureType.CredentialError, nonRetryable: true });
    expect(wrongKind.failure.message).toContain('is of kind slack; this step needs one of kind smtp');
    expect(starttls.connections).toHaveLength(0);
  });
});

describe('send_email in a run of a published workflow', () => {
  beforeAll(async () => {
    await publishWorkflow(h, 'email_applicant', {
      trigger: { type: 'api', inputSchema: { type: 'object', required: ['email', 'name'], properties: { email: { type: 'string' }, name: { type: 'string' } } } },
      steps: [
        {
          id: 'confirm',
          type: 'action',
          name: 'Confirm the verification',
          action: 'send_email',
          params: {
            credential: cred.smtp_with_from,
            to: '{{ trigger.name }} <{{ trigger.email }}>',
            subject: 'Thank you, {{ trigger.name }}',
            text: 'Hello {{ trigger.name }}, we have verified your identity.',
            html: '<p>Hello {{ trigger.name }}, we have verified your identity.</p>',
          },
        },
      ],
    });
  });
  it('is retried after a 421, delivers one message, and shows send_email in history without the password', async () => {
    starttls.deferConnections = 1;
    const runId = await startRun(h, 'email_applicant', { email: 'ada@example.org', name: 'Ada' });
    const run = await waitForRun(h, runId, isClosed);

    expect(run.status).toBe('completed');
    expect(starttls.connections.map((c) => c.deferred)).toEqual([true, false]);
    expect(starttls.messages).toHaveLength(1);
    const { parsed } = starttls.messages[0];
    expect(parsed.subject).toBe('Thank you, Ada');
    expect(parsed.to && !Array.isArray(parsed.to) ? parsed.to.value : undefined).toEqual([{ name: 'Ada', address: 'ada@example.org' }]);
    expect(parsed.messageId).toBe(`<${runId}.confirm@acme.test>`);
    expect(stepOf(run, 'confirm')).toMatchObject({ status: 'completed', output: { messageId: parsed.messageId, accepted: ['ada@example.org'], rejected: [] } });

    expect(await activitiesOf(h, runId)).toEqual([{ activityType: 'send_email', activityId: 'confirm', attempts: 2, outcome: 'completed' }]);
    const history = await historyText(h, runId);
    expect(history).toContain(cred.smtp_with_from);
    expect(history).not.toContain(mailer.password);
  });

  it('fails the step at once when the server answers 550', async () => {
    starttls.rejectRecipients.add('nobody@example.org');
    const runId = await startRun(h, 'email_applicant', { email: 'nobody@example.org', name: 'Nobody' });
    const run = await waitForRun(h, runId, isClosed);

    expect(run.status).toBe('failed');
    expect(stepOf(run, 'confirm')).toMatchObject({ status: 'failed', error: { type: IntegrationFailureType.Rejected } });
    expect(starttls.connections).toHaveLength(1);
    expect(await activitiesOf(h, runId)).toEqual([{ activityType: 'send_email', activityId: 'confirm', attempts: 1, outcome: 'failed' }]);
  });
});

describe('send_email: Liquid output in the html body is escaped', () => {
  beforeAll(async () => {
    await publishWorkflow(h, 'email_escaped', {
      trigger: { type: 'api', inputSchema: { type: 'object', required: ['company', 'banner'], properties: { company: { type: 'string' }, banner: { type: 'string' } } } },
      steps: [
        {
          id: 'notify',
          type: 'action',
          action: 'send_email',
          params: {
            credential: cred.smtp_with_from,
            to: 'ada@example.org',
            subject: 'New customer: {{ trigger.company }}',
            text: 'New customer: {{ trigger.company }}',
            html: '<p>New customer: {{ trigger.company }}</p>{{ trigger.banner | raw }}',
          },
        },
      ],
    });
  });
  it('arrives with the trigger\'s markup as text in the HTML, raw in the text body, and `| raw` output unescaped', async () => {
    const runId = await startRun(h, 'email_escaped', { company: '<i>VIP</i> & co', banner: '<hr class="banner">' });
    const run = await waitForRun(h, runId, isClosed);

    expect(run.status).toBe('completed');
    expect(starttls.messages).toHaveLength(1);
    const { parsed } = starttls.messages[0];
    expect(parsed.html).toBe('<p>New customer: &lt;i&gt;VIP&lt;/i&gt; &amp; co</p><hr class="banner">');
    expect(parsed.text?.trim()).toBe('New customer: <i>VIP</i> & co');
    expect(parsed.subject).toBe('New customer: <i>VIP</i> & co');
  });
});
