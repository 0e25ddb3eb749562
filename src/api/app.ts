/**
 * The express app: JSON in and out under /v1, a body size limit, and one
 * error handler that turns everything into `{ error: { code, message } }`.
 */
import express, { type Express } from 'express';
import type { ActionRegistry } from '../activities/registry';
import type { CredentialStore } from '../credentials/store';
import { EventStore } from '../events/event-store';
import type { EventRouter } from '../events/router';
import type { RunService } from '../runs/run-service';
import type { Db } from '../store/db';
import type { WorkflowStore } from '../store/workflow-store';
import { credentialRoutes } from './credentials-routes';
import { ApiError, errorHandler } from './errors';
import { eventRoutes } from './events-routes';
import { inquiryLinkRoutes } from './inquiry-links-routes';
import { objectRoutes } from './objects-routes';
import { runRoutes } from './runs-routes';
import { watchlistRoutes } from './watchlists-routes';
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
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
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

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/v1/actions', (_req, res) => {
    res.json({
      actions: [...deps.registry.catalog.values()].map((a) => ({ name: a.name, title: a.title, description: a.description, policy: a.policy })),
    });
  });
  app.use('/v1', workflowRoutes(deps));
  app.use('/v1', runRoutes(deps.runs));
  app.use('/v1', eventRoutes({ events: new EventStore(deps.db), router: deps.router, signingSecret: deps.eventsSigningSecret }));
  app.use('/v1', objectRoutes(deps));
  app.use('/v1', credentialRoutes(deps));
  app.use('/v1', watchlistRoutes(deps));
  app.use(inquiryLinkRoutes(deps));
  app.use((req, _res, next) => next(new ApiError(404, 'not_found', `no route ${req.method} ${req.path}`)));
  app.use(errorHandler);
  return app;
}
