/**
 * Starts and stops a local `temporal server start-dev` process, and registers custom search
 * attributes on a Temporal server.
 *
 * Owns the child process lifecycle: flags, readiness, log forwarding, and making sure the server
 * does not outlive the Node process that started it. Obtaining the binary is cli.ts's job.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { ensureTemporalCli } from './cli';

export type SearchAttributeType = 'Keyword' | 'Text' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList';

/**
 * What the dev server is started with unless told otherwise. The history
 * service's transfer queue (which hands new workflow and activity tasks to
 * matching) polls at most 20 times a second per shard by default, and the dev
 * server has one shard: every task waited ~45 ms before a worker could take
 * it, so an activity step cost ~100 ms. At 1,000 the wait is ~2 ms
 * (`npm run bench`; docs/benchmarks.md has the before and after).
 */
export const DEV_SERVER_DYNAMIC_CONFIG: Readonly<Record<string, unknown>> = {
  'history.transferProcessorMaxPollRPS': 1000,
};

export interface DevServerOptions {
  /** Default: `await ensureTemporalCli()`. */
  cliPath?: string;
  /** gRPC frontend port. Default: a free port. */
  port?: number;
  /** Web UI port. Default 8233 unless headless. */
  uiPort?: number;
  /** Pass --headless (no Web UI). */
  headless?: boolean;
  /**
   * The Web UI's remote codec endpoint (`--ui-codec-endpoint`): the UI posts
   * payloads to `<endpoint>/decode` to show them decoded.
   */
  uiCodecEndpoint?: string;
  /** SQLite file for persistent state; omit for in-memory. */
  dbFilename?: string;
  /** Default 'default'. */
  namespace?: string;
  /** Each becomes `--search-attribute Name=Type`. */
  searchAttributes?: Record<string, SearchAttributeType>;
  /**
   * Dynamic config values (`--dynamic-config-value key=<JSON>`), over
   * DEV_SERVER_DYNAMIC_CONFIG; a key set to `undefined` drops a default.
   */
  dynamicConfig?: Record<string, unknown>;
  /** --log-level; default 'warn'. */
  logLevel?: string;
  /** Receives one line at a time, already prefixed with `[temporal]`. Default: console.log. */
  log?: (line: string) => void;
}

export interface DevServer {
  /** host:port of the gRPC frontend, ready for `Connection.connect({ address })`. */
  address: string;
  uiUrl?: string;
  namespace: string;
  process: ChildProcess;
  /** SIGTERM, then SIGKILL after 10 s; resolves once the process has exited. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const DEFAULT_UI_PORT = 8233;
const READY_TIMEOUT_MS = 60_000;
const READY_POLL_MS = 250;
const PROBE_TIMEOUT_MS = 2_000;
const STOP_GRACE_MS = 10_000;
const STDERR_TAIL_LINES = 40;

const INDEXED_VALUE_TYPES: Record<SearchAttributeType, temporal.api.enums.v1.IndexedValueType> = {
  Text: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  Keyword: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Int: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
  Double: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  Bool: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  Datetime: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  KeywordList: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

export async function startDevServer(opts: DevServerOptions = {}): Promise<DevServer> {
  const log = prefixed(opts.log ?? console.log);
  const cliPath = opts.cliPath ?? (await ensureTemporalCli({ log: opts.log }));
  const port = opts.port ?? (await findFreePort());
  const namespace = opts.namespace ?? 'default';
  const searchAttributes = opts.searchAttributes ?? {};
  const uiPort = opts.headless ? undefined : (opts.uiPort ?? DEFAULT_UI_PORT);

  const args = ['server', 'start-dev', '--ip', HOST, '--port', String(port)];
  // Both on loopback, named explicitly: the gRPC frontend has no authentication, and the UI hands its codec endpoint to every visitor.
  args.push(...(uiPort === undefined ? ['--headless'] : ['--ui-ip', HOST, '--ui-port', String(uiPort)]));
  if (uiPort !== undefined && opts.uiCodecEndpoint) args.push('--ui-codec-endpoint', opts.uiCodecEndpoint);
  if (opts.dbFilename) {
    const dbFile = path.resolve(opts.dbFilename);
    // start-dev refuses to create the file when its directory is missing.
    fs.mkdirSync(path.dirname(dbFile), { recursive: true });
    args.push('--db-filename', dbFile);
  }
  // The CLI always creates 'default'; naming it again would only register it twice.
  if (namespace !== 'default') args.push('--namespace', namespace);
  args.push('--log-level', opts.logLevel ?? 'warn');
  for (const [key, value] of Object.entries({ ...DEV_SERVER_DYNAMIC_CONFIG, ...opts.dynamicConfig })) {
    if (value !== undefined) args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  for (const [name, type] of Object.entries(searchAttributes)) {
    if (!Object.hasOwn(INDEXED_VALUE_TYPES, type)) throw new Error(`search attribute ${name}: unknown type '${type}'`);
    args.push('--search-attribute', `${name}=${type}`);
  }

  const address = `${HOST}:${port}`;
  log(`starting dev server on ${address}${uiPort === undefined ? ' (headless)' : `, Web UI http://${HOST}:${uiPort}`}`);
  const child = spawn(cliPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });

  const stderrTail: string[] = [];
  readline.createInterface({ input: child.stdout! }).on('line', (line) => log(line));
  readline.createInterface({ input: child.stderr! }).on('line', (line) => {
    stderrTail.push(line);
    if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
    log(line);
  });

  // A dev server orphaned by a crashed test run would hold its port and SQLite file.
  const killOnExit = () => child.kill('SIGTERM');
  process.on('exit', killOnExit);
  const exited = new Promise<void>((resolve) => {
    const done = () => {
      process.off('exit', killOnExit);
      resolve();
    };
    child.once('exit', done);
    // A binary that could not be spawned reports 'error' and never 'exit'.
    child.once('error', () => {
      if (child.pid === undefined) done();
    });
  });

  const stop = async (): Promise<void> => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
      await exited;
      return;
    }
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      log(`dev server did not stop within ${STOP_GRACE_MS / 1000}s, sending SIGKILL`);
      child.kill('SIGKILL');
    }, STOP_GRACE_MS);
    try {
      await exited;
    } finally {
      clearTimeout(timer);
    }
  };

  try {
    await waitUntilReady(child, address, namespace, stderrTail);
    // A reused SQLite file keeps the namespace as first created, ignoring new --search-attribute
    // flags, so register anything added since.
    if (Object.keys(searchAttributes).length > 0) {
      await ensureSearchAttributes(address, namespace, searchAttributes, { log: opts.log });
    }
  } catch (err) {
    await stop();
    throw err;
  }
  log(`dev server ready on ${address}`);

  return {
    address,
    uiUrl: uiPort === undefined ? undefined : `http://${HOST}:${uiPort}`,
    namespace,
    process: child,
    stop,
  };
}

/**
 * Adds the custom search attributes that `namespace` lacks. Idempotent; meant for an external
 * server (TEMPORAL_ADDRESS), where start-dev's --search-attribute flags don't apply.
 * Throws if an attribute already exists with a different type, since the server can't change it.
 */
export async function ensureSearchAttributes(
  address: string,
  namespace: string,
  attrs: Record<string, SearchAttributeType>,
  opts: { log?: (line: string) => void } = {},
): Promise<void> {
  const log = prefixed(opts.log ?? console.log);
  const connection = Connection.lazy({ address });
  try {
    await connection.ensureConnected();
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    const existing = customAttributes ?? {};
    const missing: Record<string, temporal.api.enums.v1.IndexedValueType> = {};
    for (const [name, typeName] of Object.entries(attrs)) {
      const wanted = Object.hasOwn(INDEXED_VALUE_TYPES, typeName) ? INDEXED_VALUE_TYPES[typeName] : undefined;
      if (wanted === undefined) throw new Error(`search attribute ${name}: unknown type '${typeName}'`);
      const have = existing[name];
      if (have === undefined) {
        missing[name] = wanted;
      } else if (have !== wanted) {
        throw new Error(
          `search attribute ${name} already exists on namespace ${namespace} at ${address} as ` +
            `${temporal.api.enums.v1.IndexedValueType[have]}, but ${typeName} is needed; ` +
            `a search attribute's type cannot be changed, so use another name or remove it first`,
        );
      }
    }
    if (Object.keys(missing).length === 0) return;
    log(`adding search attributes to namespace ${namespace}: ${Object.keys(missing).join(', ')}`);
    try {
      await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
    } catch (err) {
      // Another process may have added the same attributes between our list and add.
      if ((err as { code?: number }).code !== ALREADY_EXISTS) throw err;
    }
  } finally {
    await connection.close();
  }
}

/** gRPC status code ALREADY_EXISTS. */
const ALREADY_EXISTS = 6;

async function waitUntilReady(
  child: ChildProcess,
  address: string,
  namespace: string,
  stderrTail: string[],
): Promise<void> {
  // Rejects as soon as the process dies, so a failed start is reported without waiting out a probe.
  let onExit!: (code: number | null, signal: NodeJS.Signals | null) => void;
  let onError!: (err: Error) => void;
  const died = new Promise<never>((_, reject) => {
    onExit = (code, signal) =>
      reject(
        new Error(
          `temporal server start-dev ${signal ? `was killed by ${signal}` : `exited with code ${code}`} ` +
            `before becoming ready. Last stderr lines:\n${stderrTail.join('\n')}`,
        ),
      );
    onError = (err) => reject(new Error(`could not run the Temporal CLI: ${err.message}`));
  });
  died.catch(() => undefined); // Observed through the races below.
  child.once('exit', onExit);
  child.once('error', onError);

  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError: unknown;
  try {
    for (;;) {
      // start-dev needs a second or more before it can answer, so sleep first; a process that dies
      // at once (bad flag, port taken) is then reported without leaving a probe's timers behind.
      let pause: NodeJS.Timeout | undefined;
      try {
        await Promise.race([died, new Promise((resolve) => (pause = setTimeout(resolve, READY_POLL_MS)))]);
      } finally {
        clearTimeout(pause);
      }
      // lazy + ensureConnected rather than connect(), so every attempt's channel can be closed,
      // including one abandoned mid-connect because the process died.
      const connection = Connection.lazy({ address, connectTimeout: PROBE_TIMEOUT_MS });
      const attempt = probe(connection, namespace);
      attempt.catch(() => undefined); // Observed through the race below.
      try {
        await Promise.race([attempt, died]);
        return;
      } catch (err) {
        await Promise.race([died, Promise.resolve()]); // Prefer the exit report over a probe error.
        lastError = err;
      } finally {
        await connection.close().catch(() => undefined);
      }
      if (Date.now() > deadline) {
        throw new Error(
          `temporal server start-dev did not answer on ${address} within ${READY_TIMEOUT_MS / 1000}s ` +
            `(last error: ${(lastError as Error)?.message ?? 'none'}). Last stderr lines:\n${stderrTail.join('\n')}`,
        );
      }
    }
  } finally {
    child.off('exit', onExit);
    child.off('error', onError);
  }
}

/** Succeeds once the frontend answers and the namespace is registered. */
async function probe(connection: Connection, namespace: string): Promise<void> {
  await connection.ensureConnected(); // Calls getSystemInfo.
  await connection.workflowService.describeNamespace({ namespace });
}

function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function prefixed(log: (line: string) => void): (line: string) => void {
  return (line) => log(`[temporal] ${line}`);
}
