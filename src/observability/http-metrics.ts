/**
 * express middleware: counts and times every HTTP request by route
 * pattern (not by URL, so ids do not multiply the series), and counts
 * events received over HTTP by source and outcome.
 */
import type { Request, RequestHandler } from 'express';
import type { Metrics } from './metrics';

const UPSTREAM_EVENTS = /^\/v1\/events\/?(?:\?|$)/;
const RUN_EVENTS = /^\/v1\/runs\/[^/]+\/events\/?(?:\?|$)/;

/** The matched route's pattern, e.g. `/v1/runs/:id`; `unmatched` for a 404 from no route. */
function routeOf(req: Request): string {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof path !== 'string') return 'unmatched';
  // Routers are mounted at /v1; after the router returns, express has restored baseUrl, so rebuild it.
  return req.originalUrl.startsWith('/v1/') && !path.startsWith('/v1') ? `/v1${path}` : path;
}

export function httpMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const stop = metrics.httpDuration.startTimer();
    res.once('finish', () => {
      const route = routeOf(req);
      stop({ method: req.method, route });
      metrics.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
      if (req.method === 'POST') {
        const source = UPSTREAM_EVENTS.test(req.originalUrl) ? 'upstream' : RUN_EVENTS.test(req.originalUrl) ? 'run' : undefined;
        if (source) metrics.eventsReceived.inc({ source, outcome: res.statusCode < 300 ? 'accepted' : 'rejected' });
      }
    });
    next();
  };
}
