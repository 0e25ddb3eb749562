/**
 * Operations endpoints, outside /v1 and its authentication:
 * - `GET /healthz`: liveness, 200 while the process serves requests;
 * - `GET /readyz`: readiness, 200 when PostgreSQL and Temporal answer, 503
 *   naming what does not (and 503 `draining` once shutdown has begun, so a
 *   load balancer stops sending traffic while in-flight requests finish);
 * - `GET /metrics`: Prometheus text, with `Authorization: Bearer <METRICS_TOKEN>`.
 * The API serves them beside /v1; a worker process serves only these.
 */
import express, { Router, type Express } from 'express';
import type { Connection } from '@temporalio/client';
import type { Metrics } from '../observability/metrics';
import { bearerToken, tokenMatches } from '../observability/tokens';
import type { Queryable } from '../store/db';
import { ApiError, errorHandler } from './errors';
import { STRICT_ROUTING } from './strict-routing';

export interface ReadinessCheck {
  name: string;
  /** Resolves when the dependency answers. */
  check(): Promise<void>;
}

const CHECK_TIMEOUT_MS = 3_000;

export interface ReadinessReport {
  status: 'ready' | 'not_ready' | 'draining';
  checks: Record<string, string>;
}

export class Readiness {
  private drainingSince?: Date;

  constructor(private readonly checks: ReadinessCheck[]) {}

  /** Shutdown has begun: report not ready from now on. */
  drain(): void {
    this.drainingSince ??= new Date();
  }

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  async report(): Promise<ReadinessReport> {
    const results = await Promise.all(
      this.checks.map(async ({ name, check }) => {
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            check(),
            new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS))),
          ]);
          return [name, 'ok'] as const;
        } catch (err) {
          return [name, `unreachable: ${(err as Error).message}`] as const;
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    const checks = Object.fromEntries(results);
    const allOk = results.every(([, result]) => result === 'ok');
    return { status: this.draining ? 'draining' : allOk ? 'ready' : 'not_ready', checks };
  }
}

export const postgresqlCheck = (db: Queryable): ReadinessCheck => ({
  name: 'postgresql',
  check: async () => {
    await db.query('SELECT 1');
  },
});

export const temporalCheck = (connection: Connection): ReadinessCheck => ({
  name: 'temporal',
  check: async () => {
    await connection.withDeadline(Date.now() + CHECK_TIMEOUT_MS, () => connection.workflowService.getSystemInfo({}));
  },
});

export interface HealthRoutesOptions {
  readiness: Readiness;
  metrics?: Metrics;
  /** METRICS_TOKEN; without it /metrics answers 404. */
  metricsToken?: string;
}

export function healthRoutes(options: HealthRoutesOptions): Router {
  const router = Router(STRICT_ROUTING);
  router.use((_req, res, next) => {
    // While draining, keep-alive connections close after their current request.
    if (options.readiness.draining) res.setHeader('connection', 'close');
    next();
  });
  router.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  router.get('/readyz', async (_req, res) => {
    const report = await options.readiness.report();
    res.status(report.status === 'ready' ? 200 : 503).json(report);
  });
  router.get('/metrics', async (req, res) => {
    const { metrics, metricsToken } = options;
    if (!metrics || !metricsToken) throw new ApiError(404, 'not_found', 'metrics are not enabled');
    if (!tokenMatches(bearerToken(req), metricsToken)) throw new ApiError(401, 'unauthenticated', '/metrics needs Authorization: Bearer <METRICS_TOKEN>');
    res.setHeader('content-type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });
  return router;
}

/** A worker process's HTTP server: the operations endpoints and nothing else. */
export function operationsApp(options: HealthRoutesOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(healthRoutes(options));
  app.use((req, _res, next) => next(new ApiError(404, 'not_found', `no route ${req.method} ${req.path}`)));
  app.use(errorHandler);
  return app;
}
