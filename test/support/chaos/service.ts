/**
 * The service under chaos, in the parts a fault hits separately:
 *
 * - the API "process": its own database pool, Temporal connection, run
 *   service, event router, webhook dispatcher and HTTP server, built as the
 *   test harness builds them (same payload codec, credentials key and test
 *   actions), so a restart closes all of it and builds it anew on the same
 *   port, as a restarted process would;
 * - the worker: a real separate process (test/support/worker-process.ts),
 *   so it can be killed with SIGKILL.
 */
import { eventRunStartCursor } from '../../../src/events/outbox';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createRegistry } from '../../../src/activities';
import { createApp } from '../../../src/api/app';
import { postgresqlCheck, Readiness, temporalCheck } from '../../../src/api/health-routes';
import { CredentialStore } from '../../../src/credentials/store';
import { EventRouter } from '../../../src/events/router';
import { RunService } from '../../../src/runs/run-service';
import { connectPostgres } from '../../../src/store/db';
import { WorkflowStore } from '../../../src/store/workflow-store';
import { createWebhooks } from '../../../src/webhooks';
import { TEST_CREDENTIALS_KEY, TEST_DATA_CONVERTER } from '../harness';
import { testActions } from '../test-actions';

export interface ServiceConfig {
  databaseUrl: string;
  /** The PostgreSQL schema the API and the worker use. */
  schema: string;
  temporalAddress: string;
  taskQueue: string;
  eventsSecret: string;
  /** The bundled workflow code (a file), for the worker process. */
  bundlePath: string;
  log: (line: string) => void;
}

export const LOOPBACK = { allowList: ['127.0.0.1', '::1', 'localhost'] };

export interface ApiProcess {
  baseUrl: string;
  port: number;
  router: EventRouter;
  /** Stop the router and the dispatcher, cut open connections, close the pool and the Temporal connection. */
  close(): Promise<void>;
}

/** The API on `port` (0: any free one). Fails when PostgreSQL or Temporal cannot be reached. */
export async function startApi(config: ServiceConfig, port = 0): Promise<ApiProcess> {
  const log = (line: string) => config.log(`[api] ${line}`);
  const db = await connectPostgres({ url: config.databaseUrl, schema: config.schema, max: 10 });
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address: config.temporalAddress });
  } catch (err) {
    await db.close();
    throw err;
  }
  const client = new Client({ connection, namespace: 'default', dataConverter: TEST_DATA_CONVERTER });
  const credentials = new CredentialStore(db, TEST_CREDENTIALS_KEY);
  const registry = createRegistry({ db, credentials, network: LOOPBACK }, testActions(db));
  const runs = new RunService({ runStartCursor: () => eventRunStartCursor(db), client, taskQueue: config.taskQueue, namespace: 'default', registry, temporalUiUrl: 'http://127.0.0.1:8233' });
  const router = new EventRouter({ db, runs, client, pollMs: 500, log: (line) => log(`router: ${line}`) });
  const webhooks = createWebhooks({ db, key: TEST_CREDENTIALS_KEY, network: LOOPBACK, pollMs: 500, log: (line) => log(`webhooks: ${line}`) });
  await router.start();
  await webhooks.dispatcher.start();
  const app = createApp({
    db,
    workflows: new WorkflowStore(db),
    registry,
    runs,
    router,
    credentials,
    webhooks,
    eventsSigningSecret: config.eventsSecret,
    // The load is the point here; rate limits have their own tests.
    rateLimits: { triggersPerMinute: 0, eventsPerMinute: 0 },
    readiness: new Readiness([postgresqlCheck(db), temporalCheck(connection)]),
  });
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${bound}`,
    port: bound,
    router,
    async close() {
      // A restart as a crash would do it: requests in flight are cut, not drained.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await router.stop();
      await webhooks.dispatcher.stop();
      await connection!.close().catch(() => undefined);
      await db.close().catch(() => undefined);
    },
  };
}

/** The worker in a process of its own; `kill()` is SIGKILL. */
export class WorkerProcess {
  private child?: ChildProcess;

  constructor(private readonly config: ServiceConfig) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Resolves once the worker polls; rejects if the process exits first (PostgreSQL or Temporal away). */
  start(): Promise<void> {
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'worker-process.ts')], {
      env: {
        ...process.env,
        TEST_DATABASE_URL: this.config.databaseUrl,
        TEST_TEMPORAL_ADDRESS: this.config.temporalAddress,
        TEST_WORKFLOW_BUNDLE: this.config.bundlePath,
        WORKER_DB_SCHEMA: this.config.schema,
        WORKER_TASK_QUEUE: this.config.taskQueue,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let stderr = '';
    child.stderr!.on('data', (d) => {
      stderr += String(d);
      if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
    });
    return new Promise((resolve, reject) => {
      child.stdout!.on('data', (d) => {
        if (String(d).includes('worker ready')) resolve();
      });
      child.once('exit', (code, signal) => {
        if (this.child === child) this.child = undefined;
        const message = `worker process exited (${signal ?? code}): ${stderr.slice(-2000)}`;
        reject(new Error(message));
        if (signal !== 'SIGKILL') this.config.log(`[worker] ${message}`);
      });
    });
  }

  /** SIGKILL, and wait until the process is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }
}

/** Try `fn` until it succeeds (a part that depends on another coming back), up to `timeoutMs`. */
export async function untilItWorks<T>(what: string, fn: () => Promise<T>, log: (line: string) => void, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what}: still failing after ${attempt} attempts: ${(err as Error).message}`);
      log(`${what} failed (attempt ${attempt}), retrying: ${(err as Error).message.split('\n')[0]}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
