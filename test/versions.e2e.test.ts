/**
 * Versions: drafts published as numbered, immutable versions; one live
 * version; publishing without going live; rollback to an earlier version;
 * runs staying on the version they started with; the log of live changes.
 */
import { api, createHarness, isClosed, publishWorkflow, startRun, stepOf, waitForRun, type Harness } from './support/harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

const definition = (label: string) => ({
  trigger: { type: 'api' },
  steps: [
    { id: 'hold', type: 'wait_for_event', events: ['case.resolved'], timeout: '30s', onTimeout: 'continue', next: 'done' },
    { id: 'done', type: 'end', reason: label },
  ],
});

async function newVersion(id: string, label: string, live = true): Promise<number> {
  expect((await api(h, 'PUT', `/v1/workflows/${id}`, { definition: definition(label) })).status).toBe(200);
  const published = await api(h, 'POST', `/v1/workflows/${id}/publish`, { live });
  expect(published.status).toBe(201);
  return published.body.version;
}

it('rolls back to an earlier version: new runs start there, runs in flight stay on theirs', async () => {
  await publishWorkflow(h, 'vers_rollback', definition('one'));
  expect(await newVersion('vers_rollback', 'two')).toBe(2);

  const onTwo = await startRun(h, 'vers_rollback');
  expect((await api(h, 'GET', `/v1/runs/${onTwo}`)).body.version).toBe(2);

  const rolledBack = await api(h, 'POST', '/v1/workflows/vers_rollback/rollback', { version: 1 });
  expect(rolledBack.status).toBe(200);
  expect(rolledBack.body).toMatchObject({ liveVersion: 1, rollout: null });

  const onOne = await api(h, 'POST', '/v1/workflows/vers_rollback/runs', {});
  expect(onOne.status).toBe(201);
  expect(onOne.body.version).toBe(1);

  // Both runs finish on the version they started with, whatever is live now.
  for (const [runId, label, version] of [[onTwo, 'two', 2], [onOne.body.runId, 'one', 1]] as const) {
    await waitForRun(h, runId, (r) => stepOf(r, 'hold').status === 'waiting');
    await api(h, 'POST', `/v1/runs/${runId}/events`, { type: 'case.resolved' });
    const run = await waitForRun(h, runId, isClosed);
    expect(run).toMatchObject({ status: 'completed', version, state: { version, reason: label } });
  }

  const versions = await api(h, 'GET', '/v1/workflows/vers_rollback/versions');
  expect(versions.body.liveVersion).toBe(1);
  expect(versions.body.versions.map((v: any) => [v.version, v.live])).toEqual([[2, false], [1, true]]);

  // The published versions themselves never change.
  expect(versions.body.versions.find((v: any) => v.version === 2).definition.steps[1].reason).toBe('two');

  const changes = await api(h, 'GET', '/v1/workflows/vers_rollback/version-changes');
  expect(changes.body.changes.map((c: any) => [c.change, c.version, c.liveVersion])).toEqual([
    ['publish', 1, 1],
    ['publish', 2, 2],
    ['rollback', 1, 1],
  ]);
});

it('publishes without going live when asked, and refuses rollbacks that make no sense', async () => {
  await publishWorkflow(h, 'vers_quiet', definition('one'));
  expect(await newVersion('vers_quiet', 'two', false)).toBe(2);
  expect((await api(h, 'GET', '/v1/workflows/vers_quiet')).body.liveVersion).toBe(1);
  const run = await api(h, 'POST', '/v1/workflows/vers_quiet/runs', {});
  expect(run.body.version).toBe(1);

  // "Rollback" to a later, never-live version is allowed: it is how a version published quietly goes live at once.
  expect((await api(h, 'POST', '/v1/workflows/vers_quiet/rollback', { version: 2 })).body.liveVersion).toBe(2);

  const unknown = await api(h, 'POST', '/v1/workflows/vers_quiet/rollback', { version: 9 });
  expect(unknown.status).toBe(409);
  expect(unknown.body.error.code).toBe('unknown_version');
  const same = await api(h, 'POST', '/v1/workflows/vers_quiet/rollback', { version: 2 });
  expect(same.status).toBe(409);
  expect(same.body.error.code).toBe('already_live');
  const bad = await api(h, 'POST', '/v1/workflows/vers_quiet/rollback', { version: 'one' });
  expect(bad.status).toBe(400);
  expect(bad.body.error.details[0].path).toBe('/version');
  const badPublish = await api(h, 'POST', '/v1/workflows/vers_quiet/publish', { live: 'yes' });
  expect(badPublish.status).toBe(400);
  expect((await api(h, 'POST', '/v1/workflows/nope_nope/rollback', { version: 1 })).status).toBe(404);
  // Nothing above changed what is live.
  expect((await api(h, 'GET', '/v1/workflows/vers_quiet')).body.liveVersion).toBe(2);
});
