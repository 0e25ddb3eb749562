/**
 * Deny by default, tried as an attacker would: every route the app
 * registers, sent with a key holding no scope and with one holding only
 * `runs:read`, in upper and mixed case, with a trailing or doubled slash,
 * percent-encoded letters and slashes, dot segments and the methods the
 * route does not take. Nothing but the exact request of a public route (or
 * of a route whose scope the key holds) may answer 2xx, and no answer may
 * carry the personal data stored behind it. Then the review's exact
 * reproductions (issue 13, finding 1), one by one.
 *
 * Requests go out over node:http with the path as written: fetch would
 * resolve dot segments before sending.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKeyStore } from '../src/auth/api-keys';
import { registeredRoutes } from '../src/auth/access-control';
import { ruleFor } from '../src/auth/route-scopes';
import type { Scope } from '../src/auth/scopes';
import { createApp } from '../src/api/app';
import { api, createHarness, createUser, type Harness } from './support/harness';

let h: Harness;
let noScopeKey: string;
let runsReadKey: string;
let inquiryId: string;
let listId: string;

/** What is stored behind the routes; no answer to these keys may hold any of it. */
const PII = ['Zenobia', 'Quarterfield', 'zenobia.q@example.com', '1971-03-04', 'victim@example.com'];

beforeAll(async () => {
  h = await createHarness({ worker: false });
  const keys = new ApiKeyStore(h.db);
  noScopeKey = (await keys.create({ name: 'no scopes', scopes: [] })).key;
  runsReadKey = (await keys.create({ name: 'runs reader', scopes: ['runs:read'] })).key;
  const inquiry = await api(h, 'POST', '/v1/inquiries', { template: 'kyc', fields: { name_first: 'Zenobia', name_last: 'Quarterfield', email: 'zenobia.q@example.com', birthdate: '1971-03-04' } });
  expect(inquiry.status).toBe(201);
  inquiryId = inquiry.body.id;
  const list = await api(h, 'POST', '/v1/lists', { name: 'blocked', kind: 'email' });
  listId = list.body.id;
  expect((await api(h, 'POST', `/v1/lists/${listId}/items`, { value: 'victim@example.com' })).status).toBe(201);
}, 60_000);
afterAll(async () => {
  await h?.close();
});

async function raw(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; text: string; headers: Record<string, unknown> }> {
  const url = new URL(h.baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A concrete path for a pattern: real ids where PII sits behind them, made-up ones elsewhere. */
function concrete(pattern: string): string {
  return pattern
    .replace(':collection', 'inquiries')
    .replace(/^\/v1\/inquiries\/:id/, `/v1/inquiries/${inquiryId}`)
    .replace(/^\/v1\/lists\/:id/, `/v1/lists/${listId}`)
    .replace('/v1/objects/:id', `/v1/objects/${inquiryId}`)
    .replace(':value', 'victim%40example.com')
    .replace(/:(\w+)/g, 'p_$1')
    .replace('{*rest}', 'encode');
}

const capitalise = (path: string) => path.replace(/\/([a-z])/g, (_m, c: string) => `/${c.toUpperCase()}`);

/** The same route, written otherwise: none of these is the route. */
function variants(path: string): { how: string; path: string }[] {
  const segments = path.split('/'); // ['', 'v1', 'api-keys', ...]
  const out = [
    { how: 'upper case', path: path.toUpperCase() },
    { how: 'mixed case', path: capitalise(path) },
    { how: 'trailing slash', path: `${path}/` },
    { how: 'doubled slash', path: `/${path}` },
    { how: 'doubled inner slash', path: segments.length > 2 ? `${segments.slice(0, 2).join('/')}//${segments.slice(2).join('/')}` : `${path}//` },
    { how: 'dot segment', path: `${segments.slice(0, 2).join('/')}/.${segments.length > 2 ? '/' + segments.slice(2).join('/') : ''}` },
    { how: 'dot-dot segment', path: `${segments.slice(0, 2).join('/')}/x/..${segments.length > 2 ? '/' + segments.slice(2).join('/') : ''}` },
    { how: 'encoded first letter', path: path.replace(/^\/([a-z])/, (_m, c: string) => `/%${c.charCodeAt(0).toString(16)}`) },
    { how: 'encoded letter of the last segment', path: path.replace(/\/([a-z])([^/]*)$/, (_m, c: string, rest: string) => `/%${c.charCodeAt(0).toString(16).toUpperCase()}${rest}`) },
  ];
  if (path.startsWith('/v1/')) out.push({ how: '%76 for v', path: path.replace('/v1/', '/%761/') });
  if (segments.length > 2) out.push({ how: '%2F for a slash', path: `${segments.slice(0, 2).join('/')}%2F${segments.slice(2).join('/')}` });
  return out.filter((v) => v.path !== path);
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

describe('every registered route, written every other way, with a key without the scope', () => {
  it('never answers 2xx but to the exact request a rule allows, and never shows personal data', async () => {
    const app = createApp({ db: h.db, eventsSigningSecret: 's', registry: h.registry, workflows: h.workflows, credentials: h.credentials, webhooks: h.webhooks, schedules: h.schedules, metrics: h.metrics, metricsToken: 't', codec: { codec: {} as never, token: 't', corsOrigins: [] } } as never);
    const routes = registeredRoutes(app).filter((r) => r.pattern !== '/.*/');
    const byPath = new Map<string, Set<string>>();
    for (const r of routes) byPath.set(r.pattern, (byPath.get(r.pattern) ?? new Set()).add(r.method));
    expect(byPath.size).toBeGreaterThan(80);

    const problems: unknown[] = [];
    let sent = 0;
    for (const [key, held] of [[noScopeKey, []], [runsReadKey, ['runs:read']]] as [string, Scope[]][]) {
      for (const [pattern, methods] of byPath) {
        const path = concrete(pattern);
        const tries: { method: string; path: string; how: string; exact: boolean }[] = [];
        for (const method of methods) {
          tries.push({ method, path, how: 'exact', exact: true });
          for (const v of variants(path)) tries.push({ method, path: v.path, how: v.how, exact: false });
        }
        // The methods the route does not take (the codec's CORS preflight is a public route of its own).
        for (const method of METHODS) {
          if (methods.has(method) || (method === 'HEAD' && methods.has('GET')) || (method === 'OPTIONS' && pattern.startsWith('/codec/'))) continue;
          tries.push({ method, path, how: `unmapped ${method}`, exact: false });
        }
        if (methods.has('GET')) tries.push({ method: 'HEAD', path, how: 'HEAD of GET', exact: true });
        for (const t of tries) {
          const body = ['POST', 'PUT', 'PATCH'].includes(t.method) ? '{}' : undefined;
          const res = await raw(t.method, t.path, { authorization: `Bearer ${key}` }, body);
          sent++;
          const access = ruleFor(t.method, pattern)?.rule.access;
          // A public wildcard route (the codec's CORS preflight, /codec/{*rest}) is every variant of itself.
          const wildcard = pattern.includes('{*') && access !== undefined && 'open' in access;
          const allowed = (t.exact || wildcard) && access !== undefined && ('open' in access || held.includes(access.scope));
          // Personal data the request itself carried (a list item in the path, echoed by a 404) is not a leak.
          const sentPath = decodeURIComponent(t.path.replace(/%(?![0-9a-f]{2})/gi, '%25'));
          const leaked = PII.filter((p) => !sentPath.includes(p) && (res.text.includes(p) || res.text.includes(encodeURIComponent(p))));
          if ((res.status >= 200 && res.status < 300 && !allowed) || leaked.length > 0 || res.status >= 500) {
            problems.push({ key: held.join(',') || 'no scopes', method: t.method, path: t.path, how: t.how, status: res.status, leaked });
          }
        }
      }
    }
    expect(sent).toBeGreaterThan(2000);
    expect(problems).toEqual([]);
  }, 300_000);
});

describe("the review's reproductions (issue 13, finding 1)", () => {
  it('GET /v1/API-KEYS with a runs:read key lists no keys', async () => {
    expect((await api(h, 'GET', '/v1/api-keys', undefined, { key: runsReadKey })).status).toBe(403);
    for (const path of ['/v1/API-KEYS', '/v1/Api-Keys', '/v1/api-keys/', '/V1/api-keys', '/v1//api-keys']) {
      const res = await raw('GET', path, { authorization: `Bearer ${runsReadKey}` });
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      expect(res.text).not.toContain('test harness');
    }
  });

  it('POST /v1/USERS with a key without scopes makes no admin', async () => {
    const admin = { email: 'mallory@example.com', password: 'correct horse battery staple', role: 'admin' };
    for (const path of ['/v1/USERS', '/v1/Users', '/v1/users/', '/v1/users']) {
      const res = await raw('POST', path, { authorization: `Bearer ${noScopeKey}` }, JSON.stringify(admin));
      expect(res.status === 403 || res.status === 404).toBe(true);
    }
    const users = await api(h, 'GET', '/v1/users');
    expect(users.body.users.map((u: { email: string }) => u.email)).not.toContain(admin.email);
    expect((await api(h, 'POST', '/v1/auth/login', { email: admin.email, password: admin.password }, { key: null })).status).toBe(401);
    // A refused request writes no audit entry (docs/security.md, "Audit log").
    const audit = await api(h, 'GET', '/v1/audit?action=user.created');
    expect(audit.body.entries).toEqual([]);
  });

  it('POST /v1/EVENTS without a signature stores no event', async () => {
    const event = { id: 'evt_forged_upper', type: 'inquiry.approved', objectType: 'inquiry', objectId: inquiryId, object: { id: inquiryId } };
    for (const path of ['/v1/EVENTS', '/v1/Events', '/v1/events/', '/v1/events']) {
      const res = await raw('POST', path, { authorization: `Bearer ${noScopeKey}` }, JSON.stringify(event));
      expect({ path, ok: res.status >= 200 && res.status < 300 }).toEqual({ path, ok: false });
      const anonymous = await raw('POST', path, {}, JSON.stringify(event));
      expect({ path, ok: anonymous.status >= 200 && anonymous.status < 300 }).toEqual({ path, ok: false });
    }
    const { rows } = await h.db.query('SELECT 1 FROM events WHERE id = $1', ['evt_forged_upper']);
    expect(rows).toEqual([]);
    const listed = await api(h, 'GET', `/v1/events?objectId=${inquiryId}`);
    expect(JSON.stringify(listed.body)).not.toContain('evt_forged_upper');
  });

  it("a viewer's GET /v1/Inquiries/<id> shows no personal data", async () => {
    await createUser(h, { email: 'viewer@example.com', password: 'viewer password 1', role: 'viewer' });
    const login = await fetch(`${h.baseUrl}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'viewer@example.com', password: 'viewer password 1' }) });
    expect(login.status).toBe(200);
    const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    for (const path of [`/v1/Inquiries/${inquiryId}`, `/v1/INQUIRIES/${inquiryId}`, `/v1/inquiries/${inquiryId}/`, `/v1//inquiries/${inquiryId}`]) {
      const res = await raw('GET', path, { cookie });
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      expect(PII.filter((p) => res.text.includes(p))).toEqual([]);
    }
    // The route itself answers, masked.
    const masked = await raw('GET', `/v1/inquiries/${inquiryId}`, { cookie });
    expect(masked.status).toBe(200);
    expect(masked.headers['idw-pii']).toBe('masked');
    expect(PII.filter((p) => masked.text.includes(p))).toEqual([]);
  });
});

describe("the editor's index.html fallback", () => {
  it('answers its own paths, never a server path written otherwise', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'editor-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>editor</title>');
    const app = createApp({ db: h.db, eventsSigningSecret: 's', registry: h.registry, workflows: h.workflows, credentials: h.credentials, editorDir: dir } as never);
    const server: Server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const port = (server.address() as AddressInfo).port;
      const get = (path: string) =>
        new Promise<number>((resolve, reject) => {
          const req = request({ host: '127.0.0.1', port, path, headers: { authorization: `Bearer ${noScopeKey}` } }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          req.on('error', reject);
          req.end();
        });
      expect(await get('/workflows/kyc')).toBe(200);
      for (const path of ['/V1/API-KEYS', '/V1/api-keys', '//v1/api-keys', '/%761/api-keys', '/v1%2Fapi-keys', '/./v1/api-keys', '/x/../v1/api-keys', '/HEALTHZ', '/Inquiry-Links/abc', '/%zz']) {
        expect({ path, status: await get(path) }).toEqual({ path, status: 404 });
      }
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
