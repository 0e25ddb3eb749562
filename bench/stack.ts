/**
 * The benchmark's world: one Temporal dev server (headless, in memory) for
 * the whole benchmark, and the service (worker, router, HTTP API on PGlite)
 * in a child process (bench/service.ts), so its CPU time and memory are
 * measured apart from the load this process generates. Every section talks
 * to the same dev server and the same worker options.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import type { WorkerOptions } from '@temporalio/worker';
import { ensureSearchAttributes, startDevServer, type DevServer } from '../temporal/dev-server';
import { randomBytes } from 'node:crypto';
import { AesGcmPayloadCodec, encryptedDataConverter, parsePayloadKeys } from '../src/codec';
import { signBody } from '../src/events/signature';
import { SEARCH_ATTRIBUTE_TYPES, type RunInput } from '../src/workflows/run-contract';
import type { ServiceRequest, ServiceUsage } from './service';

export interface Service {
  base: string;
  taskQueue: string;
  maxCachedWorkflows: number;
  /** The extra worker options it runs with. */
  options: Partial<WorkerOptions>;
  post(path: string, body?: unknown): Promise<Record<string, unknown>>;
  postEvent(event: Record<string, unknown>): Promise<void>;
  publish(id: string, definition: unknown): Promise<void>;
  /** The input RunService would start a run of this workflow's live version with. */
  runInput(workflowId: string, runId: string, payload: unknown): Promise<RunInput>;
  usage(gc?: boolean): Promise<ServiceUsage>;
  count(sql: string): Promise<number>;
  /** The router's time per event that woke a run (stored -> signals answered), ms; reset empties it. */
  routerLatency(reset?: boolean): Promise<number[]>;
  close(): Promise<void>;
}

export interface Stack {
  address: string;
  client: Client;
  service: Service;
  /** Replace the service with one whose worker has these options (same dev server). */
  restartService(workerOptions: Partial<WorkerOptions>): Promise<void>;
  close(): Promise<void>;
}

/** A request without its id (distributed over the union). */
type Ask = ServiceRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

const SECRET = 'bench-secret';
/** Payloads are encrypted as in a deployment; a key made for this benchmark only. */
const PAYLOAD_KEYS = `bench:${randomBytes(32).toString('base64')}`;

export async function startService(address: string, taskQueue: string, workerOptions: Partial<WorkerOptions>): Promise<Service> {
  const child: ChildProcess = fork(require.resolve('./service'), [], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    env: { ...process.env, BENCH_TEMPORAL_ADDRESS: address, BENCH_TASK_QUEUE: taskQueue, BENCH_SECRET: SECRET, BENCH_PAYLOAD_KEYS: PAYLOAD_KEYS, BENCH_WORKER_OPTIONS: JSON.stringify(workerOptions) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  const ready = new Promise<{ base: string; apiKey: string; maxCachedWorkflows: number }>((resolve, reject) => {
    child.on('message', (m: { ready?: boolean; base: string; apiKey: string; maxCachedWorkflows: number; id?: number; result?: unknown; error?: string }) => {
      if (m.ready) return resolve(m);
      const p = pending.get(m.id!);
      if (!p) return;
      pending.delete(m.id!);
      if (m.error) p.reject(new Error(`service: ${m.error}`));
      else p.resolve(m.result);
    });
    child.once('exit', (code) => {
      const err = new Error(`the service process exited (${code})`);
      reject(err);
      for (const p of pending.values()) p.reject(err);
    });
  });
  const { base, apiKey, maxCachedWorkflows } = await ready;
  const authorization = `Bearer ${apiKey}`;
  const ask = <T>(request: Ask): Promise<T> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ ...request, id });
    });
  const post = async (path: string, body?: unknown) => {
    const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify(body ?? {}) });
    const json = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  return {
    base,
    taskQueue,
    maxCachedWorkflows,
    options: workerOptions,
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
    runInput: (workflowId, runId, payload) => ask({ cmd: 'runInput', workflowId, runId, payload }),
    usage: (gc) => ask({ cmd: 'usage', gc }),
    count: (sql) => ask({ cmd: 'count', sql }),
    routerLatency: (reset) => ask({ cmd: 'routerLatency', reset }),
    async close() {
      const exited = new Promise((r) => child.once('exit', r));
      await ask({ cmd: 'close' }).catch(() => undefined);
      await exited;
    },
  };
}

/**
 * A dev server started as `npm start` starts it (temporal/dev-server.ts, with
 * its default dynamic config), with `--server-config` values over those
 * defaults; or the server at BENCH_TEMPORAL_ADDRESS.
 */
async function temporalServer(dynamicConfig: Record<string, unknown>): Promise<{ address: string; stop(): Promise<void> }> {
  const given = process.env.BENCH_TEMPORAL_ADDRESS;
  if (given) {
    await ensureSearchAttributes(given, 'default', SEARCH_ATTRIBUTE_TYPES);
    return { address: given, stop: async () => undefined };
  }
  const server: DevServer = await startDevServer({ headless: true, searchAttributes: SEARCH_ATTRIBUTE_TYPES, dynamicConfig, log: () => undefined });
  return server;
}

export async function startStack(workerOptions: Partial<WorkerOptions>, serverConfig: Record<string, unknown> = {}): Promise<Stack> {
  const server = await temporalServer(serverConfig);
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, dataConverter: encryptedDataConverter(new AesGcmPayloadCodec(parsePayloadKeys(PAYLOAD_KEYS))) });
  let generation = 0;
  const stack: Stack = {
    address: server.address,
    client,
    service: await startService(server.address, `bench-${generation}`, workerOptions),
    async restartService(options) {
      await stack.service.close();
      // A fresh task queue: nothing left over from the last service reaches the new one.
      stack.service = await startService(server.address, `bench-${++generation}`, options);
    },
    async close() {
      await stack.service.close();
      await connection.close();
      await server.stop();
    },
  };
  return stack;
}
