/**
 * The express app: JSON in and out under /v1, a body size limit, and one
 * error handler that turns everything into `{ error: { code, message } }`.
 */
import express, { type Express } from 'express';
import { z } from 'zod';
import type { ActionRegistry } from '../activities/registry';
import type { CredentialStore } from '../credentials/store';
import { EventStore } from '../events/event-store';
import { eventRunStartCursor } from '../events/outbox';
import type { EventRouter } from '../events/router';
import type { RunService } from '../runs/run-service';
import type { Db } from '../store/db';
import type { TrustProxy } from '../config';
import { noteRoutePattern, UNMATCHED } from '../observability/route-pattern';
import type { WorkflowStore } from '../store/workflow-store';
import type { ScheduleService } from '../schedules/schedule-service';
import { guardRoutes, noAutomaticOptions, v1Preamble } from '../auth/access-control';
import { auditRoutes } from './audit-routes';
import { authRoutes } from './auth-routes';
import type { Logger } from '../observability/logger';
import { requestLogger } from '../observability/logger';
import { httpMetrics } from '../observability/http-metrics';
import type { Metrics } from '../observability/metrics';
import { codecRoutes, type CodecRoutesOptions } from './codec-routes';
import { credentialRoutes } from './credentials-routes';
import { healthRoutes, postgresqlCheck, Readiness } from './health-routes';
import { DEFAULT_EDITOR_DIR, editorRoutes } from './editor-static';
import { ApiError, errorHandler } from './errors';
import { runStartCursor } from './run-start-cursor';
import { eventRoutes } from './events-routes';
import { inquiryLinkRoutes } from './inquiry-links-routes';
import { inputLimits, rateLimitRoutes, rateLimitsFromEnv, securityHeaders, type RateLimits } from './limits';
import { objectRoutes } from './objects-routes';
import { runRoutes } from './runs-routes';
import { testRunRoutes } from './test-runs-routes';
import { watchlistRoutes } from './watchlists-routes';
import { webhookRoutes } from './webhooks-routes';
import type { Webhooks } from '../webhooks';
import { workflowRoutes } from './workflows-routes';

export interface AppDeps {
  db: Db;
  workflows: WorkflowStore;
  registry: ActionRegistry;
  runs: RunService;
  /** Largest accepted JSON body; default 1 MB. */
  bodyLimit?: string;
  /** The secret upstream services sign `POST /v1/events` with. */
  eventsSigningSecret: string;
  /** Nudged when an event comes in, so it is dispatched at once. */
  router?: EventRouter;
  /** Credentials (connections), encrypted at rest; /v1/credentials. */
  credentials: CredentialStore;
  /** Temporal Schedules of schedule and recurring triggers (src/schedules); without it publishing creates none. */
  schedules?: ScheduleService;
  /** The built visual editor, served at `/`; default dist/editor. */
  editorDir?: string;
  /** Outbound webhooks (/v1/webhooks); the caller starts and stops their dispatcher. */
  webhooks?: Webhooks;
  /** Per-caller rate limits on run triggers and events; default from RATE_LIMIT_* env (src/api/limits.ts). */
  rateLimits?: RateLimits;
  /** Deepest accepted JSON nesting; default 64. */
  maxJsonDepth?: number;
  /** What /readyz checks, and whether shutdown has begun; default: PostgreSQL only. */
  readiness?: Readiness;
  /** Prometheus metrics (HTTP, events received), served at /metrics with `metricsToken` (METRICS_TOKEN). */
  metrics?: Metrics;
  metricsToken?: string;
  /** One JSON log line per request, with request, run and workflow ids. */
  logger?: Logger;
  /** The Temporal Web UI's remote codec endpoint, /codec/* (CODEC_TOKEN). */
  codec?: CodecRoutesOptions;
  /** Reads where an API-triggered run starts counting events (default: eventRunStartCursor on `db`). */
  runStartCursor?: () => Promise<number>;
  /** Express's "trust proxy" (TRUST_PROXY): which proxies' X-Forwarded-For/-Proto are believed; default none. */
  trustProxy?: TrustProxy;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  // Before any route: the app's own router matches paths exactly too (src/api/strict-routing.ts).
  app.enable('case sensitive routing');
  app.enable('strict routing');
  app.disable('x-powered-by');
  // Behind a TLS proxy: req.secure (cookies' Secure) and req.ip (the sign-in limit) from the trusted proxy's headers.
  app.set('trust proxy', deps.trustProxy ?? false);
  if (deps.logger) app.use(requestLogger(deps.logger));
  if (deps.metrics) app.use(httpMetrics(deps.metrics));
  app.use(noAutomaticOptions());
  // /healthz, /readyz, /metrics: no /v1 authentication (metrics has its own token).
  app.use(healthRoutes({ readiness: deps.readiness ?? new Readiness([postgresqlCheck(deps.db)]), metrics: deps.metrics, metricsToken: deps.metricsToken }));
  app.use(securityHeaders());
  app.use(runStartCursor(deps.runStartCursor ?? (() => eventRunStartCursor(deps.db))));
  app.use(
    express.json({
      limit: deps.bodyLimit ?? '1mb',
      strict: false,
      // Signatures are over the exact bytes received.
      verify: (req, _res, buf) => {
        (req as typeof req & { rawBody?: Buffer }).rawBody = buf;
      },
    }),
  );
  app.use(inputLimits(deps.maxJsonDepth));
  // The Temporal UI's codec endpoint: its own bearer token and CORS, outside /v1.
  if (deps.codec) app.use(codecRoutes(deps.codec));

  // Cookies for the editor's session; no automatic OPTIONS answers under /v1.
  app.use('/v1', v1Preamble());
  // Each route's guard (installed below) runs first, so counts are per principal.
  app.use(rateLimitRoutes(deps.rateLimits ?? rateLimitsFromEnv()));
  app.use('/v1', authRoutes(deps));
  app.use('/v1', auditRoutes(deps));
  app.get('/v1/actions', (_req, res) => {
    res.json({
      actions: [...deps.registry.catalog.values()].map((a) => ({
        name: a.name,
        title: a.title,
        description: a.description,
        policy: a.policy,
        // The parameter schema as JSON Schema (input side: defaults are optional), so forms can be built from it.
        params: z.toJSONSchema(a.params, { io: 'input', unrepresentable: 'any' }),
        errorTypes: a.errorTypes ?? [],
      })),
    });
  });
  app.use('/v1', workflowRoutes(deps));
  app.use('/v1', testRunRoutes(deps));
  app.use('/v1', runRoutes(deps.runs, { credentials: deps.credentials }));
  app.use('/v1', eventRoutes({ events: new EventStore(deps.db), router: deps.router, signingSecret: deps.eventsSigningSecret }));
  app.use('/v1', objectRoutes(deps));
  app.use('/v1', credentialRoutes(deps));
  app.use('/v1', watchlistRoutes(deps));
  if (deps.webhooks) app.use('/v1', webhookRoutes(deps.webhooks));
  app.use(inquiryLinkRoutes(deps));
  app.use(editorRoutes(deps.editorDir ?? DEFAULT_EDITOR_DIR));
  app.use((req, _res, next) => {
    // A route that passed the request on (the editor's fallback) did not answer it.
    noteRoutePattern(req, UNMATCHED);
    next(new ApiError(404, 'not_found', `no route ${req.method} ${req.path}`));
  });
  app.use(errorHandler);
  // Every route, found by what the router matched: principal, scope, CSRF, media type, PII masking, audit
  // (src/auth/route-scopes.ts says which scope). Throws, so the app does not start, for a route without a rule.
  guardRoutes(app, { db: deps.db, eventsSigningSecret: deps.eventsSigningSecret });
  return app;
}
