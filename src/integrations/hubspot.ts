/**
 * Updating one HubSpot CRM record (a contact, company or deal) with the
 * official client (`@hubspot/api-client`), with the private-app token of a
 * `hubspot` credential; its `basePath` points the client elsewhere (a test's
 * loopback peer). A contact can be addressed by email (HubSpot's
 * `idProperty=email`) instead of its id.
 *
 * An update is a PATCH of properties: idempotent, so a retried attempt sets
 * the same values again. The client's own retries stay off (its default):
 * Temporal retries, after HubSpot's Retry-After when it sends one.
 */
import { Client } from '@hubspot/api-client';
import type { CredentialSecret } from '../credentials/kinds';
import { IntegrationError, httpError, networkError } from './errors';

export type HubspotObject = 'contact' | 'company' | 'deal';
export type HubspotTarget = { id: string } | { email: string };

export interface HubspotUpdated {
  id: string;
}

export async function updateHubspotRecord(
  secret: CredentialSecret<'hubspot'>,
  object: HubspotObject,
  target: HubspotTarget,
  properties: Record<string, string>,
): Promise<HubspotUpdated> {
  const client = new Client({
    accessToken: secret.accessToken,
    ...(secret.basePath ? { basePath: secret.basePath.replace(/\/+$/, '') } : {}),
    numberOfApiCallRetries: 0,
  });
  const api = object === 'contact' ? client.crm.contacts.basicApi : object === 'company' ? client.crm.companies.basicApi : client.crm.deals.basicApi;
  try {
    const updated = 'email' in target ? await api.update(target.email, { properties }, 'email') : await api.update(target.id, { properties });
    return { id: updated.id };
  } catch (err) {
    throw hubspotError(err);
  }
}

/** The client throws its ApiException (status in `code`, parsed `body`, `headers`) for every non-2xx answer. */
export function hubspotError(err: unknown): IntegrationError {
  if (err instanceof IntegrationError) return err;
  const e = err as { code?: unknown; body?: unknown; headers?: Record<string, string> };
  if (typeof e.code === 'number' && e.code >= 300) {
    const body = (typeof e.body === 'object' && e.body !== null ? e.body : {}) as { message?: string; category?: string; correlationId?: string };
    const message = body.message ?? (typeof e.body === 'string' ? e.body : 'request failed');
    return httpError(e.code, `${message}${body.correlationId ? ` (correlation id ${body.correlationId})` : ''}`, {
      code: body.category,
      retryAfter: e.headers?.['retry-after'],
    });
  }
  return networkError(err);
}
