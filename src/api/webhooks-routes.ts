/**
 * /v1/webhooks: subscribers register a URL and the event types they want;
 * every matching event the service records is POSTed to them, signed with
 * the subscription's secret (shown once, on create and on rotation). Their
 * deliveries, with every attempt, can be read and replayed.
 * All of it needs the `webhooks:manage` scope.
 */
import { Router } from 'express';
import { z } from 'zod';
import { HttpNetworkError, RequestBlockedError } from '../http/errors';
import type { Webhooks } from '../webhooks';
import { eventPatternSchema } from '../webhooks';
import { ApiError, notFound, parseOr400 } from './errors';
import { STRICT_ROUTING } from './strict-routing';

const urlSchema = z
  .string()
  .max(2000)
  .refine((u) => URL.canParse(u), 'must be an absolute URL')
  .refine((u) => !URL.canParse(u) || ['https:', 'http:'].includes(new URL(u).protocol), 'must be an https URL');

const createBody = z.strictObject({
  url: urlSchema,
  eventTypes: z.array(eventPatternSchema).min(1).max(50),
  description: z.string().max(500).optional(),
  enabled: z.boolean().optional(),
});

const updateBody = z
  .strictObject({
    url: urlSchema.optional(),
    eventTypes: z.array(eventPatternSchema).min(1).max(50).optional(),
    description: z.string().max(500).optional(),
    enabled: z.boolean().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'give at least one of url, eventTypes, description, enabled' });

const deliveriesQuery = z.strictObject({
  status: z.enum(['pending', 'succeeded', 'failed']).optional(),
  eventId: z.string().min(1).max(200).optional(),
  before: z.string().regex(/^whd_[0-9a-f]{32}$/).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});


/** The auth layer's route table asks for the scope too; this holds even where a route is missing from it. */
export function webhookRoutes(webhooks: Webhooks): Router {
  const router = Router(STRICT_ROUTING);
  // Scope webhooks:manage on every route: the access guard (src/auth/route-scopes.ts).

  /** The SSRF guard's verdict now, so a subscriber on a private address is refused when saved, not at its first event. */
  async function checkDestination(url: string): Promise<void> {
    try {
      await webhooks.guard.check(new URL(url));
    } catch (err) {
      if (err instanceof RequestBlockedError) throw new ApiError(400, 'invalid_request', 'the webhook URL is not allowed', [{ path: '/url', message: err.message }]);
      // A name that does not resolve yet may resolve later (it is checked again at every send), but only over https.
      if (err instanceof HttpNetworkError) {
        if (new URL(url).protocol === 'https:') return;
        throw new ApiError(400, 'invalid_request', 'the webhook URL is not allowed', [{ path: '/url', message: `plain http is only allowed for allow-listed hosts, and ${err.message}` }]);
      }
      throw err;
    }
  }

  router.post('/webhooks', async (req, res) => {
    const body = parseOr400(createBody, req.body, 'request body');
    await checkDestination(body.url);
    const created = await webhooks.store.create(body);
    res.status(201).json(created);
  });

  router.get('/webhooks', async (_req, res) => {
    res.json({ webhooks: await webhooks.store.list() });
  });

  router.get('/webhooks/:id', async (req, res) => {
    const found = await webhooks.store.get(req.params.id);
    if (!found) throw notFound('webhook', req.params.id);
    res.json(found);
  });

  router.patch('/webhooks/:id', async (req, res) => {
    const body = parseOr400(updateBody, req.body, 'request body');
    if (body.url !== undefined) await checkDestination(body.url);
    const updated = await webhooks.store.update(req.params.id, body);
    if (!updated) throw notFound('webhook', req.params.id);
    res.json(updated);
  });

  router.post('/webhooks/:id/rotate-secret', async (req, res) => {
    const rotated = await webhooks.store.rotateSecret(req.params.id);
    if (!rotated) throw notFound('webhook', req.params.id);
    res.json(rotated);
  });

  router.delete('/webhooks/:id', async (req, res) => {
    if (!(await webhooks.store.delete(req.params.id))) throw notFound('webhook', req.params.id);
    res.status(204).end();
  });

  router.get('/webhooks/:id/deliveries', async (req, res) => {
    const query = parseOr400(deliveriesQuery, req.query, 'query string');
    if (!(await webhooks.store.get(req.params.id))) throw notFound('webhook', req.params.id);
    res.json({ deliveries: await webhooks.deliveries.list(req.params.id, query) });
  });

  router.get('/webhook-deliveries/:id', async (req, res) => {
    const delivery = await webhooks.deliveries.get(req.params.id);
    if (!delivery) throw notFound('webhook delivery', req.params.id);
    res.json(delivery);
  });

  router.post('/webhook-deliveries/:id/replay', async (req, res) => {
    const replay = await webhooks.deliveries.replay(req.params.id);
    if (!replay) throw notFound('webhook delivery', req.params.id);
    webhooks.dispatcher.nudge();
    res.status(202).json(replay);
  });

  return router;
}
