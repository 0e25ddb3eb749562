/**
 * Every /v1 route needs its scope: generated from the route table
 * (src/auth/route-scopes.ts), so no route family is forgotten, and checked
 * against the routes the app really serves, so no route is missing from the
 * table.
 */
import { ApiKeyStore } from '../src/auth/api-keys';
import { matchRoute, ROUTE_RULES, type RouteRule } from '../src/auth/route-scopes';
import { ROLE_SCOPES, SCOPES, type Scope } from '../src/auth/scopes';
import { createApp } from '../src/api/app';
import { api, createHarness, type Harness } from './support/harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ worker: false });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

/** A concrete request that the rule (and no earlier rule) answers. */
function requestFor(rule: RouteRule): { method: string; path: string } {
  const method = rule.method === '*' ? 'PUT' : rule.method;
  const path = rule.path
    .split('/')
    .map((segment) => (segment === '*' ? 'x' : segment.startsWith(':') ? (segment === ':verb' ? 'approve' : `p_${segment.slice(1)}`) : segment))
    .join('/');
  return { method, path };
}

const guarded = ROUTE_RULES.filter((r): r is RouteRule & { access: { scope: Scope; signedEvents?: true } } => 'scope' in r.access);

describe('the route table', () => {
  it('gives every rule a request that reaches it (no rule is shadowed by an earlier one)', () => {
    for (const rule of ROUTE_RULES) {
      const { method, path } = requestFor(rule);
      expect({ method, path, rule: matchRoute(method, path)?.rule }).toEqual({ method, path, rule });
    }
  });

  it('names a rule for every /v1 route the app serves', () => {
    const app = createApp({ db: h.db, eventsSigningSecret: 's', registry: h.registry, workflows: h.workflows, credentials: h.credentials, webhooks: h.webhooks } as never);
    const routes: { method: string; path: string }[] = [];
    const walk = (stack: any[], prefix: string) => {
      for (const layer of stack) {
        if (layer.route && typeof layer.route.path === 'string') {
          for (const method of Object.keys(layer.route.methods)) routes.push({ method: method.toUpperCase(), path: prefix + layer.route.path });
        } else if (Array.isArray(layer.handle?.stack)) {
          walk(layer.handle.stack, prefix + (typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : ''));
        }
      }
    };
    walk((app as any).router.stack, '');
    const v1 = routes.filter((r) => r.path.startsWith('/v1/'));
    expect(v1.length).toBeGreaterThan(60);
    // Tags take any collection: the table names each.
    const concrete = (path: string) => path.replace(':collection', 'inquiries').replace(/:(\w+)/g, 'x_$1');
    const unmapped = v1.filter((r) => !matchRoute(r.method, concrete(r.path)));
    expect(unmapped).toEqual([]);
  });
});

describe('401 and 403 on every guarded route', () => {
  it.each(guarded.map((rule) => [`${rule.method} ${rule.path}`, rule] as const))('%s', async (_name, rule) => {
    const { method, path } = requestFor(rule);
    const body = method === 'GET' || method === 'DELETE' ? undefined : {};

    const anonymous = await api(h, method, path, body, { key: null });
    if (rule.access.signedEvents) {
      // Unsigned and keyless: the signature check answers.
      expect(anonymous.status).toBe(401);
    } else {
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.error.code).toBe('unauthenticated');
    }
    const wrong = await api(h, method, path, body, { key: 'idw_not-a-key' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('unauthenticated');

    const { key } = await new ApiKeyStore(h.db).create({ name: `without ${rule.access.scope}`, scopes: SCOPES.filter((s) => s !== rule.access.scope) });
    const forbidden = await api(h, method, path, body, { key });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error).toMatchObject({ code: 'forbidden', details: [{ code: 'missing_scope', scope: rule.access.scope }] });

    // The scope alone gets past access control (the route may still say 400 or 404 about the made-up request).
    const { key: only } = await new ApiKeyStore(h.db).create({ name: `only ${rule.access.scope}`, scopes: [rule.access.scope] });
    const allowed = await api(h, method, path, body, { key: only });
    expect([401, 403]).not.toContain(allowed.status);
  });
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
