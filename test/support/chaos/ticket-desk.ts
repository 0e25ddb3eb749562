/**
 * A case/ticket system on loopback that deduplicates by `Idempotency-Key`
 * as such APIs do: `POST /tickets` with a key it has seen answers the
 * ticket it made then (200, `Idempotent-Replayed: true`) instead of making
 * another. So a retried Make HTTPS Request step makes one ticket, and two
 * tickets for one run would mean two different keys: a step done twice.
 */
import { HttpPeer, type RecordedRequest } from '../peers/http-peer';

export interface Ticket {
  id: string;
  idempotencyKey: string;
  body: Record<string, unknown>;
}

export interface TicketDesk {
  url: string;
  /** By idempotency key. */
  tickets: Map<string, Ticket>;
  /** Requests answered with an earlier ticket. */
  replays(): number;
  /** Resolves when the first ticket whose body has this `requestId` is made. */
  whenTicket(requestId: string): Promise<Ticket>;
  close(): Promise<void>;
}

export async function startTicketDesk(): Promise<TicketDesk> {
  const tickets = new Map<string, Ticket>();
  let replays = 0;
  const waiters = new Map<string, (ticket: Ticket) => void>();
  const made = new Map<string, Ticket>();
  const peer = await HttpPeer.start((request: RecordedRequest) => {
    if (request.method !== 'POST' || request.path !== '/tickets') return { status: 404, body: { error: 'not found' } };
    const key = request.headers['idempotency-key'];
    if (typeof key !== 'string' || key === '') return { status: 400, body: { error: 'Idempotency-Key header required' } };
    const seen = tickets.get(key);
    if (seen) {
      replays++;
      return { status: 200, headers: { 'idempotent-replayed': 'true' }, body: seen };
    }
    const ticket: Ticket = { id: `tk_${tickets.size + 1}`, idempotencyKey: key, body: (request.body ?? {}) as Record<string, unknown> };
    tickets.set(key, ticket);
    const requestId = String(ticket.body.requestId ?? '');
    if (!made.has(requestId)) made.set(requestId, ticket);
    waiters.get(requestId)?.(ticket);
    waiters.delete(requestId);
    return { status: 201, body: ticket };
  });
  return {
    url: peer.url,
    tickets,
    replays: () => replays,
    whenTicket(requestId) {
      const ticket = made.get(requestId);
      return ticket ? Promise.resolve(ticket) : new Promise((resolve) => waiters.set(requestId, resolve));
    },
    async close() {
      await peer.close();
    },
  };
}
