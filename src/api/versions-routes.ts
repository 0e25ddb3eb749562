/**
 * Which published version new runs get: rollback to an earlier version, a
 * percentage rollout of another version beside the live one (promote or
 * abort it), and the log of those changes. Runs in flight stay on the
 * version they started with whatever changes here.
 *
 *   POST /v1/workflows/:id/rollback          {version}
 *   POST /v1/workflows/:id/rollout           {version, percent}
 *   POST /v1/workflows/:id/rollout/promote
 *   POST /v1/workflows/:id/rollout/abort
 *   GET  /v1/workflows/:id/rollout
 *   GET  /v1/workflows/:id/version-changes
 */
import { Router } from 'express';
import { z } from 'zod';
import { VersionConflictError, type WorkflowRecord, type WorkflowStore } from '../store/workflow-store';
import { ApiError, notFound, parseOr400 } from './errors';
import { STRICT_ROUTING } from './strict-routing';

const rollbackBody = z.strictObject({ version: z.number().int().min(1) });
const rolloutBody = z.strictObject({
  version: z.number().int().min(1),
  /** Share of new runs, 0-100, up to two decimals. */
  percent: z
    .number()
    .min(0)
    .max(100)
    .refine((p) => Math.abs(Math.round(p * 100) - p * 100) < 1e-9, 'at most two decimals'),
});

export interface VersionRoutesDeps {
  workflows: WorkflowStore;
  /** Told whenever the live version changes (schedules follow it). */
  onLiveVersionChanged?: (workflowId: string) => Promise<void>;
}

/** What the API shows of where new runs go. */
export function presentRouting(w: WorkflowRecord) {
  return {
    workflowId: w.id,
    liveVersion: w.liveVersion,
    rollout: w.rollout ? { version: w.rollout.version, percent: w.rollout.percent, startedAt: w.rollout.startedAt, liveVersion: w.liveVersion } : null,
  };
}

export function versionRoutes(deps: VersionRoutesDeps): Router {
  const router = Router(STRICT_ROUTING);

  async function existing(id: string): Promise<WorkflowRecord> {
    const workflow = await deps.workflows.get(id);
    if (!workflow) throw notFound('workflow', id);
    return workflow;
  }

  async function change(id: string, apply: () => Promise<WorkflowRecord>, liveChanges: boolean): Promise<WorkflowRecord> {
    await existing(id);
    let updated: WorkflowRecord;
    try {
      updated = await apply();
    } catch (err) {
      if (err instanceof VersionConflictError) throw new ApiError(409, err.code, err.message);
      throw err;
    }
    if (liveChanges) await deps.onLiveVersionChanged?.(id);
    return updated;
  }

  router.post('/workflows/:id/rollback', async (req, res) => {
    const body = parseOr400(rollbackBody, req.body ?? {}, 'request body');
    const updated = await change(req.params.id, () => deps.workflows.rollback(req.params.id, body.version), true);
    res.json(presentRouting(updated));
  });

  router.get('/workflows/:id/rollout', async (req, res) => {
    res.json(presentRouting(await existing(req.params.id)));
  });

  router.post('/workflows/:id/rollout', async (req, res) => {
    const body = parseOr400(rolloutBody, req.body ?? {}, 'request body');
    const updated = await change(req.params.id, () => deps.workflows.startRollout(req.params.id, body.version, body.percent), false);
    res.json(presentRouting(updated));
  });

  router.post('/workflows/:id/rollout/promote', async (req, res) => {
    const updated = await change(req.params.id, () => deps.workflows.promoteRollout(req.params.id), true);
    res.json(presentRouting(updated));
  });

  router.post('/workflows/:id/rollout/abort', async (req, res) => {
    const updated = await change(req.params.id, () => deps.workflows.abortRollout(req.params.id), false);
    res.json(presentRouting(updated));
  });

  router.get('/workflows/:id/version-changes', async (req, res) => {
    await existing(req.params.id);
    res.json({ changes: await deps.workflows.changes(req.params.id) });
  });

  return router;
}
