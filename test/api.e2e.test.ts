/**
 * The HTTP API's contract: drafts, validation with paths, publishing
 * numbered versions, runs pinned to their version, and errors that are JSON
 * with a stable code (400 with paths, 404, 409, 413) and change nothing.
 */
import { api, createHarness, isClosed, publishWorkflow, startRun, stepOf, waitForRun, type Harness } from './support/harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

const simple = (label: string) => ({
  trigger: { type: 'api' },
  steps: [
    { id: 'pause', type: 'wait_for_time', duration: '1500ms', next: 'mark' },
    { id: 'mark', type: 'action', action: 'record_mark', params: { label } },
  ],
});

describe('drafts and versions', () => {
  it('creates a draft, updates it, publishes numbered versions, and lists them', async () => {
    const created = await api(h, 'POST', '/v1/workflows', { id: 'kyc_flow', name: 'KYC flow', definition: simple('v1') });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: 'kyc_flow', name: 'KYC flow', liveVersion: null, draftRevision: 1 });
    expect(created.body.definition.language).toBe(1);

    const notYet = await api(h, 'POST', '/v1/workflows/kyc_flow/runs', {});
    expect(notYet.status).toBe(409);
    expect(notYet.body.error.code).toBe('not_published');

    expect((await api(h, 'POST', '/v1/workflows/kyc_flow/publish')).body.version).toBe(1);
    const updated = await api(h, 'PUT', '/v1/workflows/kyc_flow', { definition: simple('v2'), description: 'second' });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ draftRevision: 2, liveVersion: 1, description: 'second' });
    expect((await api(h, 'POST', '/v1/workflows/kyc_flow/publish')).body.version).toBe(2);

    const versions = await api(h, 'GET', '/v1/workflows/kyc_flow/versions');
    expect(versions.body.liveVersion).toBe(2);
    expect(versions.body.versions.map((v: { version: number; live: boolean }) => [v.version, v.live])).toEqual([
      [2, true],
      [1, false],
    ]);
    const list = await api(h, 'GET', '/v1/workflows');
    expect(list.body.workflows.map((w: { id: string }) => w.id)).toContain('kyc_flow');
  });

  it('keeps a run on the version it started with when a new version is published', async () => {
    await publishWorkflow(h, 'pinned_flow', simple('first'));
    const runId = await startRun(h, 'pinned_flow');
    await api(h, 'PUT', '/v1/workflows/pinned_flow', { definition: simple('second') });
    expect((await api(h, 'POST', '/v1/workflows/pinned_flow/publish')).body.version).toBe(2);
    const laterRunId = await startRun(h, 'pinned_flow');

    const run = await waitForRun(h, runId, isClosed);
    const later = await waitForRun(h, laterRunId, isClosed);
    expect(run.version).toBe(1);
    expect(stepOf(run, 'mark').output.label).toBe('first');
    expect(later.version).toBe(2);
    expect(stepOf(later, 'mark').output.label).toBe('second');

    const listed = await api(h, 'GET', '/v1/runs?workflow=pinned_flow&status=completed');
    expect(listed.status).toBe(200);
    const byId = Object.fromEntries(listed.body.runs.map((r: { runId: string; version: number }) => [r.runId, r.version]));
    expect(byId).toEqual({ [runId]: 1, [laterRunId]: 2 });
    expect(listed.body.runs[0].temporalUrl).toMatch(/\/namespaces\/default\/workflows\/run_/);
  });
});

describe('validation through the API', () => {
  it('rejects an invalid definition with every problem, its path and step, and stores nothing', async () => {
    const res = await api(h, 'POST', '/v1/workflows', {
      id: 'broken_flow',
      name: 'Broken',
      definition: {
        trigger: { type: 'api', inputSchema: { type: 'strnig' } },
        steps: [
          { id: 'a', type: 'action', action: 'no_such_action', next: 'b' },
          { id: 'b', type: 'condition', routes: [{ when: 'trigger.x >', next: 'nowhere' }], default: 'a' },
          { id: 'c', type: 'action', action: 'set_variables', params: { variables: { x: '{{ steps.c.output }' } } },
        ],
      },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_definition');
    const found = res.body.error.details.map((d: { code: string; path: string; stepId?: string }) => [d.code, d.path, d.stepId ?? null]);
    expect(found).toEqual(
      expect.arrayContaining([
        ['unknown_action', '/definition/steps/0/action', 'a'],
        ['expression_syntax', '/definition/steps/1/routes/0/when', 'b'],
        ['unknown_step', '/definition/steps/1/routes/0/next', 'b'],
        ['unreachable_step', '/definition/steps/2', 'c'],
        ['invalid_input_schema', '/definition/trigger/inputSchema/type', null],
      ]),
    );
    expect((await api(h, 'GET', '/v1/workflows/broken_flow')).status).toBe(404);
  });

  it('rejects a run_workflow step naming a workflow that does not exist', async () => {
    const res = await api(h, 'POST', '/v1/workflows', {
      name: 'Parent',
      definition: { trigger: { type: 'api' }, steps: [{ id: 'child', type: 'run_workflow', workflow: 'ghost_flow' }] },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([expect.objectContaining({ path: '/definition/steps/0/workflow', stepId: 'child' })]);
  });

  it('checks definitions without saving them', async () => {
    const ok = await api(h, 'POST', '/v1/definitions/validate', simple('x'));
    expect(ok.body).toEqual({ valid: true, problems: [] });
    const bad = await api(h, 'POST', '/v1/definitions/validate', { trigger: { type: 'api' }, steps: [{ id: 'Bad Id', type: 'end' }] });
    expect(bad.body.valid).toBe(false);
    expect(bad.body.problems[0]).toMatchObject({ code: 'invalid_shape', path: '/steps/0/id' });
  });

  it('does not change a draft when an update is invalid', async () => {
    await api(h, 'POST', '/v1/workflows', { id: 'stable_flow', name: 'Stable', definition: simple('keep') });
    const res = await api(h, 'PUT', '/v1/workflows/stable_flow', { definition: { trigger: { type: 'api' }, steps: [] } });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].path).toBe('/definition/steps');
    const after = await api(h, 'GET', '/v1/workflows/stable_flow');
    expect(after.body.draftRevision).toBe(1);
    expect(after.body.definition.steps[1].params.label).toBe('keep');
  });
});

describe('errors', () => {
  it('answers unknown ids with 404 JSON', async () => {
    for (const path of ['/v1/workflows/nope_flow', '/v1/workflows/nope_flow/versions', '/v1/runs/run_nope', '/v1/runs/not-a-run-id', '/v1/nothing-here']) {
      const res = await api(h, 'GET', path);
      expect([path, res.status, res.body.error.code]).toEqual([path, 404, 'not_found']);
    }
    expect((await api(h, 'POST', '/v1/workflows/nope_flow/runs', {})).status).toBe(404);
    expect((await api(h, 'POST', '/v1/runs/run_nope/cancel')).status).toBe(404);
  });

  it('answers malformed JSON with 400 and oversized bodies with 413', async () => {
    const malformed = await api(h, 'POST', '/v1/workflows', '{"name": ');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('invalid_json');
    const huge = await api(h, 'POST', '/v1/workflows', { name: 'x', definition: { pad: 'x'.repeat(300 * 1024) } });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('body_too_large');
  });

  it('validates request bodies and query strings with paths', async () => {
    const body = await api(h, 'POST', '/v1/workflows', { id: 'Bad', name: '', definition: simple('x'), extra: 1 });
    expect(body.status).toBe(400);
    expect(body.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['/', '/id', '/name']);
    const query = await api(h, 'GET', '/v1/runs?status=sleeping&limit=0');
    expect(query.status).toBe(400);
    expect(query.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['/limit', '/status']);
    const dup = await api(h, 'POST', '/v1/workflows', { id: 'stable_flow', name: 'Again', definition: simple('x') });
    expect(dup.status).toBe(409);
  });

  it('refuses to start an event-triggered workflow through the API trigger', async () => {
    await publishWorkflow(h, 'event_flow', { trigger: { type: 'event', event: 'inquiry.completed' }, steps: [{ id: 'done', type: 'end' }] });
    const res = await api(h, 'POST', '/v1/workflows/event_flow/runs', {});
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('wrong_trigger');
  });
});
