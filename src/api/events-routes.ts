/**
 * /v1/events: upstream services post events here, signed with HMAC-SHA256
 * over `<timestamp>.<raw body>` (see src/events/signature.ts); a bad or stale
 * signature is a 401 and stores nothing; an id seen before is accepted and
 * ignored. GET lists stored events, filterable by type and object.
 */
import { Router, type Request } from 'express';
import { z } from 'zod';
import { eventTypeSchema } from '../interpreter';
import type { EventStore } from '../events/event-store';
import type { EventRouter } from '../events/router';
import { SIGNATURE_HEADER, verifySignature } from '../events/signature';
import { ApiError, parseOr400 } from './errors';
import { STRICT_ROUTING } from './strict-routing';

const eventBody = z.strictObject({
  id: z.string().min(1).max(200),
  type: eventTypeSchema,
  objectType: z.string().regex(/^[a-z][a-z0-9_/-]{0,63}$/).optional(),
  objectId: z.string().min(1).max(200).optional(),
  /** The object as it is after the change, if the sender has it. */
  object: z.record(z.string(), z.unknown()).optional(),
  data: z.record(z.string(), z.unknown()).optional(),
  occurredAt: z.iso.datetime({ offset: true }).optional(),
});

const listQuery = z.strictObject({
  type: eventTypeSchema.optional(),
  objectId: z.string().min(1).max(200).optional(),
  objectType: z.string().min(1).max(64).optional(),
  after: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export interface EventRoutesDeps {
  events: EventStore;
  router?: EventRouter;
  /** The shared secret upstream senders sign with. */
  signingSecret: string;
}

export function eventRoutes(deps: EventRoutesDeps): Router {
  const router = Router(STRICT_ROUTING);

  router.post('/events', async (req, res) => {
    const raw = (req as Request & { rawBody?: Buffer }).rawBody ?? Buffer.alloc(0);
    // An API key with events:write (checked by the access control middleware) stands in for the signature.
    if (res.locals.principal?.kind !== 'api_key') {
      const check = verifySignature(deps.signingSecret, req.get(SIGNATURE_HEADER), raw);
      if (!check.ok) throw new ApiError(401, 'invalid_signature', check.reason);
    }
    const body = parseOr400(eventBody, req.body, 'event');
    const { event, duplicate } = await deps.events.ingest({
      id: body.id,
      type: body.type,
      objectType: body.objectType,
      objectId: body.objectId,
      snapshot: body.object,
      data: body.data,
      occurredAt: body.occurredAt,
    });
    if (!duplicate) deps.router?.nudge();
    res.status(202).json({ accepted: true, duplicate, event: { id: event.id, seq: event.seq, type: event.type } });
  });

  router.get('/events', async (req, res) => {
    const q = parseOr400(listQuery, req.query, 'query string');
    res.json({ events: await deps.events.list({ type: q.type, objectId: q.objectId, objectType: q.objectType, afterSeq: q.after, limit: q.limit }) });
  });

  return router;
}
