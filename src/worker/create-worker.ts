/**
 * The worker: the interpreter workflow plus every action as an activity and
 * the internal activities, on one task queue. Dependencies come in, so tests
 * hand in their own registry (with test actions) and database.
 */
import type { PayloadCodec } from '@temporalio/common';
import { NativeConnection, Worker, type InjectedSinks, type WorkerOptions } from '@temporalio/worker';
import type { Logger } from 'pino';
import { encryptedDataConverter } from '../codec';
import { stepObservability } from '../observability/activity-interceptor';
import type { Metrics } from '../observability/metrics';
import type { RunMetricsSinks } from '../observability/run-metrics-interceptor';
import { createChildRunActivities } from '../activities/child-runs';
import { createWaitActivities } from '../activities/wait-subscriptions';
import { createScheduleActivities } from '../schedules/activities';
import type { Db } from '../store/db';
import type { ActionRegistry } from '../activities/registry';
import type { WorkflowStore } from '../store/workflow-store';

export const DEFAULT_TASK_QUEUE = 'identity-workflows';

export interface RunWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  registry: ActionRegistry;
  workflows: WorkflowStore;
  db: Db;
  /** A prebuilt bundle (tests build one and share it); otherwise bundled from source at start. */
  workflowBundle?: { code: string };
  /**
   * Encrypts and decrypts every payload (src/codec); the same keys as the
   * clients', or the worker cannot read what they started.
   */
  payloadCodec: PayloadCodec;
  /** Step latency, run and wait counts for /metrics. */
  metrics?: Metrics;
  /** Step attempt logs with run and step ids. */
  logger?: Logger;
  /** How long shutdown waits for running activities before cancelling them; default 30 s. */
  shutdownGraceTimeMs?: number;
  extra?: Partial<WorkerOptions>;
}

export function workflowsPath(): string {
  return require.resolve('../workflows');
}

/** The sink the run-metrics workflow interceptor reports to (not called on replay; a replayer registers it with no metrics). */
export function runMetricsSinks(metrics: Metrics | undefined): InjectedSinks<RunMetricsSinks> {
  const counters = { completed: metrics?.runsCompleted, failed: metrics?.runsFailed, cancelled: metrics?.runsCancelled };
  return {
    runMetrics: {
      started: { fn: (_info, workflow) => metrics?.runsStarted.inc({ workflow }) },
      ended: { fn: (_info, workflow, outcome) => counters[outcome]?.inc({ workflow }) },
    },
  };
}

export async function createRunWorker(options: RunWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: workflowsPath() }),
    dataConverter: encryptedDataConverter(options.payloadCodec),
    interceptors: {
      activity: [stepObservability({ metrics: options.metrics, logger: options.logger })],
      // A prebuilt bundle has it already (bundle.ts); otherwise the worker bundles it in.
      ...(options.workflowBundle ? {} : { workflowModules: [require.resolve('../observability/run-metrics-interceptor')] }),
    },
    sinks: runMetricsSinks(options.metrics),
    // On SIGTERM, running activities get this long to finish before they are cancelled; their tasks go back to the queue.
    shutdownGraceTime: options.shutdownGraceTimeMs ?? 30_000,
    activities: {
      ...options.registry.activities(),
      ...createChildRunActivities({ workflows: options.workflows, registry: options.registry, db: options.db }),
      ...createWaitActivities({ db: options.db }),
      ...createScheduleActivities({ db: options.db, workflows: options.workflows, registry: options.registry }),
    },
    ...options.extra,
  });
}
