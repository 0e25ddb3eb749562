/**
 * /v1/workflows: drafts, validation, publishing, versions, and the API
 * trigger (`POST /v1/workflows/:id/runs`).
 */
import { runStartCursorOf } from './run-start-cursor';
import { Router } from 'express';
import { z } from 'zod';
import { StepError, forEachStep, idempotencyKeyOf, type Definition } from '../interpreter';
import { validateDefinition, type Problem } from '../interpreter/validate';
import { validateAgainstSchema } from '../interpreter/json-schema';
import type { ActionRegistry } from '../activities/registry';
import { newRunId, type RunService } from '../runs/run-service';
import { pickVersion } from '../runs/version-picker';
import { VersionConflictError, type WorkflowRecord, type WorkflowStore } from '../store/workflow-store';
import { ApiError, notFound, parseOr400, type ErrorDetail } from './errors';
import { versionRoutes } from './versions-routes';
import { scheduleRoutes } from '../schedules/schedule-routes';
import type { ScheduleService } from '../schedules/schedule-service';
import { STRICT_ROUTING } from './strict-routing';

const workflowIdSchema = z.string().regex(/^[a-z][a-z0-9_-]{2,63}$/, 'ids are 3-64 lowercase letters, digits, _ or -, starting with a letter');

const createBody = z.strictObject({
  id: workflowIdSchema.optional(),
  name: z.string().trim().min(1).max(200),
  description: z.string().max(5000).optional(),
  definition: z.unknown(),
});

const updateBody = z
  .strictObject({
    name: z.string().trim().min(1).max(200).optional(),
    description: z.string().max(5000).optional(),
    definition: z.unknown().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'give at least one of name, description, definition' });

/** `live: false` freezes the draft as a version without making it live (for a rollout or a later rollback to it). */
const publishBody = z.strictObject({ live: z.boolean().default(true) });

/** A caller's id for an API trigger: decides, like an event id, which side of a rollout the run falls on. */
const requestIdSchema = z.string().min(1).max(200);

export interface WorkflowRoutesDeps {
  workflows: WorkflowStore;
  registry: ActionRegistry;
  runs: RunService;
  /** Keeps Temporal Schedules in step with live versions; also serves /schedule, /archive (src/schedules). */
  schedules?: ScheduleService;
}

function problemDetails(problems: Problem[], prefix: string): ErrorDetail[] {
  return problems.map((p) => ({ path: `${prefix}${p.path === '/' ? '' : p.path}`, message: p.message, code: p.code, stepId: p.stepId }));
}

export function workflowRoutes(deps: WorkflowRoutesDeps): Router {
  const router = Router(STRICT_ROUTING);
  const schedules = deps.schedules;
  router.use(versionRoutes({ workflows: deps.workflows, onLiveVersionChanged: schedules ? async (id) => void (await schedules.syncReporting(id)) : undefined }));
  router.use(scheduleRoutes(deps));

  /** Full validation, including that run_workflow targets exist. */
  async function check(definition: unknown, selfId?: string): Promise<{ ok: true; definition: Definition } | { ok: false; problems: Problem[] }> {
    const result = validateDefinition(definition, deps.registry.catalog);
    if (!result.ok) return result;
    const targets: { id: string; path: string; stepId: string }[] = [];
    forEachStep(result.definition.steps, (step, path) => {
      if (step.type === 'run_workflow') targets.push({ id: step.workflow, path: '/' + [...path, 'workflow'].join('/'), stepId: step.id });
    });
    const known = await deps.workflows.exists(targets.map((t) => t.id));
    const problems: Problem[] = targets
      .filter((t) => !known.has(t.id) && t.id !== selfId)
      .map((t) => ({ code: 'unknown_step' as const, path: t.path, stepId: t.stepId, message: `no workflow "${t.id}" to run` }));
    return problems.length > 0 ? { ok: false, problems } : result;
  }

  const present = (w: WorkflowRecord) => ({
    id: w.id,
    name: w.name,
    description: w.description,
    liveVersion: w.liveVersion,
    draftRevision: w.draftRevision,
    definition: w.draft,
    createdAt: w.createdAt,
    updatedAt: w.updatedAt,
  });

  router.post('/definitions/validate', async (req, res) => {
    const result = await check(req.body);
    res.json(result.ok ? { valid: true, problems: [] } : { valid: false, problems: result.problems });
  });

  router.post('/workflows', async (req, res) => {
    const body = parseOr400(createBody, req.body, 'request body');
    const result = await check(body.definition, body.id);
    if (!result.ok) throw new ApiError(400, 'invalid_definition', 'the definition has problems', problemDetails(result.problems, '/definition'));
    if (body.id && (await deps.workflows.get(body.id))) throw new ApiError(409, 'already_exists', `a workflow "${body.id}" already exists`);
    const created = await deps.workflows.create({ id: body.id, name: body.name, description: body.description, draft: result.definition });
    res.status(201).json(present(created));
  });

  router.get('/workflows', async (_req, res) => {
    res.json({ workflows: (await deps.workflows.list()).map(present) });
  });

  router.get('/workflows/:id', async (req, res) => {
    const workflow = await deps.workflows.get(req.params.id);
    if (!workflow) throw notFound('workflow', req.params.id);
    res.json(present(workflow));
  });

  router.put('/workflows/:id', async (req, res) => {
    const body = parseOr400(updateBody, req.body, 'request body');
    const existing = await deps.workflows.get(req.params.id);
    if (!existing) throw notFound('workflow', req.params.id);
    let draft: Definition | undefined;
    if (body.definition !== undefined) {
      const result = await check(body.definition, existing.id);
      if (!result.ok) throw new ApiError(400, 'invalid_definition', 'the definition has problems', problemDetails(result.problems, '/definition'));
      draft = result.definition;
    }
    const updated = await deps.workflows.updateDraft(existing.id, { name: body.name, description: body.description, draft });
    res.json(present(updated!));
  });

  router.post('/workflows/:id/publish', async (req, res) => {
    const body = parseOr400(publishBody, req.body ?? {}, 'request body');
    const existing = await deps.workflows.get(req.params.id);
    if (!existing) throw notFound('workflow', req.params.id);
    // Re-check: the action registry or the workflows it runs may have changed since the draft was saved.
    const result = await check(existing.draft, existing.id);
    if (!result.ok) throw new ApiError(400, 'invalid_definition', 'the draft has problems and cannot be published', problemDetails(result.problems, '/definition'));
    let version;
    try {
      version = await deps.workflows.publish(existing.id, result.definition, { live: body.live });
    } catch (err) {
      if (err instanceof VersionConflictError) throw new ApiError(409, err.code, err.message);
      throw err;
    }
    // The schedule follows the live version; the publish stands even if Temporal is away (start-up syncs again).
    const schedule = schedules ? await schedules.syncReporting(existing.id) : undefined;
    res.status(201).json({
      workflowId: version.workflowId,
      version: version.version,
      live: body.live,
      publishedAt: version.publishedAt,
      definition: version.definition,
      ...(schedule && schedule.status !== 'none' ? { schedule } : {}),
    });
  });

  router.get('/workflows/:id/versions', async (req, res) => {
    const existing = await deps.workflows.get(req.params.id);
    if (!existing) throw notFound('workflow', req.params.id);
    const versions = await deps.workflows.versions(existing.id);
    res.json({
      liveVersion: existing.liveVersion,
      rollout: existing.rollout,
      versions: versions.map((v) => ({
        version: v.version,
        publishedAt: v.publishedAt,
        live: v.version === existing.liveVersion,
        ...(existing.rollout?.version === v.version ? { rolloutPercent: existing.rollout.percent } : {}),
        definition: v.definition,
      })),
    });
  });

  router.post('/workflows/:id/runs', async (req, res) => {
    const existing = await deps.workflows.get(req.params.id);
    if (!existing) throw notFound('workflow', req.params.id);
    const routing = await deps.workflows.routing(existing.id);
    if (!routing) throw new ApiError(409, 'not_published', `workflow "${existing.id}" has no published version; publish it first`);
    // The rollout side is decided by the caller's key: the idempotency key the live version derives, else the
    // X-Request-Id header, else nothing stable (a fresh id), so a repeated request lands on the same version.
    const requestId = req.get('x-request-id');
    if (requestId !== undefined && !requestIdSchema.safeParse(requestId).success) {
      throw new ApiError(400, 'invalid_request', 'the X-Request-Id header must be 1-200 characters', [{ path: '/headers/x-request-id', message: 'must be 1-200 characters' }]);
    }
    let routingKey: string | null = null;
    try {
      routingKey = idempotencyKeyOf(routing.live.definition.flow, req.body ?? {});
    } catch {
      // The picked version's own check below reports a payload without a key.
    }
    const picked = pickVersion(routing, routingKey ?? requestId ?? `req_${newRunId()}`);
    const live = picked.version;
    const trigger = live.definition.trigger;
    if (trigger.type !== 'api') {
      throw new ApiError(409, 'wrong_trigger', `workflow "${existing.id}" v${live.version} is started by its ${trigger.type} trigger, not the API`);
    }
    const payload: unknown = req.body ?? {};
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      throw new ApiError(400, 'invalid_input', 'the request body must be a JSON object', [{ path: '/', message: 'must be an object' }]);
    }
    if (trigger.inputSchema) {
      const problems = validateAgainstSchema(trigger.inputSchema, payload);
      if (problems.length > 0) {
        throw new ApiError(400, 'invalid_input', `the input does not match the input schema of ${existing.id} v${live.version}`, problems);
      }
    }
    let key: string | null;
    try {
      key = idempotencyKeyOf(live.definition.flow, payload);
    } catch (err) {
      if (!(err instanceof StepError)) throw err;
      throw new ApiError(400, 'invalid_input', `the input gives no idempotency key for ${existing.id} v${live.version}: ${err.message}`, [{ path: '/', message: err.message }]);
    }
    if (key !== null) {
      // The same key within 24 hours: the run it started, not a new one.
      const { created, run } = await deps.runs.startIdempotent(live, { type: 'api', payload }, key, { via: picked.via, eventCursor: await runStartCursorOf(res) });
      res.status(created ? 201 : 200).json(created ? run : { ...run, existing: true });
      return;
    }
    const run = await deps.runs.start(live, { type: 'api', payload }, undefined, { via: picked.via, eventCursor: await runStartCursorOf(res) });
    res.status(201).json(run);
  });

  return router;
}
