/** Where a run started by the API begins counting events. */
import type { RequestHandler, Response } from 'express';

/**
 * A run started by the API counts the events recorded from the moment its
 * request arrived: the event log's delivered horizon (eventRunStartCursor) is read here, before the
 * body, the caller's key and the workflow are looked at, so an event posted
 * in the same instant as the start request is the run's to see. The read
 * only starts here; the route awaits it (runStartCursorOf).
 */
export function runStartCursor(read: () => Promise<number>): RequestHandler {
  return (req, res, next) => {
    if (req.method === 'POST' && /^\/v1\/workflows\/[^/]+\/runs\/?$/i.test(req.path)) {
      res.locals.eventCursor = read().catch(() => undefined);
    }
    next();
  };
}

/** The cursor runStartCursor read for this request, if it did. */
export function runStartCursorOf(res: Response): Promise<number | undefined> {
  return (res.locals.eventCursor as Promise<number | undefined> | undefined) ?? Promise.resolve(undefined);
}

