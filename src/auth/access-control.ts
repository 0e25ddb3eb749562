/**
 * Access control, decided by the route express actually matched (never by
 * matching the request's path a second time): `guardRoutes` walks every
 * router of the app once it is built, finds each route's rule in
 * src/auth/route-scopes.ts by its pattern, refuses to start when a route has
 * none or a router is not case-sensitive and strict, and puts a guard in
 * front of each route's handlers. The guard finds the principal (an API key
 * in `Authorization: Bearer`, else the editor's session cookie, else, for
 * `POST /v1/events` only, a valid HMAC signature), checks the rule's scope
 * (401 `unauthenticated` without a principal, 403 `forbidden` naming the
 * scope), the CSRF token of cookie-borne writes (403 `csrf`) and the body's
 * media type (415), masks PII in answers for principals without
 * `pii:read`, and writes the audit entry of each successful change (and of
 * each PII read), with the route pattern, never the path, before the answer
 * leaves. A request no route matches gets the app's 404.
 */
import cookieParser from 'cookie-parser';
import type { Express, Request, RequestHandler, Response } from 'express';
import { AuditLog, type AuditActor } from '../audit/audit-log';
import { SIGNATURE_HEADER, verifySignature } from '../events/signature';
import { ApiError, type ErrorDetail } from '../api/errors';
import { noteRoutePattern } from '../observability/route-pattern';
import type { Queryable } from '../store/db';
import { ApiKeyStore } from './api-keys';
import { actorOf, type Principal } from './principal';
import { maskPii, piiPolicyFor, schemaPiiNames, type PiiNames, type PiiScan } from './pii-masking';
import { ruleFor, type RouteRule, type RuleMatch } from './route-scopes';
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
const JSON_BODY = ['application/json'] as const;

type Found = { principal: Principal; sessionToken?: string } | { bad: string } | undefined;

/** A route of the app as registered: method (upper case) and full pattern. */
export interface RegisteredRoute {
  method: string;
  pattern: string;
}

interface Layer {
  route?: { path: unknown; methods: Record<string, boolean>; stack: unknown[] } & Record<string, unknown>;
  handle?: { stack?: Layer[]; caseSensitive?: boolean; strict?: boolean };
  rawPath?: unknown;
}

/** The stack of express's own router of the app. */
export function appStack(app: Express): Layer[] {
  return (app as unknown as { router: { stack: Layer[] } }).router.stack;
}

/**
 * Every route of the app (every router, every method), with the router
 * that holds it; throws when a router is mounted at something other than a
 * plain path.
 */
export function walkRoutes(
  stack: Layer[],
  visit: (route: NonNullable<Layer['route']>, pattern: string, method: string) => void,
  onRouter: (router: NonNullable<Layer['handle']>, prefix: string) => void = () => undefined,
  prefix = '',
): void {
  for (const layer of stack) {
    if (layer.route) {
      const path = layer.route.path;
      const pattern = typeof path === 'string' ? prefix + path : String(path);
      for (const method of Object.keys(layer.route.methods)) visit(layer.route, pattern, method);
    } else if (Array.isArray(layer.handle?.stack)) {
      if (typeof layer.rawPath !== 'string') throw new Error(`a router is mounted at ${String(layer.rawPath)}: mount routers at plain paths`);
      const inner = prefix + (layer.rawPath === '/' ? '' : layer.rawPath);
      onRouter(layer.handle, inner || '/');
      walkRoutes(layer.handle.stack, visit, onRouter, inner);
    }
  }
}

/** The app's routes, each once per method. */
export function registeredRoutes(app: Express): RegisteredRoute[] {
  const out: RegisteredRoute[] = [];
  walkRoutes(appStack(app), (_route, pattern, method) => out.push({ method: method.toUpperCase(), pattern }));
  return out;
}

/** What the guard of a request found, kept on `res.locals.access` for the answer's masking and audit. */
interface AccessState {
  method: string;
  pattern: string;
  match: RuleMatch;
  principal?: Principal;
}

/**
 * Puts a guard in front of every route of the (fully built) app. Throws,
 * so the app does not start, when a route has no rule, a route takes every
 * method, or a router (the app's included) is not case-sensitive and strict.
 */
export function guardRoutes(app: Express, deps: AccessControlDeps): void {
  const keys = new ApiKeyStore(deps.db);
  const sessions = new SessionStore(deps.db);
  const audit = new AuditLog(deps.db);

  if (!app.enabled('case sensitive routing') || !app.enabled('strict routing')) throw new Error('the app must enable "case sensitive routing" and "strict routing"');
  walkRoutes(
    appStack(app),
    (route, pattern, method) => {
      if (method === '_all') throw new Error(`route ${pattern} takes every method: give each method its own route and rule`);
      const match = ruleFor(method, pattern);
      if (!match) throw new Error(`no access rule for ${method.toUpperCase()} ${pattern}: add one to src/auth/route-scopes.ts`);
      const add = route[method] as (h: RequestHandler) => unknown;
      add.call(route, guardFor(method.toUpperCase(), pattern, match));
      // Route methods append: the guard goes first.
      route.stack.unshift(route.stack.pop());
    },
    (router, prefix) => {
      if (router.caseSensitive !== true || router.strict !== true) throw new Error(`the router at ${prefix} must be case-sensitive and strict (Router(STRICT_ROUTING))`);
    },
  );

  function guardFor(method: string, pattern: string, match: RuleMatch): RequestHandler {
    return async (req, res, next) => {
      noteRoutePattern(req, pattern);
      const state = res.locals.access as AccessState | undefined;
      // The same route seen again (a rate limiter's route before the route itself): already checked.
      if (state && state.pattern === pattern && state.method === method) return next();
      await check(req, res, { method, pattern, match: { rule: match.rule, params: { ...(req.params as Record<string, string>), ...match.params } } }, state);
      next();
    };
  }

  async function findPrincipal(req: Request, res: Response): Promise<Found> {
    if ('found' in res.locals) return res.locals.found as Found;
    const found = await lookUp(req);
    res.locals.found = found;
    return found;
  }

  async function lookUp(req: Request): Promise<Found> {
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

  async function check(req: Request, res: Response, now: AccessState, before: AccessState | undefined): Promise<void> {
    const rule: RouteRule = now.match.rule;
    const access = rule.access;
    if ('open' in access) {
      if (now.pattern.startsWith('/v1/')) {
        const found = await findPrincipal(req, res);
        if (found && 'principal' in found) res.locals.principal = found.principal;
      }
      checkBody(req, rule, now.pattern);
      return;
    }
    const found = await findPrincipal(req, res);
    if (found && 'bad' in found) throw new ApiError(401, 'unauthenticated', found.bad);
    let principal: Principal;
    if (!found) {
      if (!access.signedEvents) throw new ApiError(401, 'unauthenticated', 'send an API key as "Authorization: Bearer idw_..." or sign in');
      // Only a valid signature over the exact bytes stands in for a key; the route checks it again.
      const raw = (req as Request & { rawBody?: Buffer }).rawBody ?? Buffer.alloc(0);
      const verdict = verifySignature(deps.eventsSigningSecret, req.get(SIGNATURE_HEADER), raw);
      if (!verdict.ok) throw new ApiError(401, 'invalid_signature', verdict.reason);
      principal = { kind: 'signed_event', id: 'events-signature', scopes: ['events:write'], label: 'signed upstream event' };
    } else {
      principal = found.principal;
      if (found.sessionToken !== undefined && !SAFE_METHODS.has(req.method)) {
        const header = req.get(CSRF_HEADER) ?? '';
        const cookie = (req.cookies as Record<string, string>)[CSRF_COOKIE] ?? '';
        if (!header || !sameSecret(header, cookie) || !sameSecret(header, csrfTokenOf(found.sessionToken))) {
          throw new ApiError(403, 'csrf', `a change made with the session cookie must send the ${CSRF_HEADER} header with the session's CSRF token`);
        }
      }
    }
    if (!principal.scopes.includes(access.scope)) {
      throw new ApiError(403, 'forbidden', `this needs the scope "${access.scope}"`, [
        { path: '', message: `missing scope ${access.scope}`, code: 'missing_scope', scope: access.scope } as ErrorDetail,
      ]);
    }
    checkBody(req, rule, now.pattern);
    // Fields the workflows' input schemas mark "x-pii": true are masked (and their reads audited) like the built-in names.
    // (Not needed where nothing is masked nor a pii.read entry written: a pii:read holder's change.)
    const maskedOrAudited = !principal.scopes.includes('pii:read') || SAFE_METHODS.has(req.method);
    if (piiPolicyFor(now.pattern).masked && maskedOrAudited) res.locals.piiNames = await schemaPiiNames(deps.db);
    res.locals.principal = principal;
    now.principal = principal;
    res.locals.access = now;
    if (!before?.principal) watchAnswer(req, res);
  }

  /** Masks the JSON answer and writes the audit entries before the answer is finished. */
  function watchAnswer(req: Request, res: Response): void {
    const state = (): AccessState & { principal: Principal } => res.locals.access as AccessState & { principal: Principal };
    const entries: { actor: AuditActor; action: string; target?: string | null; details?: Record<string, unknown> }[] = [];
    let answer: Record<string, unknown> | undefined;
    const json = res.json.bind(res);
    res.json = (body: unknown) => {
      const { principal, match, pattern } = state();
      const mayReadPii = principal.scopes.includes('pii:read');
      const policy = piiPolicyFor(pattern);
      if (body !== null && typeof body === 'object' && !Array.isArray(body)) answer = body as Record<string, unknown>;
      if (!policy.masked || res.statusCode >= 400) return json(body);
      const scan: PiiScan = { objects: new Set(), fields: new Set() };
      const out = maskPii(body, { mask: !mayReadPii, scan, extraKeys: policy.extraKeys, schemaNames: res.locals.piiNames as PiiNames | undefined });
      if (!mayReadPii) res.set('Idw-Pii', 'masked');
      else if (SAFE_METHODS.has(req.method) && scan.fields.size > 0) {
        const objects = [...scan.objects];
        entries.push({
          actor: actorOf(principal),
          action: 'pii.read',
          target: objects.length === 1 ? objects[0] : (match.params.id ?? null),
          details: { path: pattern, objects: objects.slice(0, PII_READ_IDS), fields: [...scan.fields].sort() },
        });
      }
      return json(out);
    };
    const end = res.end.bind(res) as (...args: unknown[]) => Response;
    let finishing = false;
    res.end = ((...args: unknown[]) => {
      if (finishing) return end(...args);
      finishing = true;
      const { principal, match, pattern } = state();
      const spec = match.rule.audit;
      if (spec && !SAFE_METHODS.has(req.method) && res.statusCode < 300) {
        const fromAnswer = typeof answer?.id === 'string' ? answer.id : undefined;
        const target = spec.target ? spec.target(match.params, answer) : (match.params.id ?? fromAnswer);
        const details: Record<string, unknown> = { method: req.method, path: pattern, status: res.statusCode };
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

  /** 415 for a body of a media type the route does not take (JSON under /v1 unless the rule says otherwise). */
  function checkBody(req: Request, rule: RouteRule, pattern: string): void {
    const types = rule.body ?? (pattern.startsWith('/v1/') ? JSON_BODY : 'any');
    if (types === 'any' || !hasBody(req)) return;
    if (req.is([...types])) return;
    const given = req.get('content-type');
    throw new ApiError(415, 'unsupported_media_type', `${req.method} ${pattern} takes a body of type ${types.join(' or ')}${given ? `, not ${given}` : ' (send a Content-Type header)'}`, [
      { path: '', message: `send Content-Type: ${types[0]}`, code: 'unsupported_media_type' },
    ]);
  }
}

/** Whether the request carries a body (as body-parser decides it). */
function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
}

/** For /v1: the editor session's cookies. */
export function v1Preamble(): RequestHandler[] {
  return [cookieParser()];
}

/**
 * No automatic OPTIONS answers: express answers 200 with the methods of
 * any path a router knows. Only the codec's CORS preflight (a route of its
 * own, src/api/codec-routes.ts) takes OPTIONS. Mount first.
 */
export function noAutomaticOptions(): RequestHandler {
  return (req, _res, next) => {
    if (req.method === 'OPTIONS' && !req.path.startsWith('/codec/')) return next(new ApiError(404, 'not_found', `no route ${req.method} ${req.path}`));
    next();
  };
}
