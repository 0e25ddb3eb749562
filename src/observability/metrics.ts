/**
 * Prometheus metrics (prom-client), one registry per process, served at
 * `/metrics` (bearer METRICS_TOKEN) by the API and by each worker.
 *
 * Where each comes from:
 * - runs started / completed / failed / cancelled, by workflow: the worker,
 *   through the run-metrics workflow interceptor and its sink (not called
 *   on replay, so a run is counted once);
 * - step latency and outcome by action: the worker's activity interceptor;
 * - waits registered: the activity interceptor (the registerWait activity);
 *   waits open: a count of wait subscriptions in PostgreSQL at scrape time;
 * - events received: the API (upstream `POST /v1/events` and
 *   `POST /v1/runs/:id/events`), by outcome;
 * - HTTP requests and their latency by route; Node process metrics;
 * - event-trigger filters that failed or ran over their CEL budget, by
 *   workflow and reason: the router (src/events/trigger-filter.ts), read
 *   at scrape time.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { triggerFilterFailureCounts } from '../events/trigger-filter';
import type { Queryable } from '../store/db';

export interface Metrics {
  registry: Registry;
  runsStarted: Counter<'workflow'>;
  runsCompleted: Counter<'workflow'>;
  runsFailed: Counter<'workflow'>;
  runsCancelled: Counter<'workflow'>;
  stepDuration: Histogram<'action' | 'outcome'>;
  waitsRegistered: Counter<'kind'>;
  eventsReceived: Counter<'source' | 'outcome'>;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route'>;
  triggerFilterFailures: Counter<'workflow' | 'reason'>;
}

export interface MetricsOptions {
  /** With a database: `idw_waits_open`, counted at scrape time. */
  db?: Queryable;
  /** Node process metrics (CPU, memory, event loop); default true. */
  processMetrics?: boolean;
}

/** Seconds: from a local database write to a slow third-party call. */
const STEP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'idw_' });
  const registers = [registry];
  const metrics: Metrics = {
    registry,
    runsStarted: new Counter({ name: 'idw_runs_started_total', help: 'Runs started, by workflow id', labelNames: ['workflow'], registers }),
    runsCompleted: new Counter({ name: 'idw_runs_completed_total', help: 'Runs that completed, by workflow id', labelNames: ['workflow'], registers }),
    runsFailed: new Counter({ name: 'idw_runs_failed_total', help: 'Runs that failed, by workflow id', labelNames: ['workflow'], registers }),
    runsCancelled: new Counter({ name: 'idw_runs_cancelled_total', help: 'Runs cancelled, by workflow id', labelNames: ['workflow'], registers }),
    stepDuration: new Histogram({
      name: 'idw_step_duration_seconds',
      help: 'Time one attempt of a step took in its activity, by action (activity type) and outcome (succeeded, failed)',
      labelNames: ['action', 'outcome'],
      buckets: STEP_BUCKETS,
      registers,
    }),
    waitsRegistered: new Counter({
      name: 'idw_waits_registered_total',
      help: 'Waits registered by runs: kind "event" (wait_for_event) or "cancel_on" (flow.cancelOn)',
      labelNames: ['kind'],
      registers,
    }),
    eventsReceived: new Counter({
      name: 'idw_events_received_total',
      help: 'Events received over HTTP: source "upstream" (POST /v1/events) or "run" (POST /v1/runs/:id/events), outcome "accepted" or "rejected"',
      labelNames: ['source', 'outcome'],
      registers,
    }),
    httpRequests: new Counter({ name: 'idw_http_requests_total', help: 'HTTP requests by method, route and status', labelNames: ['method', 'route', 'status'], registers }),
    httpDuration: new Histogram({
      name: 'idw_http_request_duration_seconds',
      help: 'HTTP request latency by method and route',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    }),
    triggerFilterFailures: new Counter({
      name: 'idw_trigger_filter_failures_total',
      help: 'Events an event trigger\'s filter could not decide, by workflow id and reason ("budget": over the CEL evaluation budget, "error"); that workflow was not started',
      labelNames: ['workflow', 'reason'],
      registers,
      collect() {
        this.reset();
        for (const { workflow, reason, count } of triggerFilterFailureCounts()) this.inc({ workflow, reason }, count);
      },
    }),
  };
  const db = options.db;
  if (db) {
    new Gauge({
      name: 'idw_waits_open',
      help: 'Waits runs hold now (wait subscriptions not past their default resolution time), by kind',
      labelNames: ['kind'],
      registers,
      async collect() {
        const { rows } = await db.query<{ kind: string; n: string }>(
          `SELECT CASE WHEN wait_key LIKE 'cancelOn#%' THEN 'cancel_on' ELSE 'event' END AS kind, count(*)::text AS n
           FROM wait_subscriptions WHERE expires_at IS NULL OR expires_at > now() GROUP BY 1`,
        );
        this.reset();
        this.set({ kind: 'event' }, 0);
        this.set({ kind: 'cancel_on' }, 0);
        for (const row of rows) this.set({ kind: row.kind }, Number(row.n));
      },
    });
  }
  return metrics;
}
