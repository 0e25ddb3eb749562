/**
 * `POST /v1/workflows/:id/test-runs`: run the saved draft (not the live
 * version) once with a sample trigger payload, so the editor can try a
 * workflow before publishing it. A test run is an ordinary run pinned to
 * "version 0" with trigger type `manual`; it is read, listed, signalled and
 * cancelled through /v1/runs like any other.
 */
import { Router } from 'express';
import { z } from 'zod';
import { validateAgainstSchema } from '../interpreter/json-schema';
import { validateDefinition } from '../interpreter/validate';
import type { ActionRegistry } from '../activities/registry';
import type { RunService } from '../runs/run-service';
import type { WorkflowStore } from '../store/workflow-store';
import { ApiError, notFound, parseOr400 } from './errors';
import { STRICT_ROUTING } from './strict-routing';

/** The version number test runs of a draft carry (published versions start at 1). */
export const DRAFT_VERSION = 0;

const testRunBody = z.strictObject({
  /** What the run sees as `trigger`: the API body, `{event, object}` for an event trigger, or a schedule's input. */
  input: z.record(z.string(), z.unknown()).default({}),
});

export function testRunRoutes(deps: { workflows: WorkflowStore; runs: RunService; registry: ActionRegistry }): Router {
  const router = Router(STRICT_ROUTING);

  router.post('/workflows/:id/test-runs', async (req, res) => {
    const body = parseOr400(testRunBody, req.body ?? {}, 'request body');
    const workflow = await deps.workflows.get(req.params.id);
    if (!workflow) throw notFound('workflow', req.params.id);
    // Drafts are valid when saved, but the action registry may have changed since.
    const checked = validateDefinition(workflow.draft, deps.registry.catalog);
    if (!checked.ok) {
      throw new ApiError(400, 'invalid_definition', 'the draft has problems and cannot run', checked.problems.map((p) => ({ path: `/definition${p.path === '/' ? '' : p.path}`, message: p.message, code: p.code, stepId: p.stepId })));
    }
    const definition = checked.definition;
    const trigger = definition.trigger;
    // An API trigger's input schema applies to test payloads too: a test that the real trigger would refuse proves nothing.
    if (trigger.type === 'api' && trigger.inputSchema) {
      const problems = validateAgainstSchema(trigger.inputSchema, body.input);
      if (problems.length > 0) {
        throw new ApiError(400, 'invalid_input', `the sample input does not match the input schema of ${workflow.id}`, problems.map((p) => ({ ...p, path: `/input${p.path === '/' ? '' : p.path}` })));
      }
    }
    const run = await deps.runs.start(
      { workflowId: workflow.id, version: DRAFT_VERSION, definition, publishedAt: workflow.updatedAt },
      { type: 'manual', payload: body.input },
    );
    res.status(201).json(run);
  });

  return router;
}
