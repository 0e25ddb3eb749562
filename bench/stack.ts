/**
 * The service as benchmarks run it: a real Temporal dev server (headless,
 * in memory), embedded PGlite, one worker, the router and the HTTP API on a
 * loopback port, all in this process, as `npm start` runs them.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { startDevServer, type DevServer } from '../temporal/dev-server';
import type { ActionDefinition } from '../src/activities/action-definition';
import { createRegistry } from '../src/activities';
import { createApp } from '../src/api/app';
import { CredentialStore } from '../src/credentials/store';
import { EventRouter } from '../src/events/router';
import { signBody } from '../src/events/signature';
import { RunService } from '../src/runs/run-service';
import { openPglite, type Db } from '../src/store/db';
import { migrate } from '../src/store/migrations';
import { WorkflowStore } from '../src/store/workflow-store';
import { bundleWorkflows } from '../src/worker/bundle';
import { createRunWorker } from '../src/worker/create-worker';
import { SEARCH_ATTRIBUTE_TYPES } from '../src/workflows/run-contract';

export interface Stack {
  base: string;
  client: Client;
  db: Db;
  router: EventRouter;
  post(path: string, body?: unknown): Promise<Record<string, unknown>>;
  postEvent(event: Record<string, unknown>): Promise<void>;
  publish(id: string, definition: unknown): Promise<void>;
  close(): Promise<void>;
}

const SECRET = 'bench-secret';

export async function startStack(extraActions: ActionDefinition<never>[] = []): Promise<Stack> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const server: DevServer = await startDevServer({ headless: true, searchAttributes: SEARCH_ATTRIBUTE_TYPES, log: () => undefined });
  const db = await openPglite();
  await migrate(db);
  // A throwaway key: the benchmark's embedded database lives only in memory.
  const credentials = new CredentialStore(db, randomBytes(32));
  const registry = createRegistry({ db, credentials, network: { allowList: ['127.0.0.1', '::1', 'localhost'] } }, extraActions);
  const workflows = new WorkflowStore(db);
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const worker: Worker = await createRunWorker({ connection: nativeConnection, namespace: 'default', taskQueue: 'bench', registry, workflows, db, workflowBundle: await bundleWorkflows() });
  const running = worker.run();
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const runs = new RunService({ client, taskQueue: 'bench', namespace: 'default', registry });
  const router = new EventRouter({ db, runs, client, log: () => undefined });
  await router.start();
  const app = createApp({ db, workflows, registry, runs, router, credentials, eventsSigningSecret: SECRET });
  const http: Server = app.listen(0, '127.0.0.1');
  await new Promise((r) => http.once('listening', r));
  const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

  const post = async (path: string, body?: unknown) => {
    const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });
    const json = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  return {
    base,
    client,
    db,
    router,
    post,
    async postEvent(event) {
      const body = JSON.stringify(event);
      const res = await fetch(`${base}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', 'idw-signature': signBody(SECRET, body) }, body });
      if (res.status !== 202) throw new Error(`POST /v1/events: ${res.status} ${await res.text()}`);
    },
    async publish(id, definition) {
      await post('/v1/workflows', { id, name: id, definition });
      await post(`/v1/workflows/${id}/publish`);
    },
    async close() {
      http.close();
      await router.stop();
      worker.shutdown();
      await running;
      await nativeConnection.close();
      await connection.close();
      await db.close();
      await server.stop();
    },
  };
}

export function stats(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  return { runs: s.length, min: s[0], median: at(0.5), p99: at(0.99), max: s[s.length - 1] };
}
