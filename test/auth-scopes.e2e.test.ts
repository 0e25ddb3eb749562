/**
 * Every route needs its rule: the test walks the routes the app really
 * registers (every router, every method) and finds each one's rule by its
 * pattern, as the access guard does, so no route can be served without one;
 * then every guarded route is called without a key (401), with every scope
 * but its own (403) and with its scope alone (past access control).
 */
import express from 'express';
import { ApiKeyStore } from '../src/auth/api-keys';
import { appStack, guardRoutes, registeredRoutes, walkRoutes, type RegisteredRoute } from '../src/auth/access-control';
import { ROUTE_RULES, ruleFor, type RouteRule } from '../src/auth/route-scopes';
import { ROLE_SCOPES, SCOPES, type Scope } from '../src/auth/scopes';
import { createApp } from '../src/api/app';
import { STRICT_ROUTING } from '../src/api/strict-routing';
import { api, createHarness, type Harness } from './support/harness';

let h: Harness;
let routes: RegisteredRoute[];
beforeAll(async () => {
  h = await createHarness({ worker: false });
  routes = registeredRoutes(appOf(h));
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const appOf = (harness: Harness) =>
  createApp({ db: harness.db, eventsSigningSecret: 's', registry: harness.registry, workflows: harness.workflows, credentials: harness.credentials, webhooks: harness.webhooks, schedules: harness.schedules, metrics: harness.metrics, metricsToken: 't', codec: { codec: {} as never, token: 't', corsOrigins: [] } } as never);

/** A concrete path for a route pattern: `:collection` is a real collection, other parameters made up. */
function concretePath(pattern: string): string {
  return pattern.replace(':collection', 'inquiries').replace(/:(\w+)/g, 'p_$1').replace('{*rest}', 'encode');
}

describe('the routes the app registers', () => {
  it('each have a rule found by their pattern, or are explicitly public', () => {
    expect(routes.length).toBeGreaterThan(90);
    const unmapped = routes.filter((r) => !ruleFor(r.method, r.pattern));
    expect(unmapped).toEqual([]);
    // The public ones, by name: anything else open would be a new hole.
    const open = [...new Set(routes.filter((r) => 'open' in ruleFor(r.method, r.pattern)!.rule.access).map((r) => `${r.method} ${r.pattern}`))].sort();
    expect(open).toEqual(
      [
        'GET /.*/',
        'GET /healthz',
        'GET /inquiry-links/:token',
        'GET /metrics',
        'GET /readyz',
        'GET /v1/auth/me',
        'OPTIONS /codec/{*rest}',
        'POST /codec/:token/decode',
        'POST /codec/:token/encode',
        'POST /codec/decode',
        'POST /codec/encode',
        'POST /inquiry-links/:token',
        'POST /v1/auth/login',
        'POST /v1/auth/logout',
      ].sort(),
    );
    // Every other /v1 route names a scope; and nothing outside /v1 does (so nothing there can be forgotten behind a scope).
    for (const r of routes) {
      const access = ruleFor(r.method, r.pattern)!.rule.access;
      if (r.pattern.startsWith('/v1/') && !['/v1/auth/login', '/v1/auth/me', '/v1/auth/logout'].includes(r.pattern)) expect({ route: r, access }).toEqual({ route: r, access: expect.objectContaining({ scope: expect.any(String) }) });
    }
  });

  it('has no rule that names no registered route (a stale rule would hide a typo)', () => {
    const used = new Set<RouteRule>(routes.map((r) => ruleFor(r.method, r.pattern)!.rule));
    const stale = ROUTE_RULES.filter((rule) => !used.has(rule)).map((r) => `${r.method} ${r.path}`);
    expect(stale).toEqual([]);
  });

  it('are all held by case-sensitive, strict routers', () => {
    const app = appOf(h);
    expect([app.enabled('case sensitive routing'), app.enabled('strict routing')]).toEqual([true, true]);
    const loose: string[] = [];
    walkRoutes(appStack(app), () => undefined, (router, prefix) => {
      if (router.caseSensitive !== true || router.strict !== true) loose.push(prefix);
    });
    expect(loose).toEqual([]);
  });

  it('refuses to build an app with a route that has no rule, or a router that is not strict', () => {
    const deps = { db: h.db, eventsSigningSecret: 's' };
    const strictApp = () => express().enable('case sensitive routing').enable('strict routing');
    const unruled = strictApp();
    unruled.use('/v1', express.Router(STRICT_ROUTING).get('/secrets', (_req, res) => void res.json({})));
    expect(() => guardRoutes(unruled, deps)).toThrow('no access rule for GET /v1/secrets');
    const loose = strictApp();
    loose.use('/v1', express.Router().get('/api-keys', (_req, res) => void res.json({})));
    expect(() => guardRoutes(loose, deps)).toThrow('must be case-sensitive and strict');
    expect(() => guardRoutes(express().get('/healthz', (_req, res) => void res.json({})), deps)).toThrow('case sensitive routing');
  });
});

describe('401 and 403 on every guarded route', () => {
  const guarded = () =>
    [...new Map(routes.map((r) => [`${r.method} ${r.pattern}`, r])).values()].flatMap((r) => {
      const { rule } = ruleFor(r.method, r.pattern)!;
      return 'scope' in rule.access ? [{ ...r, scope: rule.access.scope as Scope, signedEvents: rule.access.signedEvents === true }] : [];
    });

  it('answers each as its rule says', async () => {
    const failures: unknown[] = [];
    for (const route of guarded()) {
      const { method, scope } = route;
      const path = concretePath(route.pattern);
      const body = method === 'GET' || method === 'DELETE' ? undefined : {};
      const seen: Record<string, number> = {};
      const anonymous = await api(h, method, path, body, { key: null });
      seen.anonymous = anonymous.status;
      const wrong = await api(h, method, path, body, { key: 'idw_not-a-key' });
      seen.wrong = wrong.status;
      const { key } = await new ApiKeyStore(h.db).create({ name: `without ${scope}`, scopes: SCOPES.filter((s) => s !== scope) });
      const forbidden = await api(h, method, path, body, { key });
      seen.forbidden = forbidden.status;
      const { key: only } = await new ApiKeyStore(h.db).create({ name: `only ${scope}`, scopes: [scope] });
      const allowed = await api(h, method, path, body, { key: only });
      const ok =
        anonymous.status === 401 &&
        (route.signedEvents ? anonymous.body.error.code === 'invalid_signature' : anonymous.body.error.code === 'unauthenticated') &&
        wrong.status === 401 &&
        wrong.body.error.code === 'unauthenticated' &&
        forbidden.status === 403 &&
        forbidden.body.error.code === 'forbidden' &&
        forbidden.body.error.details?.[0]?.scope === scope &&
        ![401, 403].includes(allowed.status);
      if (!ok) failures.push({ method, path, scope, seen, allowed: allowed.status, body: allowed.body });
    }
    expect(failures).toEqual([]);
  }, 120_000);
});

describe('roles', () => {
  it('gives admins everything, editors all but administration, viewers the read scopes without PII', () => {
    expect(ROLE_SCOPES.admin).toEqual(SCOPES);
    expect([...ROLE_SCOPES.editor].sort()).toEqual(SCOPES.filter((s) => !['keys:manage', 'users:manage', 'audit:read', 'credentials:manage'].includes(s)).sort());
    expect([...ROLE_SCOPES.viewer].sort()).toEqual(['audit:read', 'objects:read', 'runs:read', 'workflows:read']);
  });

  it('keeps /healthz open and the open /v1 routes open', async () => {
    expect((await api(h, 'GET', '/healthz', undefined, { key: null })).status).toBe(200);
    expect((await api(h, 'GET', '/v1/auth/me', undefined, { key: null })).body.error.code).toBe('unauthenticated');
    expect((await api(h, 'POST', '/v1/auth/login', { email: 'nobody@example.com', password: 'x' }, { key: null })).body.error.code).toBe('invalid_credentials');
  });
});
