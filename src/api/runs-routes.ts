/** /v1/runs: read a run's state and timeline, list runs, deliver an event, cancel, retry or restart. */
import { Router } from 'express';
import { z } from 'zod';
import type { CredentialStore } from '../credentials/store';
import { eventTypeSchema, type RunState } from '../interpreter';
import { secretValuesOf } from '../runs/redact';
import { RunNotActiveError, RunNotFoundError, RunNotRetryableError, type RunService } from '../runs/run-service';
import { ApiError, notFound, parseOr400 } from './errors';
import { STRICT_ROUTING } from './strict-routing';

const runIdSchema = z.string().regex(/^run_[a-z0-9_-]{1,200}$/);

const listQuery = z.strictObject({
  workflow: z.string().regex(/^[a-z][a-z0-9_-]{2,63}$/, 'not a workflow id').optional(),
  status: z.enum(['running', 'completed', 'failed', 'cancelled', 'terminated', 'timed_out']).optional(),
  version: z.coerce.number().int().min(0).max(1_000_000).optional(),
  triggerType: z.enum(['api', 'event', 'schedule', 'child', 'manual']).optional(),
  objectId: z.string().regex(/^[a-z]+_[0-9a-z]{1,64}$/, 'not an object id').optional(),
  retryOf: runIdSchema.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

const retryBody = z.strictObject({
  from: z.enum(['failed_step', 'start']),
});

/** Credential ids a run's inputs name: their secret values are masked wherever they appear. */
const CREDENTIAL_ID = /^cred_[0-9a-z]{1,64}$/;

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
    if (err instanceof RunNotRetryableError) throw new ApiError(409, err.code, err.message);
    throw err;
  }
}

function checkRunId(id: string): void {
  if (!runIdSchema.safeParse(id).success) throw notFound('run', id);
}

/** The secret values of the credentials named anywhere in a run's step inputs. */
async function credentialSecrets(credentials: CredentialStore, inputs: unknown[]): Promise<string[]> {
  const ids = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      if (CREDENTIAL_ID.test(v)) ids.add(v);
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  inputs.forEach(walk);
  const values: string[] = [];
  for (const id of ids) {
    const record = await credentials.get(id);
    if (!record) continue;
    const secret = await credentials.resolve(id, record.kind).catch(() => undefined);
    values.push(...secretValuesOf(secret));
  }
  return values;
}

export function runRoutes(runs: RunService, deps: { credentials?: CredentialStore } = {}): Router {
  const router = Router(STRICT_ROUTING);

  router.get('/runs', async (req, res) => {
    const q = parseOr400(listQuery, req.query, 'query string');
    res.json({
      runs: await runs.list({ workflowId: q.workflow, status: q.status, version: q.version, triggerType: q.triggerType, objectId: q.objectId, retryOf: q.retryOf, limit: q.limit }),
    });
  });

  router.get('/runs/:id', async (req, res) => {
    checkRunId(req.params.id);
    const credentials = deps.credentials;
    // Credential values never enter a run, but an action may echo one back: mask any that appear.
    const secretValuesFor = credentials ? (state: RunState) => credentialSecrets(credentials, state.steps.map((s) => s.input)) : undefined;
    res.json(await translate(req.params.id, () => runs.get(req.params.id, secretValuesFor)));
  });

  /** A new run for a failed one: `{from: 'failed_step'}` carries the earlier steps' results over; `{from: 'start'}` begins again with the same input. */
  router.post('/runs/:id/retry', async (req, res) => {
    checkRunId(req.params.id);
    const body = parseOr400(retryBody, req.body ?? {}, 'request body');
    const { created, run } = await translate(req.params.id, () => runs.retry(req.params.id, body.from));
    res.status(created ? 201 : 200).json(created ? run : { ...run, existing: true });
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
