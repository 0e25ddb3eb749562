/**
 * Settings from the environment, with the embedded defaults `npm start` uses.
 * Every setting is listed in README.md.
 */
import { resolve } from 'node:path';
import { DEFAULT_TASK_QUEUE } from './worker/create-worker';

export type Role = 'all' | 'api' | 'worker';

export interface Config {
  role: Role;
  host: string;
  port: number;
  dataDir: string;
  databaseUrl?: string;
  /** Set: use that Temporal server. Unset: start the embedded dev server. */
  temporalAddress?: string;
  temporalPort: number;
  temporalUiPort: number;
  temporalUiUrl?: string;
  namespace: string;
  taskQueue: string;
  /** Shared secret for signed `POST /v1/events`; unset: one is made and kept under DATA_DIR. */
  eventsSigningSecret?: string;
}

function intFrom(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new Error(`${name} must be a port number, got "${raw}"`);
  return value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const role = (env.ROLE ?? 'all') as Role;
  if (!['all', 'api', 'worker'].includes(role)) throw new Error(`ROLE must be all, api or worker, got "${env.ROLE}"`);
  const temporalUiPort = intFrom('TEMPORAL_UI_PORT', 8233);
  return {
    role,
    host: env.HOST ?? '127.0.0.1',
    port: intFrom('PORT', 3000),
    dataDir: resolve(env.DATA_DIR ?? '.data'),
    databaseUrl: env.DATABASE_URL || undefined,
    temporalAddress: env.TEMPORAL_ADDRESS || undefined,
    temporalPort: intFrom('TEMPORAL_PORT', 7233),
    temporalUiPort,
    temporalUiUrl: env.TEMPORAL_UI_URL || (env.TEMPORAL_ADDRESS ? undefined : `http://localhost:${temporalUiPort}`),
    namespace: env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: env.TASK_QUEUE ?? DEFAULT_TASK_QUEUE,
    eventsSigningSecret: env.EVENTS_SIGNING_SECRET || undefined,
  };
}
