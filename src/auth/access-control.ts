/**
 * The access control middleware for /v1: finds the principal (an API key in
 * `Authorization: Bearer`, else the editor's session cookie, else, for
 * `POST /v1/events` only, a valid HMAC signature), checks the scope the
 * route table asks for (401 `unauthenticated` without a principal, 403
 * `forbidden` naming the scope), checks the CSRF token of cookie-borne
 * writes (403 `csrf`), masks PII in answers for principals without
 * `pii:read`, and writes the audit log entry of each successful change (and
 * of each PII read) before the answer leaves.
 */
import cookieParser from 'cookie-parser';
import { Router, type NextFunction, type Request, type Response } from 'express';
import { AuditLog, type AuditActor } from '../audit/audit-log';
import { SIGNATURE_HEADER, verifySignature } from '../events/signature';
import { ApiError, type ErrorDetail } from '../api/errors';
import type { Queryable } from '../store/db';
import { ApiKeyStore } from './api-keys';
import { actorOf, type Principal } from './principal';
import { maskPii, piiPolicyFor, type PiiScan } from './pii-masking';
import { matchRoute, type RuleMatch } from './route-scopes';
import { ROLE_SCOPES } from './scopes';
import { CSRF_COOKIE, CSRF_HEADER, csrfTokenOf, SESSION_COOKIE, SessionStore } from './sessions';
import { sameSecret } from './tokens';

export interface AccessControlDeps {
  db: Queryable;
  /** The secret upstream services sign `POST /v1/events` with. */
  eventsSigningSecret: string;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** At most this many object ids are named in one `pii.read` entry. */
const PII_READ_IDS = 100;

type Found = { principal: Principal; sessionToken?: string } | { bad: string } | undefined;

export function accessControl(deps: AccessControlDeps): Router {
  const keys = new ApiKeyStore(deps.db);
  const sessions = new SessionStore(deps.db);
  const audit = new AuditLog(deps.db);
  const router = Router();
  router.use(cookieParser());

  async function findPrincipal(req: Request): Promise<Found> {
    const authorization = req.get('authorization');
    if (authorization !== undefined) {
      const bearer = /^Bearer +(\S+)$/i.exec(authorization.trim());
      if (!bearer) return { bad: 'the Authorization header must be "Bearer <API key>"' };
      const key = await keys.authenticate(bearer[1]);
      if (!key) return { bad: 'the API key is unknown or revoked' };
      return { principal: { kind: 'api_key', id: key.id, scopes: key.scopes, label: key.name } };
    }
    const token = (req.cookies as Record<string, string> | undefined)?.[SESSION_COOKIE];
    if (token) {
      const user = await sessions.userOf(token);
      if (!user) return { bad: 'the session has ended; sign in again' };
      return { principal: { kind: 'user', id: user.id, scopes: [...ROLE_SCOPES[user.role]], label: user.email }, sessionToken: token };
    }
    return undefined;
  }

  async function check(req: Request, res: Response, next: NextFunction): Promise<void> {
    const path = req.baseUrl + req.path;
    const match = matchRoute(req.method, path);
    const access = match?.rule.access;
    const found = await findPrincipal(req);
    if (access && 'open' in access) {
      if (found && 'principal' in found) res.locals.principal = found.principal;
      return next();
    }
    if (found && 'bad' in found) throw new ApiError(401, 'unauthenticated', found.bad);
    if (!found) {
      if (access?.signedEvents) {
        // The route checks the signature again and answers 401 invalid_signature when it fails.
        const raw = (req as Request & { rawBody?: Buffer }).rawBody ?? Buffer.alloc(0);
        if (verifySignature(deps.eventsSigningSecret, req.get(SIGNATURE_HEADER), raw).ok) {
          res.locals.principal = { kind: 'signed_event', id: 'events-signature', scopes: ['events:write'], label: 'signed upstream event' } satisfies Principal;
        }
        return next();
      }
      throw new ApiError(401, 'unauthenticated', 'send an API key as "Authorization: Bearer idw_..." or sign in');
    }
    const { principal, sessionToken } = found;
    if (sessionToken !== undefined && !SAFE_METHODS.has(req.method)) {
      const header = req.get(CSRF_HEADER) ?? '';
      const cookie = (req.cookies as Record<string, string>)[CSRF_COOKIE] ?? '';
      if (!header || !sameSecret(header, cookie) || !sameSecret(header, csrfTokenOf(sessionToken))) {
        throw new ApiError(403, 'csrf', `a change made with the session cookie must send the ${CSRF_HEADER} header with the session's CSRF token`);
      }
    }
    if (access && !principal.scopes.includes(access.scope)) {
      throw new ApiError(403, 'forbidden', `this needs the scope "${access.scope}"`, [
        { path: '', message: `missing scope ${access.scope}`, code: 'missing_scope', scope: access.scope } as ErrorDetail,
      ]);
    }
    res.locals.principal = principal;
    watchAnswer(req, res, principal, match, path);
    next();
  }

  /** Masks the JSON answer and writes the audit entries before the answer is finished. */
  function watchAnswer(req: Request, res: Response, principal: Principal, match: RuleMatch | undefined, path: string): void {
    const mayReadPii = principal.scopes.includes('pii:read');
    const policy = piiPolicyFor(path);
    const entries: { actor: AuditActor; action: string; target?: string | null; details?: Record<string, unknown> }[] = [];
    let answer: Record<string, unknown> | undefined;
    const json = res.json.bind(res);
    res.json = (body: unknown) => {
      if (body !== null && typeof body === 'object' && !Array.isArray(body)) answer = body as Record<string, unknown>;
      if (!policy.masked || res.statusCode >= 400) return json(body);
      const scan: PiiScan = { objects: new Set(), fields: new Set() };
      const out = maskPii(body, { mask: !mayReadPii, scan, extraKeys: policy.extraKeys });
      if (!mayReadPii) res.set('Idw-Pii', 'masked');
      else if (SAFE_METHODS.has(req.method) && scan.fields.size > 0) {
        const objects = [...scan.objects];
        entries.push({
          actor: actorOf(principal),
          action: 'pii.read',
          target: objects.length === 1 ? objects[0] : (match?.params.id ?? null),
          details: { path, objects: objects.slice(0, PII_READ_IDS), fields: [...scan.fields].sort() },
        });
      }
      return json(out);
    };
    const end = res.end.bind(res) as (...args: unknown[]) => Response;
    let finishing = false;
    res.end = ((...args: unknown[]) => {
      if (finishing) return end(...args);
      finishing = true;
      const spec = match?.rule.audit;
      if (spec && !SAFE_METHODS.has(req.method) && res.statusCode < 300) {
        const fromAnswer = typeof answer?.id === 'string' ? answer.id : undefined;
        const target = spec.target ? spec.target(match.params, answer) : (match.params.id ?? fromAnswer);
        const details: Record<string, unknown> = { method: req.method, path, status: res.statusCode };
        for (const name of spec.keep ?? []) if (match.params[name] !== undefined) details[name] = match.params[name];
        entries.unshift({ actor: actorOf(principal), action: spec.action, target: target ?? null, details });
      }
      if (entries.length === 0) return end(...args);
      // The entry is written before the answer completes: a client that saw the answer can find the entry.
      void entries
        .reduce((done, entry) => done.then(() => audit.record(entry)), Promise.resolve())
        .catch((err: Error) => console.error(`[audit] could not write ${entries.map((e) => e.action).join(', ')}: ${err.message}`))
        .finally(() => end(...args));
      return res;
    }) as Response['end'];
  }

  router.use(check);
  return router;
}
