/**
 * /v1/auth (editor sessions), /v1/api-keys and /v1/users. Which principal
 * may call what is decided by the access control middleware before these
 * run (src/auth/route-scopes.ts); these routes do the work and write the
 * audit entries that only they can (sign-ins, failed sign-ins).
 */
import { Router, type CookieOptions, type Request, type Response } from 'express';
import { z } from 'zod';
import { AuditLog } from '../audit/audit-log';
import { ApiKeyStore } from '../auth/api-keys';
import { anonymous, principalOf, type Principal } from '../auth/principal';
import { ROLE_SCOPES, scopeSchema, type Role } from '../auth/scopes';
import { CSRF_COOKIE, csrfTokenOf, SESSION_COOKIE, SESSION_TTL_MS, SessionStore } from '../auth/sessions';
import { createUserInput, UserExistsError, UserStore, type UserRecord } from '../auth/users';
import type { Queryable } from '../store/db';
import { ApiError, notFound, parseOr400 } from './errors';
import { STRICT_ROUTING } from './strict-routing';

const loginBody = z.strictObject({ email: z.string().trim().min(1).max(320), password: z.string().min(1).max(1000) });

const createKeyBody = z.strictObject({
  name: z.string().trim().min(1).max(200),
  scopes: z.array(scopeSchema).min(1, 'give at least one scope'),
});

const listKeysQuery = z.strictObject({ includeRevoked: z.enum(['true', 'false']).optional() });

const presentUser = (u: UserRecord) => ({ id: u.id, email: u.email, role: u.role, disabledAt: u.disabledAt, createdAt: u.createdAt });

function cookieOptions(req: Request, httpOnly: boolean): CookieOptions {
  // Secure whenever the request came over HTTPS (behind a proxy: set express's "trust proxy").
  return { httpOnly, sameSite: 'strict', path: '/', secure: req.secure, maxAge: SESSION_TTL_MS };
}

export function authRoutes(deps: { db: Queryable }): Router {
  const router = Router(STRICT_ROUTING);
  const users = new UserStore(deps.db);
  const sessions = new SessionStore(deps.db);
  const keys = new ApiKeyStore(deps.db);
  const audit = new AuditLog(deps.db);

  const sessionToken = (req: Request): string | undefined => (req.cookies as Record<string, string> | undefined)?.[SESSION_COOKIE];

  router.post('/auth/login', async (req, res) => {
    const body = parseOr400(loginBody, req.body, 'request body');
    const user = await users.checkPassword(body.email, body.password);
    if (!user) {
      await audit.record({ actor: anonymous(body.email.toLowerCase()), action: 'auth.login_failed', target: null, details: { email: body.email.toLowerCase() } });
      throw new ApiError(401, 'invalid_credentials', 'the e-mail or the password is wrong, or the user is disabled');
    }
    const session = await sessions.create(user.id);
    await audit.record({ actor: { kind: 'user', id: user.id, label: user.email }, action: 'auth.login', target: user.id });
    res.cookie(SESSION_COOKIE, session.token, cookieOptions(req, true));
    res.cookie(CSRF_COOKIE, session.csrfToken, cookieOptions(req, false));
    res.json({ user: presentUser(user), csrfToken: session.csrfToken });
  });

  router.get('/auth/me', async (req, res) => {
    const token = sessionToken(req);
    const user = token ? await sessions.userOf(token) : undefined;
    if (!token || !user) throw new ApiError(401, 'unauthenticated', 'not signed in');
    res.json({ user: presentUser(user), csrfToken: csrfTokenOf(token) });
  });

  router.post('/auth/logout', async (req, res: Response) => {
    const token = sessionToken(req);
    const user = token ? await sessions.userOf(token) : undefined;
    if (token) await sessions.end(token);
    if (user) await audit.record({ actor: { kind: 'user', id: user.id, label: user.email }, action: 'auth.logout', target: user.id });
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    res.clearCookie(CSRF_COOKIE, { path: '/' });
    res.status(204).end();
  });

  router.post('/api-keys', async (req, res) => {
    const body = parseOr400(createKeyBody, req.body, 'request body');
    const principal = principalOf(res)!;
    // Nobody hands out more than they hold.
    const beyond = body.scopes.filter((s) => !principal.scopes.includes(s));
    if (beyond.length > 0) {
      throw new ApiError(
        403,
        'forbidden',
        `a key cannot get scopes its maker does not hold: ${beyond.join(', ')}`,
        beyond.map((s) => ({ path: `/scopes/${body.scopes.indexOf(s)}`, message: `you do not hold ${s}`, code: 'missing_scope' })),
      );
    }
    res.status(201).json(await keys.create({ name: body.name, scopes: body.scopes, createdBy: `${principal.kind}:${principal.id}` }));
  });

  router.get('/api-keys', async (req, res) => {
    const q = parseOr400(listKeysQuery, req.query, 'query string');
    res.json({ apiKeys: await keys.list({ includeRevoked: q.includeRevoked === 'true' }) });
  });

  router.delete('/api-keys/:id', async (req, res) => {
    const revoked = await keys.revoke(String(req.params.id));
    if (!revoked) throw notFound('API key', String(req.params.id));
    res.json(revoked);
  });

  /** Nobody makes (or re-enables, or disables) a user whose role holds scopes they do not: the same rule as for keys. */
  function checkRoleWithin(principal: Principal, role: Role, path: string): void {
    const beyond = ROLE_SCOPES[role].filter((s) => !principal.scopes.includes(s));
    if (beyond.length > 0) {
      throw new ApiError(
        403,
        'forbidden',
        `the role ${role} holds scopes you do not: ${beyond.join(', ')}`,
        beyond.map((s) => ({ path, message: `you do not hold ${s}`, code: 'missing_scope' })),
      );
    }
  }

  router.post('/users', async (req, res) => {
    const body = parseOr400(createUserInput, req.body, 'request body');
    checkRoleWithin(principalOf(res)!, body.role, '/role');
    try {
      res.status(201).json(presentUser(await users.create(body)));
    } catch (err) {
      if (err instanceof UserExistsError) throw new ApiError(409, 'already_exists', err.message);
      throw err;
    }
  });

  router.get('/users', async (_req, res) => {
    res.json({ users: (await users.list()).map(presentUser) });
  });

  for (const [verb, disabled] of [['disable', true], ['enable', false]] as const) {
    router.post(`/users/:id/${verb}`, async (req, res) => {
      const id = String(req.params.id);
      const principal = principalOf(res)!;
      if (disabled && principal.kind === 'user' && principal.id === id) throw new ApiError(409, 'cannot_disable_self', 'you cannot disable yourself');
      const target = await users.get(id);
      if (!target) throw notFound('user', id);
      checkRoleWithin(principal, target.role, '');
      const user = await users.setDisabled(id, disabled);
      if (!user) throw notFound('user', id);
      res.json(presentUser(user));
    });
  }

  return router;
}

