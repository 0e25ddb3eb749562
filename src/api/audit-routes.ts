/** GET /v1/audit: the audit log, newest first, filtered by actor, action, target and time. */
import { Router } from 'express';
import { AuditLog, auditQuery } from '../audit/audit-log';
import type { Queryable } from '../store/db';
import { parseOr400 } from './errors';
import { STRICT_ROUTING } from './strict-routing';

export function auditRoutes(deps: { db: Queryable }): Router {
  const router = Router(STRICT_ROUTING);
  const log = new AuditLog(deps.db);
  router.get('/audit', async (req, res) => {
    const q = parseOr400(auditQuery, req.query, 'query string');
    const entries = await log.list(q);
    res.json({ entries, ...(entries.length === q.limit ? { nextBefore: entries[entries.length - 1].id } : {}) });
  });
  return router;
}
