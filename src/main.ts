/**
 * `npm start`: the whole service in one process on an embedded default.
 * A Temporal dev server (SQLite under .data/, Web UI on :8233) unless
 * TEMPORAL_ADDRESS is set; PostgreSQL from DATABASE_URL or embedded PGlite
 * under .data/; the worker; the HTTP API on :3000. Ctrl-C stops it all.
 * ROLE=api or ROLE=worker runs one part (production runs several workers).
 */
import { eventRunStartCursor } from './events/outbox';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type LogLevel as SdkLogLevel, type Worker } from '@temporalio/worker';
import { ensureSearchAttributes, startDevServer, type DevServer } from '../temporal/dev-server';
import { createRegistry } from './activities';
import { devSecret } from './dev-secret';
import { inquiryLinkKeyFrom } from './inquiry-links/links';
import { createApp } from './api/app';
import { closeGracefully } from './api/graceful-close';
import { operationsApp, postgresqlCheck, Readiness, temporalCheck, type ReadinessCheck } from './api/health-routes';
import { AesGcmPayloadCodec, encryptedDataConverter, loadPayloadKeys } from './codec';
import { createLogger, type Logger } from './observability/logger';
import { createMetrics } from './observability/metrics';
import { ensureFirstAdmin } from './auth/users';
import { ConfigError, loadConfig } from './config';
import { loadCredentialsKey } from './credentials/key';
import { CredentialStore } from './credentials/store';
import { EventRouter } from './events/router';
import { RunService } from './runs/run-service';
import { ScheduleService } from './schedules/schedule-service';
import { ScheduleStore } from './schedules/schedule-store';
import { connectPostgres, openDatabase, type Db } from './store/db';
import { migrate } from './store/migrations';
import { WorkflowStore } from './store/workflow-store';
import { createWebhooks } from './webhooks';
import { bundleWorkflows } from './worker/bundle';
import { createRunWorker } from './worker/create-worker';
import { SEARCH_ATTRIBUTE_TYPES } from './workflows/run-contract';

let logger: Logger = createLogger();
const log = (line: string): void => logger.info(line);

async function main(): Promise<void> {
  const config = loadConfig();
  logger = createLogger({ level: config.logLevel });
  forwardSdkLogs(logger);
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
    // /readyz answers 503 from now on, so load balancers stop sending requests while the ones in flight finish.
    readiness.drain();
    for (const stop of stops.reverse()) {
      await stop().catch((err: Error) => log(`while stopping: ${err.message}`));
    }
    log('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  const payloadCodec = new AesGcmPayloadCodec(loadPayloadKeys({ configured: config.payloadKeys, dataDir: config.dataDir, log }));
  const codecToken = secretOrDevDefault(config.codecToken, config.dataDir, 'codec-token', 'CODEC_TOKEN', '/codec/*');
  const metricsToken = secretOrDevDefault(config.metricsToken, config.dataDir, 'metrics-token', 'METRICS_TOKEN', '/metrics');
  const serves = config.role === 'all' || config.role === 'api';
  const apiBase = `http://${config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host}:${config.port}`;
  const readinessChecks: ReadinessCheck[] = [];
  const readiness = new Readiness(readinessChecks);

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
      // The UI decodes payloads through our codec endpoint; it cannot send a header, so the token is in the path.
      // Acceptable only because the dev server's UI listens on 127.0.0.1 (temporal/dev-server.ts): the compose
      // stack configures no endpoint into its UI (docs/operations.md).
      uiCodecEndpoint: serves ? `${apiBase}/codec/${codecToken}` : undefined,
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
  readinessChecks.push(postgresqlCheck(db));
  const metrics = createMetrics({ db });
  await firstAdmin(db, config.adminPassword);

  const credentials = new CredentialStore(db, credentialsKey);
  const registry = createRegistry({
    db,
    credentials,
    network: { allowList: config.httpAllowList },
    // Links sent to applicants point here; behind a proxy or on another host, set PUBLIC_BASE_URL.
    publicBaseUrl: config.publicBaseUrl,
    inquiryLinkKey: inquiryLinkKeyFrom(credentialsKey),
  });
  const workflows = new WorkflowStore(db);

  if (config.role === 'all' || config.role === 'worker') {
    const connection = await NativeConnection.connect({ address });
    log('bundling workflow code and starting the worker');
    const workflowBundle = await bundleWorkflows();
    const worker: Worker = await createRunWorker({
      connection,
      namespace: config.namespace,
      taskQueue: config.taskQueue,
      registry,
      workflows,
      db,
      workflowBundle,
      payloadCodec,
      metrics,
      logger,
      shutdownGraceTimeMs: config.shutdownGraceMs,
    });
    const running = worker.run();
    readinessChecks.push({
      name: 'worker',
      check: async () => {
        if (worker.getState() !== 'RUNNING') throw new Error(`worker is ${worker.getState()}`);
      },
    });
    stops.push(async () => {
      // Stops polling; running activities get SHUTDOWN_GRACE_MS to finish, then are cancelled and their tasks retried elsewhere.
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await connection.close();
    });
    log(`worker polling task queue "${config.taskQueue}"`);
    if (!serves) {
      // A worker has no API: it serves /healthz, /readyz and /metrics on PORT.
      const ops = await listen(operationsApp({ readiness, metrics, metricsToken }), config.port, config.host);
      stops.push(() => closeGracefully(ops, { graceMs: 1_000 }));
      log(`worker health and metrics on ${apiBase} (/healthz, /readyz, /metrics)`);
    }
  }

  if (config.role === 'all' || config.role === 'api') {
    const connection = await Connection.connect({ address });
    const client = new Client({ connection, namespace: config.namespace, dataConverter: encryptedDataConverter(payloadCodec) });
    readinessChecks.push(temporalCheck(connection));
    // The start cursor of API-triggered runs is read on a connection of its own, so a burst of
    // requests queued on the main pool cannot delay it past an event posted in the same instant.
    const cursorDb = config.databaseUrl ? await connectPostgres({ url: config.databaseUrl, max: 1 }) : db;
    if (cursorDb !== db) stops.push(() => cursorDb.close());
    const runStartCursor = (): Promise<number> => eventRunStartCursor(cursorDb);
    const runs = new RunService({ runStartCursor, client, taskQueue: config.taskQueue, namespace: config.namespace, registry, temporalUiUrl: config.temporalUiUrl });
    const router = new EventRouter({ db, runs, client });
    await router.start();
    stops.push(() => router.stop());
    const schedules = new ScheduleService({ client, workflows, store: new ScheduleStore(db), taskQueue: config.taskQueue, namespace: config.namespace, temporalUiUrl: config.temporalUiUrl, log });
    // A publish whose schedule sync failed (Temporal away), or a Temporal that lost its state: put it right.
    void schedules.syncAll().then(({ synced, failed }) => log(`schedules: ${synced} workflows in step${failed.length ? `, ${failed.length} failed (${failed.join(', ')})` : ''}`));
    // Every API process runs a webhook dispatcher; they share the deliveries through row claims.
    const webhooks = createWebhooks({ db, key: credentialsKey, network: { allowList: (process.env.HTTP_ALLOW_LIST ?? '').split(',').filter(Boolean) } });
    await webhooks.dispatcher.start();
    stops.push(() => webhooks.dispatcher.stop());
    const app = createApp({ db, runStartCursor, workflows, registry, runs, router, schedules, credentials, webhooks, eventsSigningSecret: eventsSecret(config.eventsSigningSecret, config.dataDir),
      readiness,
      metrics,
      metricsToken,
      logger,
      codec: { codec: payloadCodec, token: codecToken, corsOrigins: config.codecCorsOrigins },
      trustProxy: config.trustProxy,
    });
    const server = await listen(app, config.port, config.host);
    stops.push(async () => {
      // No new connections; requests in flight finish (up to SHUTDOWN_GRACE_MS).
      await closeGracefully(server, { graceMs: config.shutdownGraceMs, log });
      await connection.close();
    });
    log(`API listening on http://${config.host}:${config.port}; the editor is at http://${config.host}:${config.port}/ (sign in; README "A five-minute tour" makes an API key for curl)`);
  }
  if (devServer?.uiUrl) log(`Temporal Web UI: ${devServer.uiUrl}`);
  log('ready. Ctrl-C stops everything.');
}

/** On a database without users: make admin@localhost and print its password, this once. */
async function firstAdmin(db: Db, password: string | undefined): Promise<void> {
  const made = await ensureFirstAdmin(db, { password });
  if (!made) return;
  if (made.generated) log(`access control: created the first admin ${made.email} with password ${made.password} (shown this once; sign in and keep it safe)`);
  else log(`access control: created the first admin ${made.email} with the password from ADMIN_PASSWORD`);
}

function listen(app: { listen: (port: number, host: string, cb: () => void) => Server }, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = app.listen(port, host, () => resolve(s));
    s.on('error', reject);
  });
}

/** A bearer token from the environment or, in the embedded default, one made once under the data folder. */
function secretOrDevDefault(configured: string | undefined, dataDir: string, file: string, variable: string, what: string): string {
  if (configured) return configured;
  const made = devSecret(dataDir, file);
  log(`${what}: the bearer token is in ${made.file} (set ${variable} to choose one)`);
  return made.value;
}

const SDK_LEVELS: Record<SdkLogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' };

/** The Temporal SDK's own logs (worker, core) as JSON lines through the same logger. */
function forwardSdkLogs(target: Logger): void {
  Runtime.install({
    logger: new DefaultLogger('WARN', (entry) => target[SDK_LEVELS[entry.level]]({ component: 'temporal-sdk', ...entry.meta }, entry.message)),
  });
}

/** The configured secret, or (embedded default) one made once and kept under the data folder. */
function eventsSecret(configured: string | undefined, dataDir: string): string {
  if (configured) return configured;
  const { file, value } = devSecret(dataDir, 'events-signing-secret');
  log(`events: POST /v1/events is signed with the secret in ${file} (set EVENTS_SIGNING_SECRET to choose one)`);
  return value;
}

main().catch((err: Error) => {
  // A configuration problem is the operator's to fix: the list of what is wrong, without a stack.
  if (err instanceof ConfigError) logger.fatal({ problems: err.problems }, err.message);
  else logger.fatal({ err }, `failed to start: ${err.message}`);
  // Let pino flush before exiting.
  setImmediate(() => process.exit(1));
});
