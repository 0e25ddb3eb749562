/**
 * Users, roles and editor sessions: login with a scrypt-hashed password,
 * HttpOnly SameSite=Strict cookies, double-submit CSRF on changes, roles'
 * scopes, disabling, logout, and the first admin made on start.
 */
import { api, createHarness, createUser, type Harness } from './support/harness';
import { ensureFirstAdmin, FIRST_ADMIN_EMAIL, UserStore } from '../src/auth/users';
import { verifyPassword } from '../src/auth/passwords';

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ worker: false });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

interface Session {
  cookies: Record<string, string>;
  setCookies: string[];
  csrfToken: string;
  user: { id: string; email: string; role: string };
}

async function login(email: string, password: string): Promise<{ status: number; body: any; session?: Session }> {
  const res = await fetch(`${h.baseUrl}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  const body = (await res.json()) as any;
  if (res.status !== 200) return { status: res.status, body };
  const setCookies = res.headers.getSetCookie();
  const cookies = Object.fromEntries(setCookies.map((c) => c.split(';')[0].split('=') as [string, string]));
  return { status: res.status, body, session: { cookies, setCookies, csrfToken: body.csrfToken, user: body.user } };
}

/** A browser request: the session's cookies, and the CSRF header when given. */
async function browser(s: Session, method: string, path: string, body?: unknown, csrf?: string | null): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { cookie: Object.entries(s.cookies).map(([k, v]) => `${k}=${v}`).join('; ') };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (csrf !== null) headers['x-csrf-token'] = csrf ?? s.csrfToken;
  const res = await fetch(`${h.baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const definition = { trigger: { type: 'api' }, steps: [{ id: 'pause', type: 'wait_for_time', duration: '1s' }] };

describe('sessions', () => {
  beforeAll(async () => {
    await createUser(h, { email: 'ed@example.com', password: 'correct horse battery', role: 'editor' });
    await createUser(h, { email: 'vi@example.com', password: 'viewer password 1', role: 'viewer' });
  });

  it('signs in with e-mail and password and sets HttpOnly, SameSite=Strict cookies', async () => {
    const { status, body, session } = await login('ED@example.com ', 'correct horse battery');
    expect(status).toBe(200);
    expect(body).toEqual({ user: { id: expect.stringMatching(/^usr_/), email: 'ed@example.com', role: 'editor', disabledAt: null, createdAt: expect.any(String) }, csrfToken: expect.any(String) });
    const sessionCookie = session!.setCookies.find((c) => c.startsWith('idw_session='))!;
    const csrfCookie = session!.setCookies.find((c) => c.startsWith('idw_csrf='))!;
    expect(sessionCookie).toMatch(/; HttpOnly/);
    expect(sessionCookie).toMatch(/; SameSite=Strict/);
    expect(sessionCookie).toMatch(/; Path=\//);
    expect(csrfCookie).not.toMatch(/HttpOnly/);
    expect(csrfCookie).toMatch(/; SameSite=Strict/);
    expect(session!.cookies.idw_csrf).toBe(body.csrfToken);

    const me = await browser(session!, 'GET', '/v1/auth/me');
    expect(me).toEqual({ status: 200, body: { user: body.user, csrfToken: body.csrfToken } });
    // No session token is stored in plain text.
    const { rows } = await h.db.query('SELECT * FROM sessions');
    expect(JSON.stringify(rows)).not.toContain(session!.cookies.idw_session);
  });

  it('refuses a wrong password, an unknown user and a disabled user alike', async () => {
    for (const [email, password] of [['ed@example.com', 'wrong password!'], ['nobody@example.com', 'correct horse battery']]) {
      const res = await login(email, password);
      expect({ email, status: res.status, code: res.body.error.code }).toEqual({ email, status: 401, code: 'invalid_credentials' });
    }
  });

  it('rejects changes made with the session cookie without the CSRF token', async () => {
    const { session } = await login('ed@example.com', 'correct horse battery');
    const missing = await browser(session!, 'POST', '/v1/workflows', { id: 'csrf_flow', name: 'x', definition }, null);
    expect(missing.status).toBe(403);
    expect(missing.body.error.code).toBe('csrf');
    const forged = await browser(session!, 'POST', '/v1/workflows', { id: 'csrf_flow', name: 'x', definition }, 'not-the-token');
    expect(forged.body.error.code).toBe('csrf');
    // Header and cookie agree but are not the session's: a cookie planted by a sibling site does not help.
    const planted = await browser({ ...session!, cookies: { ...session!.cookies, idw_csrf: 'planted' } }, 'POST', '/v1/workflows', { id: 'csrf_flow', name: 'x', definition }, 'planted');
    expect(planted.body.error.code).toBe('csrf');
    expect((await api(h, 'GET', '/v1/workflows/csrf_flow')).status).toBe(404);

    const ok = await browser(session!, 'POST', '/v1/workflows', { id: 'csrf_flow', name: 'x', definition });
    expect(ok.status).toBe(201);
    // Reads need no token.
    expect((await browser(session!, 'GET', '/v1/workflows/csrf_flow', undefined, null)).status).toBe(200);
  });

  it('gives each role its scopes: an editor cannot manage keys, a viewer cannot write', async () => {
    const editor = (await login('ed@example.com', 'correct horse battery')).session!;
    expect((await browser(editor, 'GET', '/v1/api-keys')).status).toBe(403);
    expect((await browser(editor, 'POST', '/v1/workflows/csrf_flow/publish')).status).toBe(201);
    const viewer = (await login('vi@example.com', 'viewer password 1')).session!;
    expect((await browser(viewer, 'GET', '/v1/workflows')).status).toBe(200);
    const write = await browser(viewer, 'PUT', '/v1/workflows/csrf_flow', { name: 'renamed' });
    expect(write.status).toBe(403);
    expect(write.body.error.details[0].scope).toBe('workflows:write');
  });

  it('ends the session on logout', async () => {
    const { session } = await login('ed@example.com', 'correct horse battery');
    const res = await fetch(`${h.baseUrl}/v1/auth/logout`, { method: 'POST', headers: { cookie: `idw_session=${session!.cookies.idw_session}` } });
    expect(res.status).toBe(204);
    expect(res.headers.getSetCookie().some((c) => c.startsWith('idw_session=;'))).toBe(true);
    const me = await browser(session!, 'GET', '/v1/auth/me');
    expect(me.status).toBe(401);
    expect((await browser(session!, 'GET', '/v1/workflows')).status).toBe(401);
  });
});

describe('users', () => {
  it('creates, lists and disables users through /v1/users; disabling ends their sessions', async () => {
    const created = await api(h, 'POST', '/v1/users', { email: 'Ann@Example.com', password: 'a long enough password', role: 'viewer' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ email: 'ann@example.com', role: 'viewer', disabledAt: null });
    expect((await api(h, 'POST', '/v1/users', { email: 'ann@example.com', password: 'a long enough password', role: 'viewer' })).status).toBe(409);
    const bad = await api(h, 'POST', '/v1/users', { email: 'not an address', password: 'short', role: 'root' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['/email', '/password', '/role']);

    const { rows } = await h.db.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [created.body.id]);
    expect(rows[0].password_hash).toMatch(/^scrypt\$16384\$8\$1\$[\w-]+\$[\w-]+$/);
    expect(rows[0].password_hash).not.toContain('a long enough password');
    expect(await verifyPassword('a long enough password', rows[0].password_hash)).toBe(true);

    const { session } = await login('ann@example.com', 'a long enough password');
    expect((await browser(session!, 'GET', '/v1/workflows')).status).toBe(200);
    expect((await api(h, 'GET', '/v1/users')).body.users.map((u: { email: string }) => u.email)).toContain('ann@example.com');
    const disabled = await api(h, 'POST', `/v1/users/${created.body.id}/disable`);
    expect(disabled.body.disabledAt).toEqual(expect.any(String));
    expect((await browser(session!, 'GET', '/v1/workflows')).status).toBe(401);
    expect((await login('ann@example.com', 'a long enough password')).status).toBe(401);
    await api(h, 'POST', `/v1/users/${created.body.id}/enable`);
    expect((await login('ann@example.com', 'a long enough password')).status).toBe(200);
  });

  it('makes the first admin once, with ADMIN_PASSWORD or a random password', async () => {
    // This harness's database has users already: nothing is made.
    expect(await ensureFirstAdmin(h.db)).toBeUndefined();
    await h.db.query('DELETE FROM users');
    await expect(ensureFirstAdmin(h.db, { password: 'short' })).rejects.toThrow(/at least 12/);
    const made = await ensureFirstAdmin(h.db);
    expect(made).toEqual({ email: FIRST_ADMIN_EMAIL, password: expect.stringMatching(/^[\w-]{24}$/), generated: true });
    expect(await ensureFirstAdmin(h.db)).toBeUndefined();
    expect((await new UserStore(h.db).list()).map((u) => [u.email, u.role])).toEqual([[FIRST_ADMIN_EMAIL, 'admin']]);
    const admin = (await login(FIRST_ADMIN_EMAIL, made!.password)).session!;
    expect((await browser(admin, 'GET', '/v1/audit')).status).toBe(200);

    await h.db.query('DELETE FROM users');
    expect(await ensureFirstAdmin(h.db, { password: 'chosen admin password' })).toMatchObject({ generated: false });
    expect((await login(FIRST_ADMIN_EMAIL, 'chosen admin password')).status).toBe(200);
  });
});
