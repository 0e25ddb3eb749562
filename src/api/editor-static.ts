/**
 * Serves the built visual editor (editor/, built by `npm run build:editor`
 * into dist/editor) at `/`: its files as they are, and index.html for every
 * other GET outside the API, so the editor's own paths (/workflows/x,
 * /runs/y) survive a reload. Without a build, `/` says how to make one.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import express, { Router } from 'express';
import { STRICT_ROUTING } from './strict-routing';

/** Where `npm run build:editor` writes the editor. */
export const DEFAULT_EDITOR_DIR = resolve(__dirname, '..', '..', 'dist', 'editor');

/** Paths that belong to the server, never to the editor's fallback. */
const SERVER_PATHS = /^\/(v1|healthz|readyz|metrics|codec|inquiry-links|assets)(\/|$)/;

/**
 * Whether a path is (or could be read as) a server path: compared decoded,
 * in lower case, with doubled slashes collapsed; a path with dot segments
 * or that does not decode is never the editor's either. So `/V1/API-KEYS`,
 * `//v1/x` or `/%761/x` get the 404 of a missing route, not index.html.
 */
export function isServerPath(path: string): boolean {
  let p: string;
  try {
    p = decodeURIComponent(path);
  } catch {
    return true;
  }
  p = p.toLowerCase().replace(/\/{2,}/g, '/');
  return /(^|\/)\.\.?(\/|$)/.test(p) || SERVER_PATHS.test(p);
}

export function editorRoutes(editorDir: string): Router {
  const router = Router(STRICT_ROUTING);
  const index = join(editorDir, 'index.html');
  // Hashed asset names change with every build, so they may be cached for good; index.html may not.
  router.use('/assets', express.static(join(editorDir, 'assets'), { immutable: true, maxAge: '1y', fallthrough: true, index: false }));
  router.use(express.static(editorDir, { index: false, maxAge: 0 }));
  router.get(/.*/, (req, res, next) => {
    if (isServerPath(req.path)) return next();
    if (!existsSync(index)) {
      res.status(503).type('text/plain').send('The editor is not built: run `npm run build:editor` (npm start does it for you).\n');
      return;
    }
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  });
  return router;
}
