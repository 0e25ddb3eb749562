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
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { Client } from '@hubspot/api-client';
import type { CredentialSecret } from '../credentials/kinds';
import { pinnedLookup } from '../http/guarded-request';
import type { Destination } from '../http/network-guard';
import { IntegrationError, IntegrationFailureType, httpError, networkError } from './errors';

/** Where the client goes without a basePath. */
export const HUBSPOT_API_URL = 'https://api.hubapi.com';

/**
 * The client's fetch (node-fetch) follows redirects itself, with the token
 * and the body. It takes an agent function, called for every hop: this one
 * answers only for the origin the SSRF guard checked (connecting to the
 * addresses it checked) and refuses any other, so a redirect cannot carry
 * the token, or the PATCH, anywhere else.
 *
 * The agent goes in through a per-call middleware: the client's own
 * `httpAgent` setting is not applied to calls made without call options
 * (its generated APIs only run call-time middleware).
 */
function pinnedAgent(destination: Destination): (url: { protocol?: string | null; hostname?: string | null; port?: string | null }) => HttpAgent {
  const lookup = pinnedLookup(destination.addresses);
  const agent = destination.url.protocol === 'https:' ? new HttpsAgent({ lookup }) : new HttpAgent({ lookup });
  return (url) => {
    const hostname = (url.hostname ?? '').replace(/^\[|\]$/g, '').toLowerCase().replace(/\.$/, '');
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    if (url.protocol !== destination.url.protocol || hostname !== destination.hostname || port !== destination.port) {
      throw new IntegrationError(
        IntegrationFailureType.EndpointBlocked,
        `HubSpot redirected to ${url.protocol}//${url.hostname}${url.port ? `:${url.port}` : ''}: the token is only sent to ${destination.url.origin}, so nothing was sent there`,
      );
    }
    return agent;
  };
}

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
  /** The SSRF guard's verdict on the base URL: every hop must go there. */
  destination: Destination,
): Promise<HubspotUpdated> {
  const client = new Client({
    accessToken: secret.accessToken,
    ...(secret.basePath ? { basePath: secret.basePath.replace(/\/+$/, '') } : {}),
    numberOfApiCallRetries: 0,
  });
  const agent = pinnedAgent(destination);
  const callOptions = {
    middleware: [
      {
        // node-fetch accepts a function of the URL; the client's type names only an Agent.
        pre: async <C extends { setAgent(agent: HttpAgent): void }>(context: C): Promise<C> => {
          context.setAgent(agent as unknown as HttpAgent);
          return context;
        },
        post: async <C>(context: C): Promise<C> => context,
      },
    ],
    middlewareMergeStrategy: 'replace' as const,
  };
  const api = object === 'contact' ? client.crm.contacts.basicApi : object === 'company' ? client.crm.companies.basicApi : client.crm.deals.basicApi;
  try {
    const updated = 'email' in target ? await api.update(target.email, { properties }, 'email', callOptions) : await api.update(target.id, { properties }, undefined, callOptions);
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
