/**
 * Actions only tests register: `record_mark` writes one row per step (keyed
 * by its idempotency key, so a retried attempt adds no second effect) and
 * counts attempts, optionally taking its time; `fail_always` fails;
 * `flaky_mark` fails its first N attempts (counted per idempotency key) and
 * then succeeds; `timed_mark` records when each execution started and ended
 * (PostgreSQL's clock), so a test can measure how many ran at once.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import { defineAction, type ActionDefinition } from '../../src/activities/action-definition';
import type { Db } from '../../src/store/db';

export async function createMarksTable(db: Db): Promise<void> {
  await db.query(`CREATE TABLE IF NOT EXISTS test_marks (idempotency_key text PRIMARY KEY, run_id text NOT NULL, step_id text NOT NULL, label text NOT NULL, attempts integer NOT NULL DEFAULT 1, created_at timestamptz NOT NULL DEFAULT now())`);
  await db.query(
    `CREATE TABLE IF NOT EXISTS test_intervals (idempotency_key text PRIMARY KEY, run_id text NOT NULL, step_id text NOT NULL, label text NOT NULL, started_at timestamptz NOT NULL, ended_at timestamptz)`,
  );
}

export interface Interval {
  label: string;
  runId: string;
  startedAt: number;
  endedAt: number;
}

/** The `timed_mark` executions whose label starts with `prefix`, in start order. */
export async function intervals(db: Db, prefix: string): Promise<Interval[]> {
  const { rows } = await db.query<{ label: string; run_id: string; started_at: Date; ended_at: Date | null }>(
    'SELECT label, run_id, started_at, ended_at FROM test_intervals WHERE label LIKE $1 ORDER BY started_at',
    [`${prefix}%`],
  );
  return rows.map((r) => ({ label: r.label, runId: r.run_id, startedAt: new Date(r.started_at).getTime(), endedAt: r.ended_at ? new Date(r.ended_at).getTime() : Infinity }));
}

/** The most intervals open at one moment (an interval ending exactly when another starts does not overlap it). */
export function maxOverlap(list: Interval[]): number {
  const points = list.flatMap((i) => [
    { at: i.startedAt, delta: 1 },
    { at: i.endedAt, delta: -1 },
  ]);
  points.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let open = 0;
  let most = 0;
  for (const p of points) {
    open += p.delta;
    most = Math.max(most, open);
  }
  return most;
}

export function testActions(db: Db): ActionDefinition<never>[] {
  const recordMark = defineAction({
    name: 'record_mark',
    title: 'Record a mark (test)',
    description: 'Records that this step ran, once per idempotency key, then optionally waits.',
    params: z.strictObject({ label: z.string().min(1), sleepMs: z.number().int().min(0).max(60_000).default(0) }),
    policy: {
      startToCloseTimeout: '4s',
      retry: { maximumAttempts: 10, initialInterval: '200ms', backoffCoefficient: 1.5, maximumInterval: '1s', nonRetryableErrorTypes: ['InvalidActionParams'] },
    },
    async run(params, ctx) {
      const { rows } = await db.query<{ attempts: number }>(
        `INSERT INTO test_marks (idempotency_key, run_id, step_id, label) VALUES ($1, $2, $3, $4)
         ON CONFLICT (idempotency_key) DO UPDATE SET attempts = test_marks.attempts + 1 RETURNING attempts`,
        [ctx.idempotencyKey, ctx.runId, ctx.stepId, params.label],
      );
      if (params.sleepMs > 0) await delay(params.sleepMs, undefined, { signal: ctx.signal }).catch(() => undefined);
      return { label: params.label, attempt: Number(rows[0].attempts) };
    },
  });
  const failAlways = defineAction({
    name: 'fail_always',
    title: 'Fail (test)',
    description: 'Fails with the given message.',
    params: z.strictObject({ message: z.string().min(1) }),
    policy: { startToCloseTimeout: '5s', retry: { maximumAttempts: 2, initialInterval: '100ms', backoffCoefficient: 1, maximumInterval: '100ms' } },
    async run(params) {
      throw ApplicationFailure.nonRetryable(params.message, 'TestFailure');
    },
  });
  const echoKeyLocal = defineAction({
    name: 'echo_key_local',
    title: 'Echo the idempotency key (test, local activity)',
    description: 'Returns the idempotency key and step this local activity was given.',
    params: z.strictObject({}),
    policy: { startToCloseTimeout: '5s', local: true, retry: { maximumAttempts: 2, initialInterval: '100ms', backoffCoefficient: 1, maximumInterval: '100ms' } },
    async run(_params, ctx) {
      return { key: ctx.idempotencyKey, stepId: ctx.stepId };
    },
  });
  const flakyMark = defineAction({
    name: 'flaky_mark',
    title: 'Fail a few times, then succeed (test)',
    description: 'Fails its first `failures` attempts (per idempotency key) with `errorType`, then records a mark.',
    params: z.strictObject({
      label: z.string().min(1),
      failures: z.number().int().min(0).max(50).default(0),
      errorType: z.enum(['VendorUnavailable', 'VendorRejected']).default('VendorUnavailable'),
      nonRetryable: z.boolean().default(false),
    }),
    policy: {
      startToCloseTimeout: '5s',
      retry: { maximumAttempts: 5, initialInterval: '100ms', backoffCoefficient: 1.5, maximumInterval: '500ms', nonRetryableErrorTypes: ['InvalidActionParams'] },
    },
    errorTypes: ['VendorUnavailable', 'VendorRejected'],
    async run(params, ctx) {
      const { rows } = await db.query<{ attempts: number }>(
        `INSERT INTO test_marks (idempotency_key, run_id, step_id, label) VALUES ($1, $2, $3, $4)
         ON CONFLICT (idempotency_key) DO UPDATE SET attempts = test_marks.attempts + 1 RETURNING attempts`,
        [ctx.idempotencyKey, ctx.runId, ctx.stepId, params.label],
      );
      const attempt = Number(rows[0].attempts);
      if (attempt <= params.failures) {
        throw ApplicationFailure.create({ type: params.errorType, message: `vendor said no (attempt ${attempt})`, nonRetryable: params.nonRetryable });
      }
      return { label: params.label, attempt };
    },
  });
  const timedMark = defineAction({
    name: 'timed_mark',
    title: 'Record start and end (test)',
    description: 'Records when it starts and ends (PostgreSQL clock), taking sleepMs in between.',
    params: z.strictObject({ label: z.string().min(1), sleepMs: z.number().int().min(0).max(60_000).default(0) }),
    policy: {
      startToCloseTimeout: '20s',
      retry: { maximumAttempts: 3, initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '1s', nonRetryableErrorTypes: ['InvalidActionParams'] },
    },
    async run(params, ctx) {
      await db.query(
        `INSERT INTO test_intervals (idempotency_key, run_id, step_id, label, started_at) VALUES ($1, $2, $3, $4, clock_timestamp())
         ON CONFLICT (idempotency_key) DO UPDATE SET started_at = clock_timestamp(), ended_at = NULL`,
        [ctx.idempotencyKey, ctx.runId, ctx.stepId, params.label],
      );
      if (params.sleepMs > 0) await delay(params.sleepMs, undefined, { signal: ctx.signal }).catch(() => undefined);
      await db.query('UPDATE test_intervals SET ended_at = clock_timestamp() WHERE idempotency_key = $1', [ctx.idempotencyKey]);
      return { label: params.label };
    },
  });
  return [
    recordMark as ActionDefinition<never>,
    failAlways as ActionDefinition<never>,
    echoKeyLocal as ActionDefinition<never>,
    flakyMark as ActionDefinition<never>,
    timedMark as ActionDefinition<never>,
  ];
}
