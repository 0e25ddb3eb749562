/**
 * Updating one Zendesk ticket with the official client (`node-zendesk`),
 * with the agent email and API token of a `zendesk` credential: its
 * `remoteUri` (the API root, e.g. an on-premises proxy or a test's loopback
 * peer) becomes the client's `endpointUri`; otherwise the subdomain names it.
 *
 * One PUT /tickets/{id}.json carries everything: a comment (public or
 * private), tags (replace the set, or add and remove through Zendesk's
 * `additional_tags`/`remove_tags`), status and custom fields.
 *
 * The client turns some error statuses into plain errors without the status
 * and hands others back as results, so we give it our own transport (its
 * `transportConfig.transportFn` option): fetch, where every non-2xx answer
 * becomes our IntegrationError with its status and Retry-After, passed
 * through unchanged (`throwOriginalException`).
 *
 * Tags, status and fields are set, not incremented, so a retried attempt is
 * harmless; a comment is not: Zendesk has no idempotency key for ticket
 * updates, so an attempt whose answer was lost can add the comment twice.
 */
import { createClient } from 'node-zendesk';
import type { CredentialSecret } from '../credentials/kinds';
import { IntegrationError, IntegrationFailureType, httpError, networkError } from './errors';

export interface ZendeskTicketChange {
  comment?: { body: string; public: boolean };
  tags?: { set?: string[]; add?: string[]; remove?: string[] };
  status?: string;
  customFields?: Array<{ id: number; value: unknown }>;
}

export interface ZendeskTicketUpdated {
  ticketId: number;
  status: string;
}

export async function updateZendeskTicket(
  secret: CredentialSecret<'zendesk'>,
  ticketId: number,
  change: ZendeskTicketChange,
  options: { signal?: AbortSignal } = {},
): Promise<ZendeskTicketUpdated> {
  if (!secret.remoteUri && !secret.subdomain) {
    throw new IntegrationError(IntegrationFailureType.CredentialError, 'the credential names neither a subdomain nor a remoteUri');
  }
  // The client builds https://<subdomain>.zendesk.com by concatenation: "evil.example/x?" must not become a host.
  if (!secret.remoteUri && !/^[a-z0-9][a-z0-9-]{0,62}$/i.test(secret.subdomain ?? '')) {
    throw new IntegrationError(IntegrationFailureType.CredentialError, 'the credential\'s subdomain must be letters, digits and hyphens (the "acme" of acme.zendesk.com)');
  }
  const client = createClient({
    username: secret.email,
    token: secret.token,
    ...(secret.remoteUri ? { endpointUri: secret.remoteUri.replace(/\/+$/, '') } : { subdomain: secret.subdomain }),
    throwOriginalException: true,
    transportConfig: {
      transportFn: (uri: string, request: { method: string; headers: Record<string, string>; body?: string }) => send(uri, request, options.signal),
      // Given a transport, the client also wants the adapter that presents its answer (the shape of its own default).
      responseAdapter: (response: Response) => ({
        json: () => response.json(),
        status: response.status,
        headers: { get: (name: string) => response.headers.get(name) },
        statusText: response.statusText,
      }),
    },
  });
  const ticket: Record<string, unknown> = {};
  if (change.comment) ticket.comment = { body: change.comment.body, public: change.comment.public };
  if (change.tags?.set) ticket.tags = change.tags.set;
  if (change.tags?.add?.length) ticket.additional_tags = change.tags.add;
  if (change.tags?.remove?.length) ticket.remove_tags = change.tags.remove;
  if (change.status) ticket.status = change.status;
  if (change.customFields?.length) ticket.custom_fields = change.customFields;
  try {
    const { result } = (await client.tickets.update(ticketId, { ticket })) as { result: { id?: number; status?: string } };
    return { ticketId: typeof result?.id === 'number' ? result.id : ticketId, status: String(result?.status ?? change.status ?? 'unknown') };
  } catch (err) {
    if (err instanceof IntegrationError) throw err;
    throw networkError(err);
  }
}

async function send(uri: string, request: { method: string; headers: Record<string, string>; body?: string }, signal?: AbortSignal): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(uri, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      // A redirect would carry the API token to wherever it points.
      redirect: 'error',
      signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(20_000)]) : AbortSignal.timeout(20_000),
    });
  } catch (err) {
    throw networkError(err);
  }
  if (response.ok) return response;
  const text = await response.text().catch(() => '');
  throw httpError(response.status, describe(text, response.statusText), { retryAfter: response.headers.get('retry-after') });
}

/** Zendesk errors are `{error, description, details}` (or `{error: {title, message}}`). */
function describe(text: string, fallback: string): string {
  try {
    const body = JSON.parse(text) as { error?: string | { title?: string; message?: string }; description?: string; details?: unknown };
    const error = typeof body.error === 'string' ? body.error : [body.error?.title, body.error?.message].filter(Boolean).join(': ');
    const parts = [error, body.description, body.details ? JSON.stringify(body.details) : undefined].filter(Boolean);
    if (parts.length > 0) return parts.join(' - ').slice(0, 1000);
  } catch {
    // not JSON
  }
  return (text || fallback || 'request failed').slice(0, 300);
}
