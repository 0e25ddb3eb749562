/**
 * Inquiry Link Email and Inquiry Link SMS: send the applicant a single-use,
 * expiring link to the hosted page where they complete their inquiry.
 *
 * Each attempt first makes the link once per idempotency key (the link row
 * and the action's effect record commit together), then sends it through
 * the messaging integrations (nodemailer, Twilio). The token is recomputed
 * from the link id on every attempt (src/inquiry-links/links.ts), so a
 * retried send carries the same URL, never a second link. The token appears
 * only in the message: not in the output, the logs or workflow history.
 *
 * Bodies arrive rendered by Liquid in the workflow, before the link exists,
 * so the link goes where the body says `%LINK%` (a marker Liquid leaves
 * alone), or at the end when the body has no marker.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { credentialForAction } from '../credentials/action-credentials';
import type { ActionPolicy } from '../interpreter';
import { MAX_WAIT_MS, parseDuration } from '../interpreter/duration';
import { createInquiryLink, InquiryNotOpenError, linkUrl, tokenFor, type InquiryLink, type LinkChannel } from '../inquiry-links/links';
import { escapeHtml } from '../inquiry-links/page';
import { assertParams, callIntegration, credentialParam, HTTP_INTEGRATION_ERROR_TYPES, HTTP_INTEGRATION_POLICY, oneLine, SMTP_ERROR_TYPES, SMTP_POLICY } from '../integrations/action-support';
import { assertEndpointAllowed } from '../integrations/endpoint-guard';
import { IntegrationError, IntegrationFailureType } from '../integrations/errors';
import { messageIdFor, sendEmail } from '../integrations/smtp';
import { sendSms, smsSender } from '../integrations/twilio';
import { idOf, ObjectError, ObjectFailureType } from '../objects';
import { onceByKey } from '../store/idempotency';
import { defineAction, type ActionContext, type ActionDefinition } from './action-definition';
import type { ActionDeps } from './index';
import { parseMailbox, sendEmailParams, sendSmsParams } from './messaging-actions';

export const LINK_MARKER = '%LINK%';

export const InquiryLinkFailureType = {
  /** The service has no public base URL or no signing key: an operator must fix the deployment. */
  NotConfigured: 'InquiryLinksNotConfigured',
  /** The inquiry is past created/pending: a link to it could not complete anything. */
  InquiryNotOpen: 'InquiryNotOpen',
} as const;

const NOT_RETRYABLE = [InquiryLinkFailureType.NotConfigured, InquiryLinkFailureType.InquiryNotOpen, ObjectFailureType.NotFound, ObjectFailureType.Redacted];

function withNonRetryable(policy: ActionPolicy): ActionPolicy {
  return { ...policy, retry: { ...policy.retry, nonRetryableErrorTypes: [...(policy.retry?.nonRetryableErrorTypes ?? []), ...NOT_RETRYABLE] } };
}

const expiresIn = z
  .string()
  .default('7d')
  .refine((text) => parseDuration(text) !== undefined, 'must be a duration, e.g. "1h", "7d"')
  .refine((text) => (parseDuration(text) ?? 0) <= MAX_WAIT_MS, 'must be at most 30 days');

export const sendInquiryLinkEmailParams = z.strictObject({
  inquiryId: idOf('inquiry'),
  credential: credentialParam,
  to: sendEmailParams.shape.to,
  from: sendEmailParams.shape.from,
  subject: oneLine(998).min(1, 'an email needs a subject').default('Continue your verification'),
  /** `%LINK%` marks where the link goes; without it the link is appended. Default: a short text with the link. */
  text: z.string().max(256_000).optional(),
  html: z.string().max(512_000).optional(),
  expiresIn,
});

export const sendInquiryLinkSmsParams = z.strictObject({
  inquiryId: idOf('inquiry'),
  credential: credentialParam,
  to: sendSmsParams.shape.to,
  // Room is left for the link inside Twilio's 1600 characters.
  body: z.string().min(1, 'an SMS needs a body').max(1400, 'at most 1400 characters (the link needs the rest)').default('Continue your verification:'),
  from: sendSmsParams.shape.from,
  messagingServiceSid: sendSmsParams.shape.messagingServiceSid,
  expiresIn,
});

/** The link where the marker stands, or `appended` after the body. */
export function placeLink(body: string, link: string, appended: string): string {
  return body.includes(LINK_MARKER) ? body.split(LINK_MARKER).join(link) : `${body}${appended}`;
}

function notConfigured(what: string): ApplicationFailure {
  return ApplicationFailure.create({ type: InquiryLinkFailureType.NotConfigured, message: `inquiry links are not configured: ${what}`, nonRetryable: true });
}

export function inquiryLinkActions(deps: ActionDeps): ActionDefinition<never>[] {
  /** The link of this step: made by the first attempt, found again by every retry. */
  async function linkForStep(action: string, channel: LinkChannel, inquiryId: string, expiresInText: string, context: ActionContext): Promise<InquiryLink & { url: string }> {
    const key = deps.inquiryLinkKey;
    if (!key) throw notConfigured('the worker has no inquiry-link key');
    if (!deps.publicBaseUrl) throw notConfigured('the worker has no public base URL (PUBLIC_BASE_URL)');
    let link: InquiryLink;
    try {
      link = await onceByKey(deps.db, context.idempotencyKey, action, (tx) => createInquiryLink(tx, key, { inquiryId, channel, expiresInMs: parseDuration(expiresInText)! }));
    } catch (err) {
      if (err instanceof InquiryNotOpenError) throw ApplicationFailure.create({ type: err.failureType, message: err.message, nonRetryable: true, details: [{ inquiryId, status: err.status }] });
      if (err instanceof ObjectError) throw ApplicationFailure.create({ type: err.failureType, message: err.message, nonRetryable: true });
      throw err;
    }
    return { ...link, url: linkUrl(deps.publicBaseUrl, tokenFor(key, link.linkId)) };
  }

  const emailAction = defineAction({
    name: 'send_inquiry_link_email',
    title: 'Send inquiry link by email',
    description:
      'Email the applicant a single-use, expiring link to the hosted page where they complete the inquiry (smtp credential). ' +
      'The link replaces %LINK% in the bodies, or is appended. Output: {linkId, expiresAt, messageId}.',
    params: sendInquiryLinkEmailParams,
    policy: withNonRetryable(SMTP_POLICY),
    errorTypes: SMTP_ERROR_TYPES,
    async run(params, context) {
      const secret = await credentialForAction(deps.credentials, params.credential, 'smtp');
      assertParams('send_inquiry_link_email', [!params.from && !secret.from && { path: ['from'], message: 'give a from address, or set a default one on the smtp credential' }]);
      const link = await linkForStep('send_inquiry_link_email', 'email', params.inquiryId, params.expiresIn, context);
      const text = params.text ?? (params.html === undefined ? `Please continue your verification here:\n\n${LINK_MARKER}\n\nThe link works once and expires at ${link.expiresAt}.` : undefined);
      const sent = await callIntegration('SMTP', () => {
        const sender = params.from ?? parseMailbox(secret.from!);
        if (!sender) throw new IntegrationError(IntegrationFailureType.CredentialError, `the default from of credential "${params.credential}" is not an email address`);
        return sendEmail(
          secret,
          {
            from: sender,
            to: params.to,
            cc: [],
            bcc: [],
            replyTo: [],
            subject: params.subject,
            text: text === undefined ? undefined : placeLink(text, link.url, `\n\n${link.url}`),
            html: params.html === undefined ? undefined : placeLink(params.html, escapeHtml(link.url), `\n<p><a href="${escapeHtml(link.url)}">${escapeHtml(link.url)}</a></p>`),
          },
          { messageId: messageIdFor(context.idempotencyKey, sender.address), signal: context.signal, network: deps.network },
        );
      });
      context.log('inquiry link emailed', { linkId: link.linkId, messageId: sent.messageId });
      return { linkId: link.linkId, expiresAt: link.expiresAt, messageId: sent.messageId };
    },
  });

  const smsAction = defineAction({
    name: 'send_inquiry_link_sms',
    title: 'Send inquiry link by SMS',
    description:
      'Text the applicant a single-use, expiring link to the hosted page where they complete the inquiry (twilio credential). ' +
      'The link replaces %LINK% in the body, or is appended. Output: {linkId, expiresAt, sid}.',
    params: sendInquiryLinkSmsParams,
    policy: withNonRetryable(HTTP_INTEGRATION_POLICY),
    errorTypes: HTTP_INTEGRATION_ERROR_TYPES,
    async run(params, context) {
      const secret = await credentialForAction(deps.credentials, params.credential, 'twilio');
      const sender = smsSender('send_inquiry_link_sms', params, secret);
      const link = await linkForStep('send_inquiry_link_sms', 'sms', params.inquiryId, params.expiresIn, context);
      const sent = await callIntegration('Twilio', async () => {
        if (secret.baseUrl) await assertEndpointAllowed(secret.baseUrl, deps.network);
        return sendSms(secret, { to: params.to, body: placeLink(params.body, link.url, ` ${link.url}`), ...sender }, { idempotencyKey: context.idempotencyKey });
      });
      context.log('inquiry link texted', { linkId: link.linkId, sid: sent.sid });
      return { linkId: link.linkId, expiresAt: link.expiresAt, sid: sent.sid };
    },
  });

  return [emailAction, smsAction] as ActionDefinition<never>[];
}
