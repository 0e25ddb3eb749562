/**
 * The worker: the interpreter workflow plus every action as an activity and
 * the internal activities, on one task queue. Dependencies come in, so tests
 * hand in their own registry (with test actions) and database.
 */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createChildRunActivities } from '../activities/child-runs';
import { createWaitActivities } from '../activities/wait-subscriptions';
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
  extra?: Partial<WorkerOptions>;
}

export function workflowsPath(): string {
  return require.resolve('../workflows');
}

export async function createRunWorker(options: RunWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: workflowsPath() }),
    activities: {
      ...options.registry.activities(),
      ...createChildRunActivities({ workflows: options.workflows, registry: options.registry }),
      ...createWaitActivities({ db: options.db }),
    },
    ...options.extra,
  });
}
