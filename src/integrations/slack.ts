/**
 * Posting one Slack message with the official Web API client
 * (`@slack/web-api`'s WebClient, `chat.postMessage`), with the bot token of
 * a `slack` credential; its `apiUrl` becomes the client's `slackApiUrl`.
 *
 * The client's own retries and rate-limit sleeping are off: a retry belongs
 * to Temporal, where it is durable and visible, and a 429 becomes a
 * retryable failure carrying Slack's Retry-After. Slack answers most errors
 * with HTTP 200 and `{ok: false, error: "<code>"}`; the codes are sorted
 * into our failure types below.
 *
 * Slack has no idempotency key for chat.postMessage, so an attempt whose
 * answer was lost can post twice.
 */
import { LogLevel, WebAPIHTTPError, WebAPIPlatformError, WebAPIRateLimitedError, WebAPIRequestError, WebClient, type ChatPostMessageArguments } from '@slack/web-api';
import type { CredentialSecret } from '../credentials/kinds';
import { IntegrationError, IntegrationFailureType, httpError, networkError, parseRetryAfter } from './errors';

export interface SlackMessage {
  channel: string;
  text?: string;
  blocks?: Array<Record<string, unknown>>;
  threadTs?: string;
}

export interface SlackMessagePosted {
  ts: string;
  channel: string;
}

const AUTH_ERRORS = new Set([
  'not_authed',
  'invalid_auth',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'no_permission',
  'missing_scope',
  'not_allowed_token_type',
  'ekm_access_denied',
  'org_login_required',
  'team_access_not_granted',
  'access_denied',
]);
const NOT_FOUND_ERRORS = new Set(['channel_not_found', 'thread_not_found', 'user_not_found']);
const TRANSIENT_ERRORS = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'team_added_to_org']);
const RATE_LIMIT_ERRORS = new Set(['ratelimited', 'rate_limited']);

export async function postSlackMessage(secret: CredentialSecret<'slack'>, message: SlackMessage): Promise<SlackMessagePosted> {
  const client = new WebClient(secret.token, {
    ...(secret.apiUrl ? { slackApiUrl: secret.apiUrl.endsWith('/') ? secret.apiUrl : `${secret.apiUrl}/` } : {}),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    // Inside the action's 30 s attempt.
    timeout: 20_000,
    // A method name must never redirect the token to another host.
    allowAbsoluteUrls: false,
    logLevel: LogLevel.ERROR,
  });
  try {
    // Blocks were checked for shape by the action's schema; Slack validates their content.
    const args = {
      channel: message.channel,
      ...(message.text !== undefined ? { text: message.text } : {}),
      ...(message.blocks !== undefined ? { blocks: message.blocks } : {}),
      ...(message.threadTs !== undefined ? { thread_ts: message.threadTs } : {}),
    } as unknown as ChatPostMessageArguments;
    const result = await client.chat.postMessage(args);
    if (typeof result.ts !== 'string' || typeof result.channel !== 'string') {
      throw new IntegrationError(IntegrationFailureType.Unavailable, 'chat.postMessage answered ok without ts or channel');
    }
    return { ts: result.ts, channel: result.channel };
  } catch (err) {
    throw slackError(err);
  }
}

export function slackError(err: unknown): IntegrationError {
  if (err instanceof IntegrationError) return err;
  if (err instanceof WebAPIPlatformError) {
    const code = err.data.error;
    const type = AUTH_ERRORS.has(code)
      ? IntegrationFailureType.AuthFailed
      : NOT_FOUND_ERRORS.has(code)
        ? IntegrationFailureType.NotFound
        : TRANSIENT_ERRORS.has(code)
          ? IntegrationFailureType.Unavailable
          : RATE_LIMIT_ERRORS.has(code)
            ? IntegrationFailureType.RateLimited
            : IntegrationFailureType.Rejected;
    return new IntegrationError(type, `Slack answered "${code}"`, { code });
  }
  if (err instanceof WebAPIRateLimitedError) {
    return new IntegrationError(IntegrationFailureType.RateLimited, `rate limited; retry after ${err.retryAfter} s`, { status: 429, retryAfterMs: parseRetryAfter(err.retryAfter) });
  }
  if (err instanceof WebAPIHTTPError) {
    return httpError(err.statusCode, err.statusMessage || 'request failed', { retryAfter: err.headers['retry-after'] });
  }
  if (err instanceof WebAPIRequestError) return networkError(err.original);
  return networkError(err);
}
