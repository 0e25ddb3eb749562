/**
 * Sending one email over SMTP with nodemailer, with the settings of an
 * `smtp` credential: host and port, implicit TLS (`secure`) or STARTTLS
 * (`requireTLS`, the default, refuses to go on without it; with it off,
 * STARTTLS is still used whenever offered), user and password, and an extra
 * CA for a private relay. A login is never sent without TLS unless the
 * credential says `allowPlaintextAuth: true`. The relay's host is checked
 * by the SSRF guard (HTTP_ALLOW_LIST) and the connection goes to exactly
 * the address checked; the certificate is still verified against the name.
 *
 * SMTP has no idempotency: a relay cannot tell a retried message from a new
 * one. What we can do is give every attempt of the same step the same
 * Message-ID (made from the step's idempotency key), so a duplicate is
 * recognisable, and mail systems that collapse duplicates by Message-ID do.
 */
import { rootCertificates } from 'node:tls';
import nodemailer from 'nodemailer';
import { isIP } from 'node:net';
import { smtpUrl } from '../credentials/endpoints';
import type { CredentialSecret } from '../credentials/kinds';
import type { NetworkPolicy } from '../activities';
import { assertEndpointAllowed } from './endpoint-guard';
import { IntegrationError, IntegrationFailureType } from './errors';

export interface Mailbox {
  name?: string;
  address: string;
}

export interface EmailMessage {
  from: Mailbox;
  to: Mailbox[];
  cc: Mailbox[];
  bcc: Mailbox[];
  replyTo: Mailbox[];
  subject: string;
  text?: string;
  html?: string;
}

export interface EmailSent {
  messageId: string;
  accepted: string[];
  rejected: string[];
}

type SmtpSecret = CredentialSecret<'smtp'>;

/** SMTP replies that say the login itself was refused. */
const AUTH_REPLY_CODES = new Set([530, 534, 535, 538]);

/** Node's codes for a server certificate it does not trust (or that does not match the host). */
const CERTIFICATE_ERROR = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH/;

/** Whether this credential's settings insist on TLS before anything (or before its login) is sent. */
export function mustUseTls(secret: SmtpSecret): boolean {
  return !secret.secure && (secret.requireTLS || (secret.user !== undefined && !secret.allowPlaintextAuth));
}

export async function sendEmail(
  secret: SmtpSecret,
  message: EmailMessage,
  /** `network`: the operator's allow-list the relay's host is checked against (required, so no caller forgets it). */
  options: { messageId: string; signal?: AbortSignal; network: NetworkPolicy | undefined },
): Promise<EmailSent> {
  const destination = await assertEndpointAllowed(smtpUrl(secret.host, secret.port), options.network);
  const requireTLS = mustUseTls(secret);
  // One of the addresses the guard checked (no second DNS answer), IPv4 first as most relays listen there;
  // the certificate is still checked against the name.
  const address = destination.addresses.find((a) => a.family === 4) ?? destination.addresses[0];
  const transport = nodemailer.createTransport({
    host: address.address,
    port: secret.port,
    ...(isIP(destination.hostname) ? {} : { servername: destination.hostname }),
    secure: secret.secure,
    requireTLS,
    auth: secret.user ? { user: secret.user, pass: secret.password ?? '' } : undefined,
    tls: {
      minVersion: 'TLSv1.2',
      // A private relay's CA is trusted in addition to the public roots, not instead of them.
      ...(secret.ca ? { ca: [...rootCertificates, secret.ca] } : {}),
    },
    // Well inside the action's 30 s attempt, so a dead relay fails as a retryable error of ours.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
    // Bodies are workflow data; nothing in them may make the worker read files or fetch URLs.
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
  });
  try {
    const info = await transport.sendMail({
      messageId: options.messageId,
      from: message.from,
      to: message.to,
      cc: message.cc.length > 0 ? message.cc : undefined,
      bcc: message.bcc.length > 0 ? message.bcc : undefined,
      replyTo: message.replyTo.length > 0 ? message.replyTo : undefined,
      subject: message.subject,
      text: message.text,
      html: message.html,
      signal: options.signal,
    });
    return {
      messageId: info.messageId,
      accepted: (info.accepted ?? []).map(String),
      rejected: (info.rejected ?? []).map(String),
    };
  } catch (err) {
    throw smtpError(err);
  } finally {
    transport.close();
  }
}

/**
 * A Message-ID that is the same for every attempt of one step of one run:
 * `<run_01h...step_id@sender-domain>`. The key's characters outside RFC
 * 5322's dot-atom become dots, so the id stays readable in mail logs.
 */
export function messageIdFor(idempotencyKey: string, senderAddress: string): string {
  const local = idempotencyKey.replace(/[^A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+/g, '.').replace(/^\.+|\.+$/g, '') || 'message';
  const domain = senderAddress.split('@').pop()?.toLowerCase() ?? '';
  return `<${local}@${/^[a-z0-9.-]+$/.test(domain) ? domain : 'localhost'}>`;
}

/** RFC 5321: 5yz is final (except 503, a session-state complaint); 4yz and dropped connections are worth another attempt. */
export function smtpError(err: unknown): IntegrationError {
  const e = err as { code?: string; responseCode?: number; response?: string; message?: string };
  const reply = (e.response ?? e.message ?? String(err)).trim();
  const details = { status: e.responseCode, code: e.code };
  // Before the reply codes: a refused STARTTLS carries the server's "not recognised" reply, but it is a TLS failure.
  if (e.code === 'ETLS' && (err as { command?: string }).command === 'STARTTLS' && typeof e.responseCode === 'number') {
    return new IntegrationError(
      IntegrationFailureType.TlsFailed,
      `the server did not take STARTTLS (${reply}); nothing was sent without TLS. A relay that cannot do TLS needs requireTLS: false on the credential, and allowPlaintextAuth: true to log in`,
      details,
    );
  }
  if (typeof e.responseCode === 'number') {
    if (AUTH_REPLY_CODES.has(e.responseCode)) return new IntegrationError(IntegrationFailureType.AuthFailed, `the server refused the login: ${reply}`, details);
    if (e.responseCode >= 500 && e.responseCode !== 503) return new IntegrationError(IntegrationFailureType.Rejected, `the server rejected the message: ${reply}`, details);
    return new IntegrationError(IntegrationFailureType.Unavailable, `the server deferred the message: ${reply}`, details);
  }
  if (e.code === 'EAUTH' || e.code === 'ENOAUTH') return new IntegrationError(IntegrationFailureType.AuthFailed, `login failed: ${reply}`, details);
  if (e.code === 'ETLS' || isCertificateError(err)) return new IntegrationError(IntegrationFailureType.TlsFailed, `TLS failed: ${reply}`, details);
  if (e.code === 'EENVELOPE' || e.code === 'EMESSAGE') return new IntegrationError(IntegrationFailureType.Rejected, reply, details);
  return new IntegrationError(IntegrationFailureType.Unavailable, `no answer from the server: ${reply}`, details);
}

function isCertificateError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown; originalCode?: unknown }).originalCode ?? (e as { code?: unknown }).code;
    if (typeof code === 'string' && CERTIFICATE_ERROR.test(code)) return true;
  }
  return false;
}
