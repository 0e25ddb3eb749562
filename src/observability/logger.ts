/**
 * Structured JSON logs (pino): one line per API request (with its request,
 * run and workflow ids) and per step attempt (run id, step id, action,
 * attempt, duration). Request and response bodies, headers and step
 * parameters are never logged: they carry PII and secrets.
 */
import type { RequestHandler } from 'express';
import pino, { type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import { pinoHttp } from 'pino-http';
import { ulid } from 'ulid';
import { routePatternOf, UNMATCHED } from './route-pattern';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function createLogger(options: { level?: LevelWithSilent; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'identity-workflows' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination,
  );
}

/** A logger that writes nothing (tests, benchmarks). */
export const silentLogger = (): Logger => pino({ level: 'silent' });

/**
 * What the log says of the URL: the route pattern the request matched
 * (`/v1/lists/:id/items/:value`), never the concrete path or query, which
 * can hold personal data (a list item's e-mail) or tokens; `[unmatched]`
 * when no route matched.
 */
const urlOf = (req: object): string => routePatternOf(req) ?? UNMATCHED;

/** Tokens that travel in URLs (the codec endpoint's path form, inquiry links, `?token=`) stay out of the logs. */
export function redactUrl(url: string): string {
  return url
    .replace(/^\/codec\/[^/?]+\/(encode|decode)/, '/codec/[redacted]/$1')
    .replace(/^\/inquiry-links\/[^/?]+/, '/inquiry-links/[redacted]')
    .replace(/([?&](?:token|key)=)[^&]*/gi, '$1[redacted]');
}

const safeDecode = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

const RUN_IN_PATH = /^\/v1\/runs\/([^/?]+)/;
const WORKFLOW_IN_PATH = /^\/v1\/workflows\/([^/?]+)/;

/** express middleware: a request id (X-Request-Id or a new one), echoed back, and one log line per request. */
export function requestLogger(logger: Logger): RequestHandler {
  return pinoHttp({
    logger,
    genReqId: (req, res) => {
      const given = req.headers['x-request-id'];
      const id = typeof given === 'string' && /^[\w.-]{1,100}$/.test(given) ? given : ulid().toLowerCase();
      res.setHeader('x-request-id', id);
      return id;
    },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
    customSuccessMessage: (req, res) => `${req.method} ${urlOf(req)} ${res.statusCode}`,
    customErrorMessage: (req, res) => `${req.method} ${urlOf(req)} ${res.statusCode}`,
    // Called when the request starts (nothing known yet) and when it ends: the route it matched, and the run and workflow ids.
    customProps: (req, res) => {
      if (!res.headersSent) return {};
      const url = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '';
      const runId = RUN_IN_PATH.exec(url)?.[1];
      const workflowId = WORKFLOW_IN_PATH.exec(url)?.[1];
      return { route: urlOf(req), ...(runId ? { runId: safeDecode(runId) } : {}), ...(workflowId ? { workflowId: safeDecode(workflowId) } : {}) };
    },
    serializers: {
      // No URL here: this runs before routing; `route` (above) says which route answered.
      req: (req: { id: unknown; method: string }) => ({ id: req.id, method: req.method }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    // Health probes every few seconds would drown everything else.
    autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' || req.url === '/metrics' },
  });
}
