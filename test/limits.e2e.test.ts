/**
 * The API's limits and headers (src/api/limits.ts) over real HTTP: rate
 * limits per caller on run triggers and events (429 with Retry-After,
 * nothing started or stored), the JSON nesting limit, the definition size
 * limits of the validator (steps, nesting, expression length), and the
 * security headers on the API, the editor and the hosted inquiry page.
 */
import { ApiKeyStore } from '../src/auth/api-keys';
import { MAX_JSON_DEPTH, rateLimitsFromEnv, tooDeepAt } from '../src/api/limits';
import { MAX_DEFINITION_STEPS, MAX_EXPRESSION_LENGTH, MAX_STEP_NESTING } from '../src/interpreter/limits';
import { api, createHarness, createUser, postEvent, publishWorkflow, type Harness } from './support/harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ worker: false, rateLimits: { triggersPerMinute: 3, eventsPerMinute: 4, loginFailuresPerMinute: 3 } });
  await publishWorkflow(h, 'limited', { trigger: { type: 'api' }, steps: [{ id: 'done', type: 'end' }] });
});
afterAll(async () => {
  await h?.close();
});

/** Like `api`, with the answer's headers. */
async function call(method: string, path: string, body?: unknown, key: string | null = h.apiKey): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${h.baseUrl}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text, headers: res.headers };
}

async function count(table: string): Promise<number> {
  const { rows } = await h.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
  return Number(rows[0].n);
}

async function runCount(workflowId: string): Promise<number> {
  const res = await api(h, 'GET', `/v1/runs?workflow=${workflowId}&limit=100`);
  return res.body.runs.length;
}

describe('rate limits', () => {
  it('refuses the 4th run trigger in a minute from one API key with 429 and Retry-After, starts nothing, and counts each key apart', async () => {
    const { key: other } = await new ApiKeyStore(h.db).create({ name: 'second caller', scopes: ['runs:trigger', 'runs:read'] });
    for (let i = 0; i < 3; i++) expect((await api(h, 'POST', '/v1/workflows/limited/runs', { n: i })).status).toBe(201);
    const refused = await call('POST', '/v1/workflows/limited/runs', { n: 3 });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toEqual({
      code: 'rate_limited',
      message: expect.stringMatching(/^too many run triggers: at most 3 per minute for each API key; retry after \d+ s$/),
      details: [],
    });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers.get('ratelimit-policy')).toBe('3;w=60');
    // Another key has its own allowance.
    expect((await api(h, 'POST', '/v1/workflows/limited/runs', { n: 4 }, { key: other })).status).toBe(201);
    // Temporal's visibility store catches up on its own time: poll until the four started runs are listed, then check no fifth.
    const deadline = Date.now() + 15_000;
    while ((await runCount('limited')) < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await runCount('limited')).toBe(4);
  });

  it('refuses events past the limit for the signed sender, storing nothing; an API key is counted apart', async () => {
    const before = await count('events');
    for (let i = 0; i < 4; i++) expect((await postEvent(h, { id: `lim_${i}`, type: 'inquiry.completed', objectId: 'inq_l' })).status).toBe(202);
    const refused = await postEvent(h, { id: 'lim_4', type: 'inquiry.completed', objectId: 'inq_l' });
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('rate_limited');
    expect(refused.body.error.message).toMatch(/^too many events: at most 4 per minute/);
    expect(await count('events')).toBe(before + 4);
    const byKey = await api(h, 'POST', '/v1/events', { id: 'lim_key', type: 'inquiry.completed', objectId: 'inq_l' }, { key: h.apiKey });
    expect(byKey.status).toBe(202);
  });

  it('refuses sign-ins from an address after its failed attempts, before checking the password; successes are not counted', async () => {
    await createUser(h, { email: 'guessed@example.com', password: 'the right password', role: 'viewer' });
    const signIn = (password: string) => call('POST', '/v1/auth/login', { email: 'guessed@example.com', password }, null);
    expect((await signIn('the right password')).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await signIn(`guess ${i}`)).body.error.code).toBe('invalid_credentials');
    const refused = await signIn('the right password');
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('rate_limited');
    expect(refused.body.error.message).toMatch(/^too many failed sign-ins from this address: at most 3 per minute/);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('reads RATE_LIMIT_TRIGGERS_PER_MIN and RATE_LIMIT_EVENTS_PER_MIN, and refuses nonsense', () => {
    expect(rateLimitsFromEnv({})).toEqual({ triggersPerMinute: 600, eventsPerMinute: 3000 });
    expect(rateLimitsFromEnv({ RATE_LIMIT_TRIGGERS_PER_MIN: '10', RATE_LIMIT_EVENTS_PER_MIN: '0' })).toEqual({ triggersPerMinute: 10, eventsPerMinute: 0 });
    expect(() => rateLimitsFromEnv({ RATE_LIMIT_EVENTS_PER_MIN: 'lots' })).toThrow('RATE_LIMIT_EVENTS_PER_MIN must be a whole number of requests per minute (0 = no limit), got "lots"');
  });
});

describe('JSON nesting', () => {
  const nested = (depth: number): unknown => {
    let v: unknown = 1;
    for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
    return v;
  };

  it(`refuses a body nested more than ${MAX_JSON_DEPTH} levels with 400 json_too_deep and the path, before anything reads it`, async () => {
    const before = await count('workflows');
    const res = await api(h, 'POST', '/v1/workflows', { name: 'deep', definition: nested(MAX_JSON_DEPTH) });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('json_too_deep');
    expect(res.body.error.message).toBe(`the JSON body is nested more than ${MAX_JSON_DEPTH} levels deep`);
    expect(res.body.error.details[0].path).toMatch(/^\/definition(\/(a|0)){63}$/);
    // One level less is not refused for its depth (it is no definition, so the validator says so).
    const shallower = await api(h, 'POST', '/v1/workflows', { name: 'deep', definition: nested(MAX_JSON_DEPTH - 2) });
    expect(shallower.status).toBe(400);
    expect(shallower.body.error.code).toBe('invalid_definition');
    expect(await count('workflows')).toBe(before);
  });

  it('answers 100,000 levels of brackets with 400, not a crashed stack', async () => {
    const text = '['.repeat(100_000) + ']'.repeat(100_000);
    const res = await api(h, 'POST', '/v1/definitions/validate', text);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('json_too_deep');
    const event = await postEvent(h, { id: 'deep', type: 'inquiry.completed', data: nested(200) as Record<string, unknown> });
    expect([400, 429]).toContain(event.status);
    expect((await api(h, 'GET', '/healthz')).status).toBe(200);
  });

  it('refuses NUL characters, which PostgreSQL cannot store, in bodies and URLs: 400, not a 500 from the database', async () => {
    const before = await count('workflows');
    const inName = await api(h, 'POST', '/v1/workflows', { name: 'nul\u0000name', definition: { trigger: { type: 'api' }, steps: [{ id: 'a', type: 'end' }] } });
    expect(inName.status).toBe(400);
    expect(inName.body.error).toMatchObject({ code: 'nul_character', details: [{ path: '/name' }] });
    const inKey = await api(h, 'POST', '/v1/inquiries', { template: 'kyc_basic', fields: { ['x\u0000']: 1 } });
    expect(inKey.body.error).toMatchObject({ code: 'nul_character', details: [{ path: '/fields/x\u0000' }] });
    const inUrl = await api(h, 'GET', '/v1/workflows/abc%00def');
    expect(inUrl.status).toBe(400);
    expect(inUrl.body.error.code).toBe('nul_character');
    expect(await count('workflows')).toBe(before);
  });

  it('tooDeepAt names the first value past the limit', () => {
    expect(tooDeepAt({ a: [{ b: 1 }] }, 3)).toBeUndefined();
    expect(tooDeepAt({ a: [{ b: [] }] }, 3)).toBe('/a/0/b');
    expect(tooDeepAt({ 'x/y': { '~': {} } }, 2)).toBe('/x~1y/~0');
    expect(tooDeepAt('text', 0)).toBeUndefined();
  });
});

describe('definition size limits', () => {
  const leaf = (id: string) => ({ id, type: 'action', action: 'set_variables', params: { variables: { x: 1 } } });

  async function problems(definition: unknown): Promise<{ path: string; code: string; message: string }[]> {
    const res = await api(h, 'POST', '/v1/definitions/validate', definition);
    expect(res.status).toBe(200);
    expect(res.body.valid).toBe(false);
    return res.body.problems;
  }

  it(`at most ${MAX_DEFINITION_STEPS} steps, branches included`, async () => {
    const branches = Array.from({ length: 20 }, (_, b) => ({ id: `b${b}`, steps: Array.from({ length: 51 }, (_, i) => leaf(`s${b}_${i}`)) }));
    const found = await problems({ trigger: { type: 'api' }, steps: [{ id: 'fan', type: 'parallel', branches }] });
    expect(found).toEqual([{ code: 'out_of_range', path: '/steps', message: `the definition has 1021 steps (branches and loops included); at most ${MAX_DEFINITION_STEPS} are allowed` }]);
    const saved = await api(h, 'POST', '/v1/workflows', { name: 'too big', definition: { trigger: { type: 'api' }, steps: [{ id: 'fan', type: 'parallel', branches }] } });
    expect(saved.status).toBe(400);
    expect(saved.body.error.details[0]).toMatchObject({ path: '/definition/steps', code: 'out_of_range' });
  });

  it(`parallel and for_each nested at most ${MAX_STEP_NESTING} deep`, async () => {
    const nest = (depth: number): unknown =>
      depth === 0
        ? leaf('innermost')
        : { id: `p${depth}`, type: 'parallel', branches: [{ id: 'a', steps: [nest(depth - 1)] }, { id: 'b', steps: [leaf(`other${depth}`)] }] };
    const found = await problems({ trigger: { type: 'api' }, steps: [nest(MAX_STEP_NESTING + 1)] });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ code: 'out_of_range', stepId: 'innermost', message: `parallel and for_each steps are nested more than ${MAX_STEP_NESTING} deep here; at most ${MAX_STEP_NESTING} levels are allowed` });
    expect(found[0].path).toBe('/steps/0' + '/branches/0/steps/0'.repeat(MAX_STEP_NESTING + 1));
    const ok = await api(h, 'POST', '/v1/definitions/validate', { trigger: { type: 'api' }, steps: [nest(MAX_STEP_NESTING)] });
    expect(ok.body).toEqual({ valid: true, problems: [] });
  });

  it(`expressions of at most ${MAX_EXPRESSION_LENGTH} characters, in values and templates too`, async () => {
    const longCel = Array.from({ length: 1100 }, () => '1').join(' + ');
    const longLiquid = `{{ trigger.name }}${'x'.repeat(MAX_EXPRESSION_LENGTH)}`;
    const found = await problems({
      trigger: { type: 'api' },
      steps: [{ id: 'calc', type: 'action', action: 'set_variables', params: { variables: { sum: { $cel: longCel }, text: longLiquid } } }],
    });
    expect(found.map((p) => [p.path, p.code, p.message])).toEqual([
      ['/steps/0/params/variables/sum/$cel', 'out_of_range', `the expression is ${longCel.length} characters long; at most ${MAX_EXPRESSION_LENGTH} are allowed`],
      ['/steps/0/params/variables/text', 'out_of_range', `the expression is ${longLiquid.length} characters long; at most ${MAX_EXPRESSION_LENGTH} are allowed`],
    ]);
    const condition = await problems({ trigger: { type: 'api' }, steps: [{ id: 'c', type: 'condition', routes: [{ when: 'true || '.repeat(700) + 'true', next: 'c' }], default: 'c' }] });
    expect(condition.find((p) => p.path === '/steps/0/routes/0/when')?.message).toBe('Too big: expected string to have <=4000 characters');
  });
});

describe('security headers', () => {
  const csp = (headers: Headers): Record<string, string> =>
    Object.fromEntries(
      (headers.get('content-security-policy') ?? '')
        .split(';')
        .map((d) => d.trim())
        .filter(Boolean)
        .map((d) => [d.split(' ')[0], d.split(' ').slice(1).join(' ')]),
    );

  it('on API answers: a strict CSP, no sniffing, no framing, no referrer, no caching', async () => {
    for (const res of [await call('GET', '/v1/workflows'), await call('GET', '/v1/nothing-here'), await call('GET', '/v1/workflows', undefined, null)]) {
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('x-powered-by')).toBeNull();
      expect(csp(res.headers)).toMatchObject({ 'default-src': "'self'", 'script-src': "'self'", 'frame-ancestors': "'none'", 'object-src': "'none'" });
    }
  });

  it('on the editor: scripts, styles and API calls from its own origin only; no inline script', async () => {
    const res = await fetch(`${h.baseUrl}/`);
    const policy = csp(res.headers);
    expect(policy['script-src']).toBe("'self'");
    expect(policy['script-src-attr']).toBe("'none'");
    expect(policy['connect-src']).toBe("'self'");
    expect(policy['style-src']).toMatch(/^'self'( 'sha256-[A-Za-z0-9+/=]+')*$/);
    expect(Object.values(policy).join(' ')).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(res.headers.get('cache-control')).not.toBe('no-store');
  });

  it('on the hosted inquiry page: its own stricter policy, with no script source at all', async () => {
    const res = await fetch(`${h.baseUrl}/inquiry-links/not-a-real-token`);
    const policy = csp(res.headers);
    expect(policy['default-src']).toBe("'none'");
    expect(policy['script-src']).toBeUndefined();
    expect(policy['frame-ancestors']).toBe("'none'");
    expect(await res.text()).not.toMatch(/<script/i);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });
});
