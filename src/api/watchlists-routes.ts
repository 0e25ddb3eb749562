/**
 * /v1 watchlist routes, for operators: import a published list file,
 * see what is loaded, and screen a name by hand.
 *
 *   POST /v1/watchlists/import   JSON {source, list, csv, altCsv?, addCsv?}, or the
 *                                file itself as text/csv with ?source=&list= (for files
 *                                larger than the JSON body limit, like the full SDN list)
 *   GET  /v1/watchlists          sources loaded, per list, with their counts
 *   POST /v1/watchlists/screen   {name, birthdate?, country?, list?, threshold?, limit?, sources?, entityTypes?}
 */
import express, { Router } from 'express';
import { z } from 'zod';
import {
  DEFAULT_THRESHOLD,
  entityTypeSchema,
  importWatchlist,
  listWatchlists,
  MAX_LIMIT,
  ScreeningError,
  ScreeningFailureType,
  watchlistListSchema,
  WatchlistScreener,
  watchlistSourceSchema,
  WATCHLIST_LISTS,
} from '../screening';
import type { Db } from '../store/db';
import { ApiError, parseOr400 } from './errors';
import { STRICT_ROUTING } from './strict-routing';

/** The whole OFAC SDN set is about 5 MB; OpenSanctions' PEP export several times that. */
const CSV_BODY_LIMIT = '200mb';

const importJsonBody = z.strictObject({
  source: watchlistSourceSchema,
  list: watchlistListSchema,
  csv: z.string().min(1, 'must not be empty'),
  altCsv: z.string().min(1).optional(),
  addCsv: z.string().min(1).optional(),
});

const importQuery = z.object({ source: watchlistSourceSchema, list: watchlistListSchema });

const screenBody = z.strictObject({
  name: z.string().trim().min(1, 'must not be empty').max(300),
  birthdate: z.string().trim().max(40).optional(),
  country: z.string().trim().max(100).optional(),
  list: watchlistListSchema.default('sanctions'),
  threshold: z.number().min(0.5).max(1).default(DEFAULT_THRESHOLD),
  limit: z.number().int().min(1).max(MAX_LIMIT).default(20),
  sources: z.array(watchlistSourceSchema).min(1).optional(),
  entityTypes: z.array(entityTypeSchema).min(1).optional(),
});

function asApiError(err: unknown): unknown {
  if (!(err instanceof ScreeningError)) return err;
  const details = [{ path: err.path ?? '', message: err.message }];
  switch (err.failureType) {
    case ScreeningFailureType.ImportFormat:
      return new ApiError(400, 'invalid_csv', err.message, details);
    case ScreeningFailureType.NotLoaded:
      return new ApiError(409, 'watchlist_not_loaded', err.message);
    case ScreeningFailureType.SubjectInvalid:
    case ScreeningFailureType.SubjectMissing:
      return new ApiError(400, 'invalid_request', err.message, details);
    default:
      return err;
  }
}

export function watchlistRoutes(deps: { db: Db }): Router {
  const { db } = deps;
  const router = Router(STRICT_ROUTING);
  // The app's JSON parser leaves other content types alone; a CSV upload is read here, with its own limit.
  const csvBody = express.text({ type: ['text/csv', 'text/plain'], limit: CSV_BODY_LIMIT });

  router.post('/watchlists/import', csvBody, async (req, res) => {
    try {
      const request =
        typeof req.body === 'string'
          ? { ...parseOr400(importQuery, req.query, 'the query'), csv: req.body }
          : parseOr400(importJsonBody, req.body, 'the body');
      if (request.csv.length === 0) throw new ApiError(400, 'invalid_request', 'the CSV is empty', [{ path: '/csv', message: 'must not be empty' }]);
      res.status(200).json(await importWatchlist(db, request));
    } catch (err) {
      throw asApiError(err);
    }
  });

  router.get('/watchlists', async (_req, res) => {
    const sources = await listWatchlists(db);
    const lists = Object.fromEntries(
      WATCHLIST_LISTS.map((list) => {
        const of = sources.filter((s) => s.list === list);
        return [list, { entries: of.reduce((n, s) => n + s.entries, 0), sources: of.map((s) => s.source) }];
      }),
    );
    res.json({ lists, sources });
  });

  router.post('/watchlists/screen', async (req, res) => {
    const body = parseOr400(screenBody, req.body, 'the body');
    const started = performance.now();
    try {
      const result = await WatchlistScreener.for(db).screen(body);
      res.json({ ...result, tookMs: Math.round((performance.now() - started) * 100) / 100 });
    } catch (err) {
      throw asApiError(err);
    }
  });

  return router;
}
