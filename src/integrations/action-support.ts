/**
 * What every integration action shares: its retry policy, the schema
 * pieces for a credential reference, the run-time checks that span several
 * parameters, and the turn of an IntegrationError into the ApplicationFailure
 * Temporal sees.
 *
 * Checks that span parameters (text or html; an id or an external id) run
 * when the step runs, not in the zod schema: the validator drops each
 * parameter that is computed at run time from the schema before checking a
 * draft, and zod cannot drop keys from an object schema with refinements.
 * They fail the same way the schema does (InvalidActionParams, with paths).
 */
import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { CREDENTIAL_ID_PATTERN } from '../credentials/store';
import { FailureType, type ActionPolicy } from '../interpreter';
import { IntegrationError, IntegrationFailureType, toApplicationFailure } from './errors';

/**
 * Outside services fail briefly and rate-limit: back off from 1 s to a
 * minute over eight attempts (a Retry-After replaces the backoff for that
 * attempt). The failures no retry can fix are listed (they are also thrown
 * as non-retryable); `errorTypes` names the retryable ones, so a step's
 * `catch` can name every type the action raises.
 */
function integrationPolicy(nonRetryable: IntegrationFailureType[]): ActionPolicy {
  return {
    startToCloseTimeout: '30s',
    retry: {
      maximumAttempts: 8,
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '1m',
      nonRetryableErrorTypes: [FailureType.InvalidParams, ...nonRetryable],
    },
  };
}

const T = IntegrationFailureType;

/** Twilio, Slack, Salesforce, HubSpot, Zendesk: HTTP APIs behind a credential that may set a base URL. */
export const HTTP_INTEGRATION_POLICY = integrationPolicy([T.AuthFailed, T.NotFound, T.Rejected, T.EndpointBlocked, T.CredentialError]);
export const HTTP_INTEGRATION_ERROR_TYPES: readonly string[] = [T.RateLimited, T.Unavailable];

/** SMTP: no 404, no rate-limit reply of its own, no base URL; TLS is negotiated by the action itself. */
export const SMTP_POLICY = integrationPolicy([T.AuthFailed, T.Rejected, T.TlsFailed, T.EndpointBlocked, T.CredentialError]);
export const SMTP_ERROR_TYPES: readonly string[] = [T.Unavailable];

/** A credential id (cred_...): checked when the definition is saved; that it exists and fits, when the step runs. */
export const credentialParam = z.string().regex(CREDENTIAL_ID_PATTERN, 'must be the id of a credential (cred_...)');

/** A string with no line breaks (header values: a subject, a display name). */
export const oneLine = (max: number) =>
  z
    .string()
    .max(max)
    .regex(/^[^\r\n]*$/, 'must be a single line');

/**
 * A record whose keys must match `pattern`. zod reports a bad record key
 * only as "Invalid key in record"; this names the key and says why.
 */
export function namedRecord<V extends z.ZodType>(pattern: RegExp, keyMessage: string, value: V) {
  return z.record(z.string(), value).superRefine((record, ctx) => {
    for (const key of Object.keys(record)) {
      if (!pattern.test(key)) ctx.addIssue({ code: 'custom', path: [key], message: `"${key.slice(0, 80)}": ${keyMessage}` });
    }
  });
}

export interface ParamIssue {
  path: (string | number)[];
  message: string;
}

/** Fails the step like a schema violation when any cross-parameter check failed. */
export function assertParams(action: string, issues: Array<ParamIssue | false | undefined>): void {
  const found = issues.filter((issue): issue is ParamIssue => Boolean(issue));
  if (found.length === 0) return;
  const details = found.map((issue) => `/${issue.path.map(String).join('/')}: ${issue.message}`);
  throw ApplicationFailure.create({
    type: FailureType.InvalidParams,
    message: `${action}: invalid params: ${details.join('; ')}`,
    nonRetryable: true,
    details,
  });
}

/** Runs one call to an outside service; its IntegrationError becomes the ApplicationFailure Temporal retries (or not). */
export async function callIntegration<T>(service: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof IntegrationError) throw toApplicationFailure(service, err);
    throw err;
  }
}
