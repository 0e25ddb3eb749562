/**
 * Updating or upserting one Salesforce record with jsforce, with the org of a
 * `salesforce` credential: an instance URL and access token, or a username,
 * password and security token (jsforce's SOAP login, which also re-logs in
 * when the session expires).
 *
 * Both operations are idempotent on Salesforce's side (PATCH of a record by
 * id, or by external id), so a retried attempt writes the same values again.
 *
 * jsforce's errors carry Salesforce's `errorCode` but not the HTTP status,
 * and it already retries some requests itself; so each attempt gets its own
 * Connection whose transport remembers the last response, and the status
 * decides the failure type (with the few error codes that mean something
 * else: REQUEST_LIMIT_EXCEEDED is a 403 that is really a rate limit).
 */
import { Connection } from 'jsforce';
import type { CredentialSecret } from '../credentials/kinds';
import { IntegrationError, IntegrationFailureType, httpError, networkError, parseRetryAfter } from './errors';

export type SalesforceTarget = { recordId: string } | { externalIdField: string; externalId: string };

export interface SalesforceSaved {
  /** The record's id; null when an old API version answered an upsert with 204 and no body. */
  id: string | null;
  created: boolean;
}

/** Recent enough that an upsert that updates answers 200 with the record id (API 46.0 and later). */
export const DEFAULT_SALESFORCE_API_VERSION = '62.0';

/** SOAP login faults that mean the username, password or token are wrong, locked or expired. */
const LOGIN_REFUSED = /INVALID_LOGIN|LOGIN_MUST_USE_SECURITY_TOKEN|INVALID_OPERATION_WITH_EXPIRED_PASSWORD|PASSWORD_LOCKOUT|LOGIN_DATA_PREVENTED|password has expired|no username password/i;
/** Error codes whose meaning overrides their HTTP status. */
const RETRYABLE_CODES = new Set(['UNABLE_TO_LOCK_ROW', 'SERVER_UNAVAILABLE', 'REQUEST_RUNNING_TOO_LONG']);

interface SeenResponse {
  statusCode: number;
  headers: Record<string, string | undefined>;
}

export async function saveSalesforceRecord(
  secret: CredentialSecret<'salesforce'>,
  objectType: string,
  target: SalesforceTarget,
  fields: Record<string, unknown>,
  /** Checks an address the way the credential's were checked: the instance a login answers with is checked too. */
  checkEndpoint: (url: string) => Promise<unknown> = async () => undefined,
): Promise<SalesforceSaved> {
  let conn: Connection;
  try {
    conn = new Connection({
      instanceUrl: secret.instanceUrl,
      accessToken: secret.accessToken,
      ...(secret.loginUrl ? { loginUrl: secret.loginUrl } : {}),
      version: secret.version ?? DEFAULT_SALESFORCE_API_VERSION,
    });
  } catch (err) {
    throw new IntegrationError(IntegrationFailureType.CredentialError, `the credential's instance URL: ${(err as Error).message}`);
  }
  const seen = rememberResponses(conn);

  if (!secret.accessToken) {
    try {
      await conn.login(secret.username ?? '', `${secret.password ?? ''}${secret.securityToken ?? ''}`);
    } catch (err) {
      const message = (err as Error).message ?? String(err);
      if (LOGIN_REFUSED.test(message)) throw new IntegrationError(IntegrationFailureType.AuthFailed, `login refused: ${message}`);
      throw salesforceError(err, seen.last);
    }
    // The login server names the instance the session token goes to next: it passes the same guard.
    await checkEndpoint(conn.instanceUrl);
  }

  seen.last = undefined;
  try {
    if ('recordId' in target) {
      await conn.sobject(objectType).update({ ...fields, Id: target.recordId });
      return { id: target.recordId, created: false };
    }
    // jsforce puts the external id into the URL path as it is; encode it so
    // a value with "/" or "?" addresses the record it names.
    const result = await conn.sobject(objectType).upsert({ ...fields, [target.externalIdField]: encodeURIComponent(target.externalId) }, target.externalIdField);
    return { id: typeof result.id === 'string' ? result.id : null, created: result.created === true };
  } catch (err) {
    throw salesforceError(err, seen.last);
  }
}

/**
 * Wraps the connection's transport so the last HTTP response (status and
 * headers) is known when jsforce throws an error without them. The wrapped
 * promise is returned untouched: jsforce reads its stream.
 */
function rememberResponses(conn: Connection): { last?: SeenResponse } {
  const seen: { last?: SeenResponse } = {};
  const transport = conn._transport;
  const send = transport.httpRequest.bind(transport);
  transport.httpRequest = ((req, options) => {
    const pending = send(req, options);
    pending.then(
      (response) => {
        seen.last = { statusCode: response.statusCode, headers: response.headers as Record<string, string | undefined> };
      },
      () => undefined,
    );
    return pending;
  }) as typeof transport.httpRequest;
  return seen;
}

export function salesforceError(err: unknown, response: SeenResponse | undefined): IntegrationError {
  if (err instanceof IntegrationError) return err;
  const code = (err as { errorCode?: unknown }).errorCode;
  const errCode = typeof code === 'string' ? code : undefined;
  const message = describe(err);
  if (!response || response.statusCode < 400) {
    // No HTTP error status: an API error in a 2xx/300 answer (several records
    // share the external id), or no answer at all.
    if (errCode) return new IntegrationError(IntegrationFailureType.Rejected, message, { code: errCode });
    return networkError(err);
  }
  if (errCode === 'REQUEST_LIMIT_EXCEEDED') {
    return new IntegrationError(IntegrationFailureType.RateLimited, message, { status: response.statusCode, code: errCode, retryAfterMs: parseRetryAfter(response.headers['retry-after']) });
  }
  if (errCode && RETRYABLE_CODES.has(errCode)) {
    return new IntegrationError(IntegrationFailureType.Unavailable, message, { status: response.statusCode, code: errCode });
  }
  return httpError(response.statusCode, message, { code: errCode, retryAfter: response.headers['retry-after'] });
}

function describe(err: unknown): string {
  const data = (err as { data?: unknown }).data;
  // Several errors at once come back as MULTIPLE_API_ERRORS with the list in `data`
  // (a 300's `data` is the list of matching record URLs instead).
  if (Array.isArray(data) && data.every((e) => typeof e === 'object' && e !== null && 'errorCode' in e)) {
    return data.map((e: { errorCode?: string; message?: string; fields?: string[] }) => `${e.errorCode ?? 'ERROR'}: ${e.message ?? ''}${e.fields?.length ? ` (${e.fields.join(', ')})` : ''}`).join('; ');
  }
  const fields = (data as { fields?: unknown } | undefined)?.fields;
  const base = err instanceof Error ? err.message : String(err);
  const code = (err as { errorCode?: unknown }).errorCode;
  return `${typeof code === 'string' ? `${code}: ` : ''}${base}${Array.isArray(fields) && fields.length > 0 ? ` (${fields.join(', ')})` : ''}`;
}
