/**
 * Pure tables: what the API masks in a run's inputs and outputs, what the
 * timeline is built from a run state, and which values count as the object
 * ids a run touched.
 */
import { ID_PREFIX } from '../src/objects/ids';
import { REDACTED, isSecretKey, redactSecrets, secretValuesOf } from '../src/runs/redact';
import { buildTimeline } from '../src/runs/timeline';
import { OBJECT_ID_PREFIXES, objectIdsIn } from '../src/workflows/object-ids';
import type { RunState } from '../src/interpreter';

describe('isSecretKey', () => {
  it.each([
    ['password', true],
    ['smtpPassword', true],
    ['authToken', true],
    ['api_key', true],
    ['X-Api-Key', true],
    ['clientSecret', true],
    ['Authorization', true],
    ['privateKey', true],
    ['set-cookie', true],
    ['credential', false],
    ['idempotencyKey', false],
    ['label', false],
    ['accountId', false],
  ])('%s -> %s', (key, secret) => {
    expect(isSecretKey(key)).toBe(secret);
  });
});

describe('redactSecrets', () => {
  it.each([
    ['a secret-named key at any depth', { a: [{ b: { password: 'p' } }] }, { a: [{ b: { password: REDACTED } }] }],
    ['a whole object under a secret key', { secret: { anything: 1 } }, { secret: REDACTED }],
    ['empty and null values stay as they are', { token: '', apiKey: null }, { token: '', apiKey: null }],
    ['an authorization scheme', { header: 'Bearer abc' }, { header: REDACTED }],
    ['a password in a URL', 'smtp://user:hunter2@mail.example.com:587', `smtp://user:${REDACTED}@mail.example.com:587`],
    ['a secret-named query parameter', 'https://x.test/p?api_key=abc&page=2', `https://x.test/p?api_key=${REDACTED}&page=2`],
    ['a hosted inquiry link token', 'https://id.example.com/inquiry-links/AbCdEfGh12345678_-', `https://id.example.com/inquiry-links/${REDACTED}`],
    ['plain values', { label: 'hello', n: 3, ok: true }, { label: 'hello', n: 3, ok: true }],
  ])('masks %s', (_what, input, expected) => {
    expect(redactSecrets(input)).toEqual(expected);
  });

  it('masks given secret values wherever they appear, and leaves the input untouched', () => {
    const input = { body: 'echo: sk-live-123456 done', nested: ['sk-live-123456'], short: 'abc' };
    expect(redactSecrets(input, { secretValues: ['sk-live-123456', 'abc'] })).toEqual({ body: `echo: ${REDACTED} done`, nested: [REDACTED], short: 'abc' });
    expect(input.body).toBe('echo: sk-live-123456 done');
  });

  it('takes the secret values of a credential from its secret-named fields', () => {
    expect(secretValuesOf({ host: 'smtp.example.com', user: 'ana', password: 'pw-1', oauth: { refreshToken: 'r-2', expires: 'x' } })).toEqual(['pw-1', 'r-2']);
  });
});

describe('buildTimeline', () => {
  const state: RunState = {
    runId: 'run_1',
    workflowId: 'wf',
    version: 1,
    status: 'completed',
    startedAt: '2026-01-01T00:00:00.000Z',
    current: [],
    steps: [
      { id: 'b', type: 'action', action: 'x', status: 'completed', runs: 1, startedAt: '2026-01-01T00:00:02.000Z', endedAt: '2026-01-01T00:00:03.500Z', attempts: 2, input: { token: 't' }, output: { ok: 1 } },
      { id: 'a', type: 'wait_for_event', status: 'completed', runs: 1, startedAt: '2026-01-01T00:00:00.000Z', endedAt: '2026-01-01T00:00:01.000Z', resolvedBy: { id: 'evt_1', type: 'case.resolved' } },
      { id: 'never', type: 'end', status: 'skipped', runs: 0 },
    ],
  };
  it('lists the steps that ran in the order they began, with durations, secrets masked', () => {
    expect(buildTimeline(state)).toEqual([
      { stepId: 'a', type: 'wait_for_event', status: 'completed', rounds: 1, startedAt: '2026-01-01T00:00:00.000Z', endedAt: '2026-01-01T00:00:01.000Z', durationMs: 1000, resolvedBy: { id: 'evt_1', type: 'case.resolved' } },
      { stepId: 'b', type: 'action', action: 'x', status: 'completed', rounds: 1, attempts: 2, startedAt: '2026-01-01T00:00:02.000Z', endedAt: '2026-01-01T00:00:03.500Z', durationMs: 1500, input: { token: REDACTED }, output: { ok: 1 } },
    ]);
  });
});

describe('objectIdsIn', () => {
  it('knows every object type prefix', () => {
    expect([...OBJECT_ID_PREFIXES].sort()).toEqual(Object.values(ID_PREFIX).sort());
  });

  it.each([
    ['ids under id-naming keys, in order, once', { inquiryId: 'inq_1', object: { id: 'inq_1', accountId: 'act_2' }, links: ['case_3', 'rep_4'] }, ['inq_1', 'act_2', 'case_3', 'rep_4']],
    ['not words that look like ids under other keys', { status: 'case_approved', note: 'inq_5' }, []],
    ['not ids of other things', { id: 'evt_1', runId: 'run_2', credentialId: 'cred_3' }, []],
    ['arrays of ids and snake_case keys', { ids: ['lst_1'], device_id: 'dev_9', objectIds: ['case_x1'] }, ['lst_1', 'dev_9', 'case_x1']],
    ['nothing from scalars', 'inq_1', []],
  ])('takes %s', (_what, value, expected) => {
    expect(objectIdsIn(value)).toEqual(expected);
  });
});
