/**
 * Sending one SMS through Twilio's official client (`twilio`), with the
 * account of a `twilio` credential.
 *
 * The client has no per-call headers and no base-URL option (its domains are
 * fixed; `edge`/`region` only rewrite the host name within twilio.com), so we
 * hand it its documented extension point, a custom `httpClient`: a
 * RequestClient that sends every request of this attempt with the step's
 * idempotency key as `I-Twilio-Idempotency-Token`, and, when the credential
 * names a `baseUrl` (a proxy, a test's loopback peer), sends it there.
 * Twilio's own 429 auto-retry stays off: Temporal retries, after Retry-After.
 */
import twilio from 'twilio';
import RequestClient from 'twilio/lib/base/RequestClient';
import type TwilioResponse from 'twilio/lib/http/response';
import type { CredentialSecret } from '../credentials/kinds';
import { assertParams } from './action-support';
import { IntegrationError, IntegrationFailureType, httpError, networkError } from './errors';

export interface SmsMessage {
  to: string;
  body: string;
  from?: string;
  messagingServiceSid?: string;
}

export interface SmsSent {
  sid: string;
  status: string;
}

export const TWILIO_IDEMPOTENCY_HEADER = 'I-Twilio-Idempotency-Token';

class StepRequestClient extends RequestClient {
  constructor(
    private readonly idempotencyToken: string,
    private readonly baseUrl: string | undefined,
  ) {
    // Inside the action's 30 s attempt, so a hung connection fails as our retryable error.
    super({ timeout: 20_000, autoRetry: false });
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>): Promise<TwilioResponse<TData>> {
    return super.request<TData>({
      ...opts,
      // Never follow a redirect: it would carry the account's Basic auth to wherever it points.
      allowRedirects: false,
      uri: this.baseUrl ? rebase(opts.uri, this.baseUrl) : opts.uri,
      headers: { ...opts.headers, [TWILIO_IDEMPOTENCY_HEADER]: this.idempotencyToken },
    });
  }
}

/** The same path and query on another origin (and under its path prefix, if it has one). */
function rebase(uri: string, baseUrl: string): string {
  const original = new URL(uri);
  const base = new URL(baseUrl);
  const prefix = base.pathname.replace(/\/+$/, '');
  return `${base.origin}${prefix}${original.pathname}${original.search}`;
}

export async function sendSms(secret: CredentialSecret<'twilio'>, message: SmsMessage, options: { idempotencyKey: string }): Promise<SmsSent> {
  const httpClient = new StepRequestClient(options.idempotencyKey, secret.baseUrl);
  let client: twilio.Twilio;
  try {
    client = twilio(secret.accountSid, secret.authToken, { httpClient, autoRetry: false });
  } catch (err) {
    // The client checks the account SID's shape before any request.
    throw new IntegrationError(IntegrationFailureType.CredentialError, `the credential's account: ${(err as Error).message}`);
  }
  try {
    const sent = await client.messages.create({
      to: message.to,
      body: message.body,
      ...(message.messagingServiceSid ? { messagingServiceSid: message.messagingServiceSid } : { from: message.from }),
    });
    return { sid: sent.sid, status: sent.status };
  } catch (err) {
    const status = (err as { status?: unknown }).status;
    if (typeof status === 'number') {
      const { code, message: text, moreInfo } = err as { code?: number; message?: string; moreInfo?: string };
      const headers = (httpClient.lastResponse?.headers ?? {}) as Record<string, string | undefined>;
      throw httpError(status, `${text ?? 'request failed'}${code !== undefined ? ` (Twilio error ${code}${moreInfo ? `, ${moreInfo}` : ''})` : ''}`, {
        code: code !== undefined ? String(code) : undefined,
        retryAfter: headers['retry-after'],
      });
    }
    throw networkError(err);
  }
}

/**
 * Who a message is sent as: the step's own from / messagingServiceSid wins,
 * otherwise the credential's Messaging Service, then its number. Refuses
 * (InvalidActionParams, with the path) both given, or none to be found.
 */
export function smsSender(
  action: string,
  params: { from?: string; messagingServiceSid?: string },
  secret: CredentialSecret<'twilio'>,
): { from?: string; messagingServiceSid?: string } {
  assertParams(action, [
    params.from !== undefined && params.messagingServiceSid !== undefined && { path: ['messagingServiceSid'], message: 'give from or messagingServiceSid, not both' },
  ]);
  const sender =
    params.from !== undefined || params.messagingServiceSid !== undefined
      ? { from: params.from, messagingServiceSid: params.messagingServiceSid }
      : secret.messagingServiceSid
        ? { messagingServiceSid: secret.messagingServiceSid }
        : { from: secret.from };
  assertParams(action, [!sender.from && !sender.messagingServiceSid && { path: ['from'], message: 'give from or messagingServiceSid, or set a default on the twilio credential' }]);
  return sender;
}
