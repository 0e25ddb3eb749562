/**
 * A loopback Zendesk Support API: Update Ticket (PUT /api/v2/tickets/{id}.json)
 * with API-token Basic auth (`{email}/token:{token}`), a JSON `{ticket}` body
 * (comment with public flag, tags, additional_tags, remove_tags, status,
 * custom_fields) applied to tickets held in memory, the `{ticket, audit}`
 * answer, and Zendesk's error bodies (`{error, description, details}`): a
 * closed ticket cannot be updated (422), as in Zendesk.
 */
import { basicAuth, HttpPeer, type PeerResponse, type RecordedRequest } from './http-peer';

export interface ZendeskTicket {
  id: number;
  status: string;
  tags: string[];
  comments: Array<{ body: string; public: boolean }>;
  custom_fields: Array<{ id: number; value: unknown }>;
}

export interface ZendeskAccount {
  email: string;
  token: string;
}

export function zendeskError(status: number, error: string, description?: string): PeerResponse {
  return { status, body: description === undefined ? { error } : { error, description } };
}

export async function startZendeskPeer(account: ZendeskAccount): Promise<HttpPeer & { tickets: Map<number, ZendeskTicket> }> {
  const tickets = new Map<number, ZendeskTicket>();
  let auditId = 9000;
  const peer = await HttpPeer.start((request) => handle(request, account, tickets, () => ++auditId));
  return Object.assign(peer, { tickets });
}

function handle(request: RecordedRequest, account: ZendeskAccount, tickets: Map<number, ZendeskTicket>, nextAuditId: () => number): PeerResponse {
  const auth = basicAuth(request.headers);
  if (!auth || auth.user !== `${account.email}/token` || auth.password !== account.token) return zendeskError(401, "Couldn't authenticate you");
  const match = /^\/api\/v2\/tickets\/(\d+)\.json$/.exec(request.path);
  if (!match || request.method !== 'PUT') return zendeskError(404, 'InvalidEndpoint', 'Not found');
  const ticket = tickets.get(Number(match[1]));
  if (!ticket) return zendeskError(404, 'RecordNotFound', 'Not found');
  if (ticket.status === 'closed') {
    return { status: 422, body: { error: 'RecordInvalid', description: 'Record validation errors', details: { status: [{ description: 'Status: closed prevents ticket update' }] } } };
  }
  const change = ((request.body ?? {}) as { ticket?: Record<string, any> }).ticket ?? {};
  const events: unknown[] = [];
  if (change.comment) {
    ticket.comments.push({ body: change.comment.body, public: change.comment.public !== false });
    events.push({ type: 'Comment', body: change.comment.body, public: change.comment.public !== false });
  }
  // Zendesk stores tags lower-cased.
  if (Array.isArray(change.tags)) ticket.tags = change.tags.map((t: string) => t.toLowerCase());
  if (Array.isArray(change.additional_tags)) for (const tag of change.additional_tags) if (!ticket.tags.includes(tag.toLowerCase())) ticket.tags.push(tag.toLowerCase());
  if (Array.isArray(change.remove_tags)) ticket.tags = ticket.tags.filter((tag) => !change.remove_tags.map((t: string) => t.toLowerCase()).includes(tag));
  if (typeof change.status === 'string') ticket.status = change.status;
  if (Array.isArray(change.custom_fields)) {
    for (const field of change.custom_fields) {
      const existing = ticket.custom_fields.find((f) => f.id === field.id);
      if (existing) existing.value = field.value;
      else ticket.custom_fields.push({ id: field.id, value: field.value });
    }
  }
  return {
    status: 200,
    body: {
      ticket: { id: ticket.id, url: `/api/v2/tickets/${ticket.id}.json`, status: ticket.status, tags: ticket.tags, custom_fields: ticket.custom_fields, subject: 'Identity verification' },
      audit: { id: nextAuditId(), ticket_id: ticket.id, events },
    },
  };
}
