/** /v1/runs: read a run's state, list runs, deliver an event, cancel. */
import { Router } from 'express';
import { z } from 'zod';
import { eventTypeSchema } from '../interpreter';
import { RunNotActiveError, RunNotFoundError, type RunService } from '../runs/run-service';
import { ApiError, notFound, parseOr400 } from './errors';

const listQuery = z.strictObject({
  workflow: z.string().regex(/^[a-z][a-z0-9_-]{2,63}$/, 'not a workflow id').optional(),
  status: z.enum(['running', 'completed', 'failed', 'cancelled', 'terminated', 'timed_out']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

const runIdSchema = z.string().regex(/^run_[a-z0-9_-]{1,200}$/);

const eventBody = z.strictObject({
  id: z.string().min(1).max(200).optional(),
  type: eventTypeSchema,
  objectId: z.string().min(1).max(200).optional(),
  objectType: z.string().min(1).max(100).optional(),
  data: z.unknown().optional(),
  occurredAt: z.iso.datetime().optional(),
});

async function translate<T>(runId: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof RunNotFoundError) throw notFound('run', runId);
    if (err instanceof RunNotActiveError) throw new ApiError(409, 'run_not_active', err.message);
    throw err;
  }
}

function checkRunId(id: string): void {
  if (!runIdSchema.safeParse(id).success) throw notFound('run', id);
}

export function runRoutes(runs: RunService): Router {
  const router = Router();

  router.get('/runs', async (req, res) => {
    const q = parseOr400(listQuery, req.query, 'query string');
    res.json({ runs: await runs.list({ workflowId: q.workflow, status: q.status, limit: q.limit }) });
  });

  router.get('/runs/:id', async (req, res) => {
    checkRunId(req.params.id);
    res.json(await translate(req.params.id, () => runs.get(req.params.id)));
  });

  router.post('/runs/:id/events', async (req, res) => {
    checkRunId(req.params.id);
    const body = parseOr400(eventBody, req.body, 'event');
    const event = await translate(req.params.id, () => runs.deliverEvent(req.params.id, body));
    res.status(202).json({ delivered: true, event });
  });

  router.post('/runs/:id/cancel', async (req, res) => {
    checkRunId(req.params.id);
    await translate(req.params.id, () => runs.cancel(req.params.id));
    res.status(202).json({ cancelling: true, runId: req.params.id });
  });

  return router;
}
