/**
 * The HTTP side of schedules, mounted under /v1 by the workflow routes:
 *
 *   GET  /v1/workflows/:id/schedule          spec, policies, state, next run times (Temporal's describe)
 *   POST /v1/workflows/:id/schedule/pause    {note?}
 *   POST /v1/workflows/:id/schedule/resume   {note?}
 *   POST /v1/workflows/:id/schedule/trigger  fire once now (a recurring sweep on demand)
 *   POST /v1/workflows/:id/archive           no live version any more; the schedule is deleted
 *   POST /v1/workflows/:id/manual-runs       {payload?, version?}: a run of any published workflow, trigger type manual
 */
import { Router } from 'express';
import { z } from 'zod';
import { validateAgainstSchema } from '../interpreter/json-schema';
import type { RunService } from '../runs/run-service';
import type { WorkflowStore } from '../store/workflow-store';
import { ApiError, notFound, parseOr400 } from '../api/errors';
import { NoScheduleError, type ScheduleService } from './schedule-service';
import { STRICT_ROUTING } from '../api/strict-routing';

const noteBody = z.strictObject({ note: z.string().trim().min(1).max(500).optional() });
const manualRunBody = z.strictObject({
  /** The run's trigger payload (`trigger.*`). */
  payload: z.record(z.string(), z.unknown()).default({}),
  /** A published version to run; default the live one. */
  version: z.number().int().min(1).optional(),
});

export interface ScheduleRoutesDeps {
  workflows: WorkflowStore;
  runs: RunService;
  /** Without it only the manual trigger is served. */
  schedules?: ScheduleService;
}

export function scheduleRoutes(deps: ScheduleRoutesDeps): Router {
  const router = Router(STRICT_ROUTING);

  async function existing(id: string) {
    const workflow = await deps.workflows.get(id);
    if (!workflow) throw notFound('workflow', id);
    return workflow;
  }

  async function translate<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof NoScheduleError) throw new ApiError(404, 'not_found', err.message);
      throw err;
    }
  }

  router.post('/workflows/:id/manual-runs', async (req, res) => {
    const body = parseOr400(manualRunBody, req.body ?? {}, 'request body');
    const workflow = await existing(req.params.id);
    const version = body.version !== undefined ? await deps.workflows.version(workflow.id, body.version) : await deps.workflows.liveVersion(workflow.id);
    if (!version) {
      if (body.version !== undefined) throw new ApiError(404, 'not_found', `workflow "${workflow.id}" has no version ${body.version}`, [{ path: '/version', message: 'no such published version' }]);
      throw new ApiError(409, 'not_published', `workflow "${workflow.id}" has no live version; publish it first or name a version`);
    }
    const trigger = version.definition.trigger;
    if (trigger.type === 'api' && trigger.inputSchema) {
      const problems = validateAgainstSchema(trigger.inputSchema, body.payload);
      if (problems.length > 0) {
        throw new ApiError(
          400,
          'invalid_input',
          `the payload does not match the input schema of ${workflow.id} v${version.version}`,
          problems.map((p) => ({ ...p, path: `/payload${p.path === '/' ? '' : p.path}` })),
        );
      }
    }
    const run = await deps.runs.start(version, { type: 'manual', payload: body.payload });
    res.status(201).json(run);
  });

  const schedules = deps.schedules;
  if (!schedules) return router;

  router.get('/workflows/:id/schedule', async (req, res) => {
    const workflow = await existing(req.params.id);
    res.json(await translate(() => schedules.describe(workflow.id)));
  });

  router.post('/workflows/:id/schedule/pause', async (req, res) => {
    const body = parseOr400(noteBody, req.body ?? {}, 'request body');
    const workflow = await existing(req.params.id);
    res.json(await translate(() => schedules.pause(workflow.id, body.note)));
  });

  router.post('/workflows/:id/schedule/resume', async (req, res) => {
    const body = parseOr400(noteBody, req.body ?? {}, 'request body');
    const workflow = await existing(req.params.id);
    res.json(await translate(() => schedules.resume(workflow.id, body.note)));
  });

  router.post('/workflows/:id/schedule/trigger', async (req, res) => {
    const workflow = await existing(req.params.id);
    res.status(202).json(await translate(() => schedules.triggerNow(workflow.id)));
  });

  router.post('/workflows/:id/archive', async (req, res) => {
    const workflow = await existing(req.params.id);
    const archived = await schedules.archive(workflow.id);
    if (!archived) throw notFound('workflow', workflow.id);
    res.json({ workflowId: workflow.id, archivedAt: archived.archivedAt, schedule: archived.schedule });
  });

  return router;
}
