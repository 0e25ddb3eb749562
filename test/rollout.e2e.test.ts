/**
 * Percentage rollouts: a version takes N% of new runs, the rest stay on the
 * live version, decided by the trigger's key (event id, idempotency key or
 * request id), so the same key always picks the same version. Promote makes
 * the rollout's version live; abort sends every new run back to the live one.
 */
import { pickVersion, rolloutBucket } from '../src/runs/version-picker';
import type { VersionRecord, VersionRouting } from '../src/store/workflow-store';
import { api, createHarness, isClosed, postEvent, publishWorkflow, waitForRun, type Harness } from './support/harness';

const version = (n: number): VersionRecord => ({ workflowId: 'wf', version: n, definition: {} as VersionRecord['definition'], publishedAt: '2026-01-01T00:00:00.000Z' });
const routing = (percent: number): VersionRouting => ({ workflowId: 'wf', live: version(1), rollout: { version: version(2), percent } });

describe('pickVersion', () => {
  it('gives the same key the same version every time', () => {
    for (let i = 0; i < 200; i++) {
      const key = `evt_${i}`;
      expect(pickVersion(routing(30), key)).toEqual(pickVersion(routing(30), key));
    }
  });

  it('sends the whole share at 0% and 100%, and nothing without a rollout', () => {
    const keys = Array.from({ length: 200 }, (_, i) => `k${i}`);
    expect(keys.every((k) => pickVersion(routing(0), k).via === 'live')).toBe(true);
    expect(keys.every((k) => pickVersion(routing(100), k).via === 'rollout')).toBe(true);
    expect(keys.every((k) => pickVersion({ workflowId: 'wf', live: version(1) }, k).version.version === 1)).toBe(true);
  });

  it('keeps a key on the rollout side as the share grows', () => {
    const keys = Array.from({ length: 500 }, (_, i) => `evt_grow_${i}`);
    const at10 = keys.filter((k) => pickVersion(routing(10), k).via === 'rollout');
    const at50 = new Set(keys.filter((k) => pickVersion(routing(50), k).via === 'rollout'));
    expect(at10.every((k) => at50.has(k))).toBe(true);
    expect(rolloutBucket('wf', 2, 'x')).toBe(rolloutBucket('wf', 2, 'x'));
  });
});

describe('rollouts through the API and the router', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  const ending = (label: string, trigger: unknown = { type: 'api' }) => ({ trigger, steps: [{ id: 'done', type: 'end', reason: label }] });

  async function publishSecond(id: string, definition: unknown): Promise<void> {
    expect((await api(h, 'PUT', `/v1/workflows/${id}`, { definition })).status).toBe(200);
    expect((await api(h, 'POST', `/v1/workflows/${id}/publish`, { live: false })).status).toBe(201);
  }

  it('splits 200 API triggers 30/70 within tolerance, the same request id picking the same version', async () => {
    await publishWorkflow(h, 'roll_api', ending('v1'));
    await publishSecond('roll_api', ending('v2'));
    const started = await api(h, 'POST', '/v1/workflows/roll_api/rollout', { version: 2, percent: 30 });
    expect(started.status).toBe(200);
    expect(started.body.rollout).toMatchObject({ version: 2, percent: 30, liveVersion: 1 });

    const versions: number[] = [];
    for (let i = 0; i < 200; i++) {
      const res = await api(h, 'POST', '/v1/workflows/roll_api/runs', {}, { headers: { 'x-request-id': `req-${i}` } });
      expect(res.status).toBe(201);
      const run = res.body as { version: number; versionVia: string };
      expect(run.versionVia).toBe(run.version === 2 ? 'rollout' : 'live');
      versions.push(run.version);
    }
    const share = versions.filter((v) => v === 2).length / versions.length;
    expect(share).toBeGreaterThanOrEqual(0.22);
    expect(share).toBeLessThanOrEqual(0.38);

    // The same request id again: the same version as the first time, for every one of them.
    for (const i of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) {
      const res = await api(h, 'POST', '/v1/workflows/roll_api/runs', {}, { headers: { 'x-request-id': `req-${i}` } });
      expect(res.body.version).toBe(versions[i]);
    }

    // Each run finished on the version it was given, and visibility finds them by version.
    const last = await api(h, 'POST', '/v1/workflows/roll_api/runs', {});
    const run = await waitForRun(h, last.body.runId, isClosed);
    expect(run.state.reason).toBe(`v${last.body.version}`);
  });

  it('promotes and aborts', async () => {
    await publishWorkflow(h, 'roll_promote', ending('v1'));
    await publishSecond('roll_promote', ending('v2'));
    await publishSecond('roll_promote', ending('v3'));
    expect((await api(h, 'POST', '/v1/workflows/roll_promote/rollout', { version: 2, percent: 100 })).status).toBe(200);
    expect((await api(h, 'POST', '/v1/workflows/roll_promote/runs', {})).body.version).toBe(2);

    // While a rollout runs, a version cannot go live by publishing.
    const blocked = await api(h, 'POST', '/v1/workflows/roll_promote/publish', {});
    expect(blocked.status).toBe(409);
    expect(blocked.body.error.code).toBe('rollout_in_progress');

    const aborted = await api(h, 'POST', '/v1/workflows/roll_promote/rollout/abort');
    expect(aborted.body).toMatchObject({ liveVersion: 1, rollout: null });
    expect((await api(h, 'POST', '/v1/workflows/roll_promote/runs', {})).body.version).toBe(1);

    expect((await api(h, 'POST', '/v1/workflows/roll_promote/rollout', { version: 3, percent: 12.5 })).body.rollout.percent).toBe(12.5);
    const promoted = await api(h, 'POST', '/v1/workflows/roll_promote/rollout/promote');
    expect(promoted.body).toMatchObject({ liveVersion: 3, rollout: null });
    expect((await api(h, 'POST', '/v1/workflows/roll_promote/runs', {})).body.version).toBe(3);

    const none = await api(h, 'POST', '/v1/workflows/roll_promote/rollout/promote');
    expect(none.status).toBe(409);
    expect(none.body.error.code).toBe('no_rollout');
    for (const body of [{ version: 2, percent: 101 }, { version: 2, percent: 3.333 }, { version: 2 }]) {
      const bad = await api(h, 'POST', '/v1/workflows/roll_promote/rollout', body);
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('invalid_request');
    }
    const changes = await api(h, 'GET', '/v1/workflows/roll_promote/version-changes');
    expect(changes.body.changes.map((c: any) => c.change)).toEqual(['publish', 'publish', 'publish', 'rollout', 'abort', 'rollout', 'promote']);
  });

  it('picks the version of an event-triggered run by its event id', async () => {
    const trigger = { type: 'event', event: 'inquiry.approved' };
    await publishWorkflow(h, 'roll_events', ending('v1', trigger));
    await publishSecond('roll_events', ending('v2', trigger));
    expect((await api(h, 'POST', '/v1/workflows/roll_events/rollout', { version: 2, percent: 50 })).status).toBe(200);
    const routing = (await h.workflows.routing('roll_events'))!;

    const started = new Map<string, string>();
    h.router.onDispatched = (report) => {
      if (report.started[0]) started.set(report.event, report.started[0]);
    };
    const ids = Array.from({ length: 12 }, (_, i) => `evt_roll_${h.schema}_${i}`);
    for (const id of ids) expect((await postEvent(h, { id, type: 'inquiry.approved', objectType: 'inquiry', objectId: 'inq_roll' })).status).toBeLessThan(300);
    const deadline = Date.now() + 30_000;
    while (started.size < ids.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const seen = new Set<number>();
    for (const id of ids) {
      const run = await api(h, 'GET', `/v1/runs/${started.get(id)}`);
      // The run's version is the one the event id picks, whoever computes it.
      expect(run.body.version).toBe(pickVersion(routing, id).version.version);
      seen.add(run.body.version);
    }
    expect([...seen].sort()).toEqual([1, 2]);
  });
});
