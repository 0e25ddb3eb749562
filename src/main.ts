/**
 * `npm start`: the whole service in one process on an embedded default.
 * A Temporal dev server (SQLite under .data/, Web UI on :8233) unless
 * TEMPORAL_ADDRESS is set; PostgreSQL from DATABASE_URL or embedded PGlite
 * under .data/; the worker; the HTTP API on :3000. Ctrl-C stops it all.
 * ROLE=api or ROLE=worker runs one part (production runs several workers).
 */
import type { Server } from 'node:http';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { ensureSearchAttributes, startDevServer, type DevServer } from '../temporal/dev-server';
import { createRegistry } from './activities';
import { devSecret } from './dev-secret';
import { inquiryLinkKeyFrom } from './inquiry-links/links';
import { createApp } from './api/app';
import { loadConfig } from './config';
import { loadCredentialsKey } from './credentials/key';
import { CredentialStore } from './credentials/store';
import { EventRouter } from './events/router';
import { RunService } from './runs/run-service';
import { openDatabase, type Db } from './store/db';
import { migrate } from './store/migrations';
import { WorkflowStore } from './store/workflow-store';
import { bundleWorkflows } from './worker/bundle';
import { createRunWorker } from './worker/create-worker';
import { SEARCH_ATTRIBUTE_TYPES } from './workflows/run-contract';

const log = (line: string): void => console.log(`[idw] ${line}`);

async function main(): Promise<void> {
  const config = loadConfig();
  // First, so a production start without CREDENTIALS_KEY stops before anything else is started.
  const credentialsKey = loadCredentialsKey({ dataDir: config.dataDir, log });
  const stops: (() => Promise<void>)[] = [];
  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) {
      log('second interrupt: exiting now');
      process.exit(130);
    }
    stopping = true;
    log(`${signal}: shutting down (Ctrl-C again to force)`);
    for (const stop of stops.reverse()) {
      await stop().catch((err: Error) => log(`while stopping: ${err.message}`));
    }
    log('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  let address = config.temporalAddress;
  let devServer: DevServer | undefined;
  if (!address) {
    log('starting the Temporal dev server (first run may build the Temporal CLI; progress follows)');
    devServer = await startDevServer({
      port: config.temporalPort,
      uiPort: config.temporalUiPort,
      dbFilename: join(config.dataDir, 'temporal.db'),
      namespace: config.namespace,
      searchAttributes: SEARCH_ATTRIBUTE_TYPES,
    });
    address = devServer.address;
    stops.push(() => devServer!.stop());
  } else {
    log(`using the Temporal server at ${address}`);
    await ensureSearchAttributes(address, config.namespace, SEARCH_ATTRIBUTE_TYPES);
  }

  const db: Db = await openDatabase({ url: config.databaseUrl, dataDir: join(config.dataDir, 'pg'), log });
  stops.push(() => db.close());
  await migrate(db, log);

  const credentials = new CredentialStore(db, credentialsKey);
  const registry = createRegistry({
    db,
    credentials,
    network: { allowList: (process.env.HTTP_ALLOW_LIST ?? '').split(',').filter(Boolean) },
    // Links sent to applicants point here; behind a proxy or on another host, set PUBLIC_BASE_URL.
    publicBaseUrl: process.env.PUBLIC_BASE_URL ?? `http://${config.host}:${config.port}`,
    inquiryLinkKey: inquiryLinkKeyFrom(credentialsKey),
  });
  const workflows = new WorkflowStore(db);

  if (config.role === 'all' || config.role === 'worker') {
    const connection = await NativeConnection.connect({ address });
    log('bundling workflow code and starting the worker');
    const workflowBundle = await bundleWorkflows();
    const worker: Worker = await createRunWorker({ connection, namespace: config.namespace, taskQueue: config.taskQueue, registry, workflows, db, workflowBundle });
    const running = worker.run();
    stops.push(async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await connection.close();
    });
    log(`worker polling task queue "${config.taskQueue}"`);
  }

  if (config.role === 'all' || config.role === 'api') {
    const connection = await Connection.connect({ address });
    const client = new Client({ connection, namespace: config.namespace });
    const runs = new RunService({ client, taskQueue: config.taskQueue, namespace: config.namespace, registry, temporalUiUrl: config.temporalUiUrl });
    const router = new EventRouter({ db, runs, client });
    await router.start();
    stops.push(() => router.stop());
    const app = createApp({ db, workflows, registry, runs, router, credentials, eventsSigningSecret: eventsSecret(config.eventsSigningSecret, config.dataDir) });
    const server: Server = await new Promise((resolve, reject) => {
      const s = app.listen(config.port, config.host, () => resolve(s));
      s.on('error', reject);
    });
    stops.push(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await connection.close();
    });
    log(`API listening on http://${config.host}:${config.port}  (try: curl http://${config.host}:${config.port}/v1/workflows)`);
  }
  if (devServer?.uiUrl) log(`Temporal Web UI: ${devServer.uiUrl}`);
  log('ready. Ctrl-C stops everything.');
}

/** The configured secret, or (embedded default) one made once and kept under the data folder. */
function eventsSecret(configured: string | undefined, dataDir: string): string {
  if (configured) return configured;
  const { file, value } = devSecret(dataDir, 'events-signing-secret');
  log(`events: POST /v1/events is signed with the secret in ${file} (set EVENTS_SIGNING_SECRET to choose one)`);
  return value;
}

main().catch((err: Error) => {
  console.error(`[idw] failed to start: ${err.message}`);
  process.exit(1);
});
