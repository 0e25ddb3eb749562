/**
 * How a failure of an outside system (SMTP relay, Twilio, Slack, Salesforce,
 * HubSpot, Zendesk) crosses the activity boundary: an ApplicationFailure with
 * one of the stable types below, non-retryable where another attempt would
 * get the same answer, and with Temporal's `nextRetryDelay` where the service
 * said when to come back (Retry-After). Each integration module turns its
 * client's errors into an `IntegrationError`; its type alone decides whether
 * a retry can help, and `toApplicationFailure` carries that across.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { CREDENTIAL_FAILURE_TYPE } from '../credentials/action-credentials';

export const IntegrationFailureType = {
  /** 401/403, a rejected login or token: fix the credential, then rerun. */
  AuthFailed: 'IntegrationAuthFailed',
  /** 404: the record, ticket or channel does not exist. */
  NotFound: 'IntegrationNotFound',
  /** 400/422 or an SMTP 5xx: the service refused what we sent. */
  Rejected: 'IntegrationRejected',
  /** 429: retried after the service's Retry-After. */
  RateLimited: 'IntegrationRateLimited',
  /** 5xx, SMTP 4xx, timeouts, refused or dropped connections: retried. */
  Unavailable: 'IntegrationUnavailable',
  /** The server's TLS certificate was not trusted, or TLS was required but not offered. */
  TlsFailed: 'IntegrationTlsFailed',
  /** The credential points at an address the network policy does not allow. */
  EndpointBlocked: 'IntegrationEndpointBlocked',
  /**
   * No credential store, or the credential is missing, of another kind, or
   * unusable (an account SID or a subdomain of the wrong shape): the type
   * every action uses for its credential (src/credentials/action-credentials.ts).
   */
  CredentialError: CREDENTIAL_FAILURE_TYPE,
} as const;
export type IntegrationFailureType = (typeof IntegrationFailureType)[keyof typeof IntegrationFailureType];

/** The failure types no retry can fix; each action lists them in its retry policy too. */
export const NON_RETRYABLE_INTEGRATION_FAILURES: IntegrationFailureType[] = [
  IntegrationFailureType.AuthFailed,
  IntegrationFailureType.NotFound,
  IntegrationFailureType.Rejected,
  IntegrationFailureType.TlsFailed,
  IntegrationFailureType.EndpointBlocked,
  IntegrationFailureType.CredentialError,
];

/**
 * Longest Retry-After we honour. A service asking for more (a daily API
 * quota) still gets its wait, capped, so the step keeps its remaining
 * attempts instead of sleeping for a day inside one of them.
 */
export const MAX_RETRY_AFTER_MS = 15 * 60_000;

export class IntegrationError extends Error {
  constructor(
    readonly type: IntegrationFailureType,
    message: string,
    readonly details: { status?: number; code?: string; retryAfterMs?: number } = {},
  ) {
    super(message);
    this.name = 'IntegrationError';
  }

  get retryable(): boolean {
    return !NON_RETRYABLE_INTEGRATION_FAILURES.includes(this.type);
  }
}

export function toApplicationFailure(service: string, err: IntegrationError): ApplicationFailure {
  const { status, code, retryAfterMs } = err.details;
  return ApplicationFailure.create({
    type: err.type,
    message: `${service}: ${err.message}`,
    nonRetryable: !err.retryable,
    // Only what helps an operator (never the request, which may hold PII or
    // secrets); retryAfterMs repeats nextRetryDelay where a reader of the
    // failure (the run state, a workflow scheduling its own retries) sees it.
    details: [
      {
        service,
        ...(status !== undefined ? { status } : {}),
        ...(code !== undefined ? { code } : {}),
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      },
    ],
    ...(retryAfterMs !== undefined ? { nextRetryDelay: retryAfterMs } : {}),
  });
}

/** The failure type an HTTP status maps to (for the statuses that are failures). */
export function typeForHttpStatus(status: number): IntegrationFailureType {
  if (status === 401 || status === 403) return IntegrationFailureType.AuthFailed;
  if (status === 404) return IntegrationFailureType.NotFound;
  if (status === 429) return IntegrationFailureType.RateLimited;
  if (status >= 500) return IntegrationFailureType.Unavailable;
  // 408 (request timeout) and 409 (a concurrent update won) are worth another attempt.
  if (status === 408 || status === 409) return IntegrationFailureType.Unavailable;
  return IntegrationFailureType.Rejected;
}

/** An IntegrationError for an HTTP error response; `retryAfter` is the raw header, if any. */
export function httpError(status: number, message: string, options: { code?: string; retryAfter?: string | null } = {}): IntegrationError {
  const type = typeForHttpStatus(status);
  const retryAfterMs = type === IntegrationFailureType.RateLimited || type === IntegrationFailureType.Unavailable ? parseRetryAfter(options.retryAfter) : undefined;
  return new IntegrationError(type, `HTTP ${status}: ${message}`, { status, code: options.code, retryAfterMs });
}

/** An IntegrationError for a request that got no HTTP answer (refused, reset, timed out). */
export function networkError(err: unknown): IntegrationError {
  const code = errorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  return new IntegrationError(IntegrationFailureType.Unavailable, `no answer: ${message}`, { code });
}

/**
 * Retry-After in milliseconds: delta-seconds or an HTTP date (RFC 9110
 * section 10.2.3), capped at MAX_RETRY_AFTER_MS; undefined when absent or
 * unreadable, so Temporal's backoff applies instead.
 */
export function parseRetryAfter(value: string | number | null | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  let ms: number;
  if (typeof value === 'number' || /^\s*\d+(\.\d+)?\s*$/.test(value)) {
    ms = Number(value) * 1000;
  } else {
    const at = Date.parse(value);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(Math.max(Math.ceil(ms), 0), MAX_RETRY_AFTER_MS);
}

/** The `code` of a Node or library error (ECONNREFUSED, ETIMEDOUT, ...), also when wrapped in `cause`. */
export function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}
