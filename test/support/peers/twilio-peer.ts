/**
 * A loopback Twilio: the Messages resource of the 2010-04-01 REST API
 * (POST /2010-04-01/Accounts/{AccountSid}/Messages.json), with HTTP Basic
 * auth as account SID and auth token, form-encoded parameters, Twilio's
 * message JSON, and Twilio's error bodies ({code, message, more_info, status}).
 */
import { randomBytes } from 'node:crypto';
import { basicAuth, HttpPeer, type PeerResponse, type RecordedRequest } from './http-peer';

export interface TwilioAccount {
  accountSid: string;
  authToken: string;
}

export interface TwilioMessage {
  sid: string;
  to: string;
  from: string | null;
  messagingServiceSid: string | null;
  body: string;
  idempotencyToken?: string;
}

export function twilioError(status: number, code: number, message: string): PeerResponse {
  return { status, body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status } };
}

export async function startTwilioPeer(account: TwilioAccount): Promise<HttpPeer & { messages: TwilioMessage[] }> {
  const messages: TwilioMessage[] = [];
  const peer = await HttpPeer.start((request) => handle(request, account, messages));
  return Object.assign(peer, { messages });
}

function handle(request: RecordedRequest, account: TwilioAccount, messages: TwilioMessage[]): PeerResponse {
  const auth = basicAuth(request.headers);
  if (!auth || auth.user !== account.accountSid || auth.password !== account.authToken) {
    return twilioError(401, 20003, 'Authenticate');
  }
  const match = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(request.path);
  if (!match || match[1] !== account.accountSid) return twilioError(404, 20404, `The requested resource ${request.path} was not found`);
  if (request.method !== 'POST') return twilioError(405, 20004, 'Method not allowed');
  const form = (request.body ?? {}) as Record<string, string>;
  if (!form.To) return twilioError(400, 21604, "A 'To' phone number is required.");
  if (!form.Body) return twilioError(400, 21602, 'Message body is required.');
  if (!form.From && !form.MessagingServiceSid) return twilioError(400, 21603, "A 'From' phone number is required.");
  if (form.To === '+15005550001') return twilioError(400, 21211, `The 'To' number ${form.To} is not a valid phone number.`);
  const sid = `SM${randomBytes(16).toString('hex')}`;
  const token = request.headers['i-twilio-idempotency-token'];
  messages.push({
    sid,
    to: form.To,
    from: form.From ?? null,
    messagingServiceSid: form.MessagingServiceSid ?? null,
    body: form.Body,
    idempotencyToken: typeof token === 'string' ? token : undefined,
  });
  const now = new Date().toUTCString();
  return {
    status: 201,
    body: {
      account_sid: account.accountSid,
      api_version: '2010-04-01',
      body: form.Body,
      date_created: now,
      date_sent: null,
      date_updated: now,
      direction: 'outbound-api',
      error_code: null,
      error_message: null,
      from: form.From ?? null,
      messaging_service_sid: form.MessagingServiceSid ?? null,
      num_media: '0',
      num_segments: '1',
      price: null,
      price_unit: 'USD',
      sid,
      // A message sent through a Messaging Service starts as "accepted", a direct one as "queued".
      status: form.MessagingServiceSid ? 'accepted' : 'queued',
      subresource_uris: { media: `/2010-04-01/Accounts/${account.accountSid}/Messages/${sid}/Media.json` },
      to: form.To,
      uri: `/2010-04-01/Accounts/${account.accountSid}/Messages/${sid}.json`,
    },
  };
}
