/**
 * Settings from the environment, validated at start-up with zod: every
 * missing or bad value is reported at once, each with its variable's name,
 * before anything is started. `CONFIG_VARIABLES` lists every variable the
 * service reads (README.md's configuration table documents each one, and
 * the compose test checks docker-compose.yml against this list).
 *
 * Production (NODE_ENV=production with DATABASE_URL set) must be given its
 * secrets; the embedded dev default (`npm start`) makes the missing ones once
 * under DATA_DIR.
 */
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { z } from 'zod';
import { parsePayloadKeys, type PayloadKey } from './codec/keys';
import { parseKey } from './credentials/secret-box';
import { DEFAULT_TASK_QUEUE } from './worker/create-worker';

export const ROLES = ['all', 'api', 'worker'] as const;
export type Role = (typeof ROLES)[number];
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  role: Role;
  host: string;
  port: number;
  dataDir: string;
  databaseUrl?: string;
  /** NODE_ENV=production with DATABASE_URL: secrets must be configured, none is made. */
  production: boolean;
  /** Set: use that Temporal server. Unset: start the embedded dev server. */
  temporalAddress?: string;
  temporalPort: number;
  temporalUiPort: number;
  temporalUiUrl?: string;
  namespace: string;
  taskQueue: string;
  /** Shared secret for signed `POST /v1/events`; unset: one is made and kept under DATA_DIR. */
  eventsSigningSecret?: string;
  /** The first admin's password (admin@localhost), used only when the database has no users yet; unset: a random one is printed once. */
  adminPassword?: string;
  publicBaseUrl: string;
  httpAllowList: string[];
  /** Keys that encrypt Temporal payloads, newest first; unset: the dev key under DATA_DIR. */
  payloadKeys?: PayloadKey[];
  /** Bearer token of /codec/*; unset: made under DATA_DIR. */
  codecToken?: string;
  /** Origins the codec endpoint admits by CORS (the Temporal Web UI's). */
  codecCorsOrigins: string[];
  /** Bearer token of /metrics; unset: made under DATA_DIR. */
  metricsToken?: string;
  logLevel: LogLevel;
  /**
   * Proxies whose X-Forwarded-For/-Proto are believed (express "trust
   * proxy"): a hop count, or addresses, CIDRs and the names loopback,
   * linklocal, uniquelocal; false (the default): none, so a client cannot
   * spoof its address.
   */
  trustProxy: TrustProxy;
  /** How long SIGTERM waits for in-flight requests and running activities. */
  shutdownGraceMs: number;
}

/** Every environment variable the service reads, with what it is for (README.md's table says more). */
export const CONFIG_VARIABLES = [
  'ROLE',
  'HOST',
  'PORT',
  'DATA_DIR',
  'DATABASE_URL',
  'NODE_ENV',
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_PORT',
  'TEMPORAL_UI_PORT',
  'TEMPORAL_UI_URL',
  'TEMPORAL_CLI_PATH',
  'TASK_QUEUE',
  'EVENTS_SIGNING_SECRET',
  'CREDENTIALS_KEY',
  'ADMIN_PASSWORD',
  'PUBLIC_BASE_URL',
  'HTTP_ALLOW_LIST',
  'ADVERSE_MEDIA_URL',
  'ADVERSE_MEDIA_CREDENTIAL',
  'RATE_LIMIT_TRIGGERS_PER_MIN',
  'RATE_LIMIT_EVENTS_PER_MIN',
  'PAYLOAD_KEYS',
  'CODEC_TOKEN',
  'CODEC_CORS_ORIGINS',
  'METRICS_TOKEN',
  'LOG_LEVEL',
  'SHUTDOWN_GRACE_MS',
  'TRUST_PROXY',
] as const;

/** Secrets a production deployment must set (and whose values are never echoed in errors). */
export const PRODUCTION_SECRETS = ['EVENTS_SIGNING_SECRET', 'CREDENTIALS_KEY', 'PAYLOAD_KEYS', 'CODEC_TOKEN', 'METRICS_TOKEN'] as const;
const SECRETS = new Set<string>([...PRODUCTION_SECRETS, 'ADMIN_PASSWORD']);

/** Express's "trust proxy": false, a hop count, or the proxies' addresses. */
export type TrustProxy = false | number | string[];

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** A CIDR or address express's proxy-addr accepts. */
function isAddressOrCidr(entry: string): boolean {
  const [address, prefix, more] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || more !== undefined) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * TRUST_PROXY: unset, empty, `false` or `0`: trust no proxy. A whole number
 * 1-10: that many hops. Else comma-separated addresses, CIDRs or the names
 * loopback, linklocal, uniquelocal. `true` is refused: it would believe any
 * client's X-Forwarded-For.
 */
export function parseTrustProxy(raw: string | undefined, ctx?: z.RefinementCtx): TrustProxy {
  const fail = (message: string): TrustProxy => {
    ctx?.addIssue({ code: 'custom', message });
    return false;
  };
  if (raw === undefined) return false;
  const v = raw.trim().toLowerCase();
  if (v === '' || v === 'false' || v === '0') return false;
  if (v === 'true') return fail('must name the proxies (addresses, CIDRs, loopback) or a hop count: true would believe any client\'s X-Forwarded-For');
  if (/^\d+$/.test(v)) return Number(v) <= 10 ? Number(v) : fail('a hop count must be 1-10');
  const entries = v.split(',').map((e) => e.trim()).filter(Boolean);
  const bad = entries.filter((e) => !PROXY_NAMES.has(e) && !isAddressOrCidr(e));
  if (bad.length > 0) return fail(`must be a hop count, or addresses, CIDRs or loopback/linklocal/uniquelocal, comma-separated; not ${bad.join(', ')}`);
  return entries;
}

export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p.variable}: ${p.message}`).join('\n')}`);
  }
}

/** Unset and empty are the same: the default applies. */
const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

const port = (fallback: number) =>
  optional(z.string().regex(/^\d+$/, 'must be a port number (0-65535)').transform(Number).refine((n) => n <= 65535, 'must be a port number (0-65535)')).transform(
    (v) => v ?? fallback,
  );
const wholeNumber = z.string().regex(/^\d+$/, 'must be a whole number');
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const postgresUrl = z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' });
const hostPort = z.string().regex(/^[^\s:/]+:\d{1,5}$/, 'must be host:port, e.g. temporal:7233');
const list = z.string().transform((s) => s.split(',').map((e) => e.trim()).filter(Boolean));
const token = (what: string) => z.string().min(16, `must be at least 16 characters (${what}; make one with \`openssl rand -hex 32\`)`);

/** Parse with a function that throws; its message becomes the issue. */
const parsedBy = <T>(parse: (raw: string) => T) =>
  z.string().transform((raw, ctx) => {
    try {
      return parse(raw);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });

const envSchema = z.object({
  ROLE: optional(z.enum(ROLES, { error: `must be one of ${ROLES.join(', ')}` })).transform((v) => v ?? 'all'),
  HOST: optional(z.string()).transform((v) => v ?? '127.0.0.1'),
  PORT: port(3000),
  DATA_DIR: optional(z.string()).transform((v) => resolve(v ?? '.data')),
  DATABASE_URL: optional(postgresUrl),
  NODE_ENV: optional(z.string()),
  TEMPORAL_ADDRESS: optional(hostPort),
  TEMPORAL_NAMESPACE: optional(z.string()).transform((v) => v ?? 'default'),
  TEMPORAL_PORT: port(7233),
  TEMPORAL_UI_PORT: port(8233),
  TEMPORAL_UI_URL: optional(httpUrl),
  TEMPORAL_CLI_PATH: optional(z.string()),
  TASK_QUEUE: optional(z.string()).transform((v) => v ?? DEFAULT_TASK_QUEUE),
  EVENTS_SIGNING_SECRET: optional(token('the secret upstream services sign events with')),
  CREDENTIALS_KEY: optional(parsedBy((raw) => parseKey(raw))),
  ADMIN_PASSWORD: optional(z.string().min(12, 'must be at least 12 characters')),
  PUBLIC_BASE_URL: optional(httpUrl),
  HTTP_ALLOW_LIST: optional(list).transform((v) => v ?? []),
  ADVERSE_MEDIA_URL: optional(httpUrl),
  ADVERSE_MEDIA_CREDENTIAL: optional(z.string()),
  RATE_LIMIT_TRIGGERS_PER_MIN: optional(wholeNumber),
  RATE_LIMIT_EVENTS_PER_MIN: optional(wholeNumber),
  PAYLOAD_KEYS: optional(parsedBy(parsePayloadKeys)),
  CODEC_TOKEN: optional(token('the Temporal Web UI sends it to /codec/*')),
  CODEC_CORS_ORIGINS: optional(list.pipe(z.array(httpUrl))),
  METRICS_TOKEN: optional(token('Prometheus sends it to /metrics')),
  TRUST_PROXY: optional(z.string()).transform((v, ctx) => parseTrustProxy(v, ctx)),
  LOG_LEVEL: optional(z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` })).transform((v) => v ?? 'info'),
  SHUTDOWN_GRACE_MS: optional(wholeNumber.transform(Number)).transform((v) => v ?? 30_000),
});

/** Read and check the environment; throws a ConfigError listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const variable = String(issue.path[0]);
        const raw = env[variable];
        const shown = raw === undefined || SECRETS.has(variable) ? '' : ` (got "${raw}")`;
        return { variable, message: `${issue.message}${shown}` };
      }),
    );
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production' && e.DATABASE_URL !== undefined;
  if (production) {
    const missing = PRODUCTION_SECRETS.filter((name) => e[name] === undefined);
    if (missing.length > 0) {
      throw new ConfigError(
        missing.map((variable) => ({
          variable,
          message: 'is required in production (NODE_ENV=production with DATABASE_URL): every API and worker process must share it',
        })),
      );
    }
  }
  const uiUrl = e.TEMPORAL_UI_URL ?? (e.TEMPORAL_ADDRESS ? undefined : `http://localhost:${e.TEMPORAL_UI_PORT}`);
  return {
    role: e.ROLE,
    host: e.HOST,
    port: e.PORT,
    dataDir: e.DATA_DIR,
    databaseUrl: e.DATABASE_URL,
    production,
    temporalAddress: e.TEMPORAL_ADDRESS,
    temporalPort: e.TEMPORAL_PORT,
    temporalUiPort: e.TEMPORAL_UI_PORT,
    temporalUiUrl: uiUrl,
    namespace: e.TEMPORAL_NAMESPACE,
    taskQueue: e.TASK_QUEUE,
    eventsSigningSecret: e.EVENTS_SIGNING_SECRET,
    adminPassword: e.ADMIN_PASSWORD,
    publicBaseUrl: e.PUBLIC_BASE_URL ?? `http://${e.HOST}:${e.PORT}`,
    httpAllowList: e.HTTP_ALLOW_LIST,
    payloadKeys: e.PAYLOAD_KEYS,
    codecToken: e.CODEC_TOKEN,
    // The dev server's UI answers on both names of the loopback address.
    codecCorsOrigins:
      e.CODEC_CORS_ORIGINS ?? (uiUrl ? [new URL(uiUrl).origin] : [`http://localhost:${e.TEMPORAL_UI_PORT}`]).concat(e.TEMPORAL_ADDRESS ? [] : [`http://127.0.0.1:${e.TEMPORAL_UI_PORT}`]),
    metricsToken: e.METRICS_TOKEN,
    logLevel: e.LOG_LEVEL,
    trustProxy: e.TRUST_PROXY,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
  };
}
