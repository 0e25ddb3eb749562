/**
 * Messaging actions: Send Email (nodemailer over SMTP), Send SMS (Twilio),
 * Send Slack Message (Slack's Web API). Each names a credential by id and
 * resolves it here, inside the activity, so its secret never enters
 * workflow history; bodies arrive already rendered (Liquid runs in the
 * workflow). The protocol work lives in src/integrations.
 */
import { z } from 'zod';
import { assertParams, callIntegration, credentialParam, HTTP_INTEGRATION_ERROR_TYPES, HTTP_INTEGRATION_POLICY, oneLine, SMTP_ERROR_TYPES, SMTP_POLICY } from '../integrations/action-support';
import { credentialForAction } from '../credentials/action-credentials';
import { assertEndpointAllowed } from '../integrations/endpoint-guard';
import { postSlackMessage } from '../integrations/slack';
import { IntegrationError, IntegrationFailureType } from '../integrations/errors';
import { messageIdFor, sendEmail, type Mailbox } from '../integrations/smtp';
import { sendSms, smsSender } from '../integrations/twilio';
import { defineAction, type ActionDefinition } from './action-definition';
import type { ActionDeps } from './index';

/** `address@example.com` or `Display Name <address@example.com>` (the name may be quoted). */
const MAILBOX = /^(?:"?([^"<>\r\n]*?)"?\s*<([^<>\s]+)>|([^<>\s",]+))$/;
const emailAddress = z.email();

export function parseMailbox(value: string): Mailbox | undefined {
  const match = MAILBOX.exec(value.trim());
  if (!match) return undefined;
  const address = match[2] ?? match[3];
  if (!emailAddress.safeParse(address).success) return undefined;
  const name = match[1]?.trim();
  return name ? { name, address } : { address };
}

const mailbox = z
  .string()
  .max(320)
  .transform((value, ctx) => {
    const parsed = parseMailbox(value);
    if (!parsed) {
      ctx.addIssue({ code: 'custom', message: `"${value.slice(0, 80)}" is not an email address or "Name <address>"` });
      return z.NEVER;
    }
    return parsed;
  });

/** One address, or a list of them (a single string is a list of one). */
const mailboxes = (what: string) =>
  z.preprocess((value) => (typeof value === 'string' ? [value] : value), z.array(mailbox).min(1, `give at least one ${what} address`).max(50, `at most 50 ${what} addresses`));

const PHONE_E164 = /^\+[1-9]\d{6,14}$/;

export const sendEmailParams = z.strictObject({
  credential: credentialParam,
  /** Default: the credential's `from`. */
  from: mailbox.optional(),
  to: mailboxes('to'),
  cc: mailboxes('cc').optional(),
  bcc: mailboxes('bcc').optional(),
  replyTo: mailboxes('reply-to').optional(),
  subject: oneLine(998).min(1, 'an email needs a subject'),
  text: z.string().max(256_000).optional(),
  html: z.string().max(512_000).optional(),
});

export const sendSmsParams = z.strictObject({
  credential: credentialParam,
  to: z.string().regex(PHONE_E164, 'must be a phone number in E.164 form, e.g. +14155550100'),
  body: z.string().min(1, 'an SMS needs a body').max(1600, 'at most 1600 characters (10 segments)'),
  /** A Twilio number or an alphanumeric sender id; default: the credential's. */
  from: z
    .string()
    .regex(/^(\+[1-9]\d{6,14}|(?=[A-Za-z0-9 ]*[A-Za-z])[A-Za-z0-9 ]{1,11})$/, 'must be an E.164 number or an alphanumeric sender id (up to 11 letters, digits and spaces)')
    .optional(),
  messagingServiceSid: z
    .string()
    .regex(/^MG[0-9a-fA-F]{32}$/, 'must be a Messaging Service SID: MG and 32 hex digits')
    .optional(),
});

export const sendSlackMessageParams = z.strictObject({
  credential: credentialParam,
  channel: z
    .string()
    .min(1)
    .max(80)
    .regex(/^#?[A-Za-z0-9._-]+$/, 'must be a channel id (C0123ABCD) or name (#alerts)'),
  text: z.string().min(1).max(40_000, 'Slack truncates text after 40,000 characters').optional(),
  blocks: z
    .array(z.looseObject({ type: z.string().min(1, 'every block has a type') }))
    .min(1)
    .max(50, 'Slack accepts at most 50 blocks')
    .optional(),
  /** Reply in the thread of this message. */
  threadTs: z
    .string()
    .regex(/^\d+\.\d+$/, 'must be a message timestamp such as 1712345678.000100')
    .optional(),
});

export function messagingActions(deps: ActionDeps): ActionDefinition<never>[] {
  const sendEmailAction = defineAction({
    name: 'send_email',
    title: 'Send email',
    description: 'Send an email (text and/or HTML body) over SMTP, with the server settings of an smtp credential.',
    params: sendEmailParams,
    policy: SMTP_POLICY,
    errorTypes: SMTP_ERROR_TYPES,
    async run(params, context) {
      assertParams('send_email', [params.text === undefined && params.html === undefined && { path: ['text'], message: 'give a text or an html body (or both)' }]);
      const secret = await credentialForAction(deps.credentials, params.credential, 'smtp');
      assertParams('send_email', [!params.from && !secret.from && { path: ['from'], message: 'give a from address, or set a default one on the smtp credential' }]);
      const sent = await callIntegration('SMTP', () => {
        const sender = params.from ?? parseMailbox(secret.from!);
        if (!sender) throw new IntegrationError(IntegrationFailureType.CredentialError, `the default from of credential "${params.credential}" is not an email address`);
        return sendEmail(
          secret,
          {
            from: sender,
            to: params.to,
            cc: params.cc ?? [],
            bcc: params.bcc ?? [],
            replyTo: params.replyTo ?? [],
            subject: params.subject,
            text: params.text,
            html: params.html,
          },
          { messageId: messageIdFor(context.idempotencyKey, sender.address), signal: context.signal, network: deps.network },
        );
      });
      context.log('email sent', { messageId: sent.messageId, accepted: sent.accepted.length, rejected: sent.rejected.length });
      return sent;
    },
  });

  const sendSmsAction = defineAction({
    name: 'send_sms',
    title: 'Send SMS',
    description: 'Send a text message through Twilio, from a number, a sender id or a Messaging Service of a twilio credential.',
    params: sendSmsParams,
    policy: HTTP_INTEGRATION_POLICY,
    errorTypes: HTTP_INTEGRATION_ERROR_TYPES,
    async run(params, context) {
      const secret = await credentialForAction(deps.credentials, params.credential, 'twilio');
      const sender = smsSender('send_sms', params, secret);
      const sent = await callIntegration('Twilio', async () => {
        if (secret.baseUrl) await assertEndpointAllowed(secret.baseUrl, deps.network);
        return sendSms(secret, { to: params.to, body: params.body, ...sender }, { idempotencyKey: context.idempotencyKey });
      });
      context.log('sms sent', { sid: sent.sid, status: sent.status });
      return sent;
    },
  });

  const sendSlackMessageAction = defineAction({
    name: 'send_slack_message',
    title: 'Send Slack message',
    description: 'Post a message (text and/or Block Kit blocks) to a Slack channel with the bot token of a slack credential.',
    params: sendSlackMessageParams,
    policy: HTTP_INTEGRATION_POLICY,
    errorTypes: HTTP_INTEGRATION_ERROR_TYPES,
    async run(params, context) {
      assertParams('send_slack_message', [params.text === undefined && params.blocks === undefined && { path: ['text'], message: 'give text or blocks (or both)' }]);
      const secret = await credentialForAction(deps.credentials, params.credential, 'slack');
      const posted = await callIntegration('Slack', async () => {
        if (secret.apiUrl) await assertEndpointAllowed(secret.apiUrl, deps.network);
        return postSlackMessage(secret, {
          channel: params.channel,
          text: params.text,
          blocks: params.blocks,
          threadTs: params.threadTs,
        });
      });
      context.log('slack message posted', { channel: posted.channel, ts: posted.ts });
      return posted;
    },
  });

  return [sendEmailAction, sendSmsAction, sendSlackMessageAction] as ActionDefinition<never>[];
}
