/**
 * The service under test, in a process of its own (as `ROLE=all` runs it):
 * the worker, the router and the HTTP API on embedded PGlite, connected to
 * the benchmark's Temporal dev server. The benchmark (bench/stack.ts) forks
 * it and drives it from outside, so this process's CPU time and memory are
 * the service's alone. It answers the driver over IPC: its CPU time and
 * memory (after a forced GC), the input a run of a published version starts
 * with, and a count from its database.
 *
 * Environment: BENCH_TEMPORAL_ADDRESS, BENCH_TASK_QUEUE, BENCH_SECRET,
 * BENCH_PAYLOAD_KEYS (as PAYLOAD_KEYS: payloads are encrypted, as deployed),
 * BENCH_WORKER_OPTIONS (JSON, extra worker options), BENCH_DATABASE_URL (a
 * PostgreSQL server to use instead of embedded PGlite; a fresh schema, dropped after).
 */
import { eventRunStartCursor } from '../src/events/outbox';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, bundleWorkflowCode, type WorkerOptions } from '@temporalio/worker';
import { createRegistry } from '../src/activities';
import { AesGcmPayloadCodec, encryptedDataConverter, parsePayloadKeys } from '../src/codec';
import { createApp } from '../src/api/app';
import { ApiKeyStore } from '../src/auth/api-keys';
import { SCOPES } from '../src/auth/scopes';
import { CredentialStore } from '../src/credentials/store';
import { EventRouter } from '../src/events/router';
import { RunService } from '../src/runs/run-service';
import { connectPostgres, openPglite } from '../src/store/db';
import { migrate } from '../src/store/migrations';
import { WorkflowStore } from '../src/store/workflow-store';
import { createRunWorker } from '../src/worker/create-worker';
import type { RunInput } from '../src/workflows/run-contract';
import { benchActions } from './bench-actions';

export type ServiceRequest =
  | { id: number; cmd: 'usage'; gc?: boolean }
  | { id: number; cmd: 'runInput'; workflowId: string; runId: string; payload: unknown }
  | { id: number; cmd: 'count'; sql: string }
  | { id: number; cmd: 'routerLatency'; reset?: boolean }
  | { id: number; cmd: 'close' };

export interface ServiceUsage {
  /** process.cpuUsage() in microseconds, user + system. */
  cpuMicros: number;
  rss: number;
  heapUsed: number;
  external: number;
  at: number;
}

const noop = (): void => undefined;

async function main(): Promise<void> {
  const address = process.env.BENCH_TEMPORAL_ADDRESS!;
  const taskQueue = process.env.BENCH_TASK_QUEUE ?? 'bench';
  const secret = process.env.BENCH_SECRET!;
  const extra = JSON.parse(process.env.BENCH_WORKER_OPTIONS ?? '{}') as Partial<WorkerOptions>;
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  // npm start's embedded default, or a real PostgreSQL server (BENCH_DATABASE_URL) in a schema of its own.
  const schema = `bench_${Date.now().toString(36)}`;
  const db = process.env.BENCH_DATABASE_URL ? await connectPostgres({ url: process.env.BENCH_DATABASE_URL, schema, max: 10 }) : await openPglite();
  await migrate(db);
  // A throwaway key: this database lives only in memory.
  const credentials = new CredentialStore(db, randomBytes(32));
  const registry = createRegistry({ db, credentials, network: { allowList: ['127.0.0.1', '::1', 'localhost'] } }, benchActions());
  const workflows = new WorkflowStore(db);
  const nativeConnection = await NativeConnection.connect({ address });
  const logger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: (m: string) => console.error(m) };
  // As src/worker/bundle.ts bundles the service's workflows, plus the hand-written ones (bench/workflows.ts).
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('./workflows'),
    workflowInterceptorModules: [require.resolve('../src/observability/run-metrics-interceptor')],
    logger,
  });
  const payloadCodec = new AesGcmPayloadCodec(parsePayloadKeys(process.env.BENCH_PAYLOAD_KEYS!));
  const worker = await createRunWorker({ connection: nativeConnection, namespace: 'default', taskQueue, registry, workflows, db, workflowBundle, payloadCodec, extra });
  const running = worker.run();
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, dataConverter: encryptedDataConverter(payloadCodec) });
  const runs = new RunService({ runStartCursor: () => eventRunStartCursor(db), client, taskQueue, namespace: 'default', registry });
  const router = new EventRouter({ db, runs, client, log: noop });
  // The router's own time per event that woke a run: stored -> its last signal answered.
  let routerLatencies: number[] = [];
  router.onDispatched = (r) => {
    if (r.signalled.length > 0) routerLatencies.push(r.doneAtMs - r.storedAtMs);
  };
  await router.start();
  // As the test harness does: one key with every scope. No rate limits: the benchmark measures capacity, not policy.
  const { key: apiKey } = await new ApiKeyStore(db).create({ name: 'benchmark', scopes: SCOPES });
  const app = createApp({ db, workflows, registry, runs, router, credentials, eventsSigningSecret: secret, rateLimits: { triggersPerMinute: 0, eventsPerMinute: 0 } });
  const http: Server = app.listen(0, '127.0.0.1');
  await new Promise((r) => http.once('listening', r));

  const close = async (): Promise<void> => {
    http.close();
    await router.stop();
    worker.shutdown();
    await running;
    await nativeConnection.close();
    await connection.close();
    if (process.env.BENCH_DATABASE_URL) await db.exec(`DROP SCHEMA "${schema}" CASCADE`).catch(() => undefined);
    await db.close();
  };

  // The benchmark went away (crashed, interrupted): so does the service.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (message: ServiceRequest) => {
    const answer = async (): Promise<unknown> => {
      switch (message.cmd) {
        case 'usage': {
          if (message.gc && global.gc) {
            // Twice: the first pass queues finalizers, the second collects what they freed.
            global.gc();
            await new Promise((r) => setImmediate(r));
            global.gc();
          }
          const cpu = process.cpuUsage();
          const mem = process.memoryUsage();
          return { cpuMicros: cpu.user + cpu.system, rss: mem.rss, heapUsed: mem.heapUsed, external: mem.external, at: performance.timeOrigin + performance.now() } satisfies ServiceUsage;
        }
        case 'runInput': {
          // What RunService.start gives a run of the live version, for starting one with the Temporal client directly.
          const version = await workflows.liveVersion(message.workflowId);
          if (!version) throw new Error(`${message.workflowId} is not published`);
          const input: RunInput = {
            runId: message.runId,
            workflowId: version.workflowId,
            version: version.version,
            definition: version.definition,
            actionPolicies: registry.policiesFor(version.definition),
            trigger: { type: 'api', payload: message.payload },
            // As RunService gives it: where the run's waits start counting.
            eventCursor: await eventRunStartCursor(db),
          };
          return input;
        }
        case 'count': {
          const { rows } = await db.query<{ n: string | number }>(message.sql);
          return Number(rows[0]?.n ?? 0);
        }
        case 'routerLatency': {
          const seen = routerLatencies;
          if (message.reset) routerLatencies = [];
          return seen;
        }
        case 'close':
          await close();
          setImmediate(() => process.exit(0));
          return true;
      }
    };
    answer().then(
      (result) => process.send!({ id: message.id, result }),
      (err: Error) => process.send!({ id: message.id, error: err.stack ?? err.message }),
    );
  });
  process.send!({ ready: true, apiKey, base: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, maxCachedWorkflows: worker.options.maxCachedWorkflows });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
