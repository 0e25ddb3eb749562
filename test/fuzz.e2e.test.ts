/**
 * Fuzzing the edges with fast-check, over real HTTP against the real app,
 * PostgreSQL and Temporal: thousands of generated malformed inputs to
 *   1. the definition validator (POST /v1/workflows, POST /v1/definitions/validate),
 *   2. the API trigger's input validation (a workflow with an input JSON Schema),
 *   3. event ingress (POST /v1/events: signed and malformed, unsigned, badly signed).
 * Every answer must be a 4xx with the error envelope (or, where the
 * generator happened to build something valid, exactly what the pure
 * validator says), never a 500; the process keeps answering; and nothing
 * is stored: rows in workflows and events and runs in Temporal are counted
 * before and after.
 *
 * Run counts are fixed (RUNS below) so the file stays around a minute on
 * two cores; FUZZ_SCALE=10 multiplies them for a longer session.
 */
import fc from 'fast-check';
import { eventTypeSchema } from '../src/interpreter';
import { validateAgainstSchema } from '../src/interpreter/json-schema';
import { validateDefinition } from '../src/interpreter/validate';
import { signBody } from '../src/events/signature';
import { MAX_JSON_DEPTH, jsonProblem } from '../src/api/limits';
import { api, createHarness, publishWorkflow, type Harness } from './support/harness';

const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const RUNS = {
  definitionsSaved: 1000 * SCALE,
  definitionsValidated: 800 * SCALE,
  rawBodies: 400 * SCALE,
  triggerInputs: 1500 * SCALE,
  signedEvents: 1500 * SCALE,
  unsignedEvents: 600 * SCALE,
  badSignatures: 600 * SCALE,
};
const SEED = Number(process.env.FUZZ_SEED ?? 20260101);

let h: Harness;
let inputWorkflow: string;
const tally = new Map<string, Map<number, number>>();

function note(what: string, status: number): void {
  const counts = tally.get(what) ?? new Map<number, number>();
  counts.set(status, (counts.get(status) ?? 0) + 1);
  tally.set(what, counts);
}

beforeAll(async () => {
  // Rate limits off: this file is the flood.
  h = await createHarness({ worker: false, rateLimits: { triggersPerMinute: 0, eventsPerMinute: 0 } });
  inputWorkflow = `fuzz-input-${h.schema.slice(-10)}`;
  await publishWorkflow(h, inputWorkflow, { trigger: { type: 'api', inputSchema: INPUT_SCHEMA }, steps: [{ id: 'done', type: 'end' }] });
});
afterAll(async () => {
  const lines = [...tally].map(([what, counts]) => `${what}: ${[...counts].map(([s, n]) => `${n}x${s}`).join(' ')}`);
  console.log(`fuzz answers by status (seed ${SEED}):\n${lines.join('\n')}`);
  await h?.close();
});

async function rows(table: string): Promise<number> {
  const { rows: r } = await h.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
  return Number(r[0].n);
}

/** A raw POST: the body as given (a string is sent as is). */
async function post(path: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${h.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: the assertion below says so
  }
  return { status: res.status, body: parsed };
}

function expectClientError(res: { status: number; body: any }, context: unknown): void {
  if (res.status < 400 || res.status >= 500 || typeof res.body?.error?.code !== 'string') {
    throw new Error(`expected a 4xx with an error code, got ${res.status} ${JSON.stringify(res.body).slice(0, 500)} for ${JSON.stringify(context).slice(0, 1000)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Definitions

const VALID_DEFINITIONS: unknown[] = [
  {
    trigger: { type: 'api', inputSchema: { type: 'object', properties: { score: { type: 'number' } } } },
    steps: [
      { id: 'compute', type: 'action', action: 'set_variables', params: { variables: { band: { $cel: 'trigger.score > 50 ? "high" : "low"' } } }, next: 'route' },
      { id: 'route', type: 'condition', routes: [{ when: 'vars.band == "high"', next: 'review' }], default: 'done' },
      { id: 'review', type: 'action', action: 'log_message', params: { message: 'score {{ trigger.score }}' }, next: 'done' },
      { id: 'done', type: 'end', outcome: 'succeeded', reason: 'band {{ vars.band }}' },
    ],
  },
  {
    trigger: { type: 'event', event: 'inquiry.completed', filter: 'event.type == "inquiry.completed"' },
    steps: [
      {
        id: 'both',
        type: 'parallel',
        branches: [
          { id: 'left', steps: [{ id: 'wait_case', type: 'wait_for_event', events: ['case.resolved'], object: 'trigger.event.objectId', timeout: '7d' }] },
          { id: 'right', steps: [{ id: 'pause', type: 'wait_for_time', duration: '1h' }] },
        ],
        next: 'each',
      },
      { id: 'each', type: 'for_each', items: '[1, 2, 3]', concurrency: 2, steps: [{ id: 'per_item', type: 'action', action: 'set_variables', params: { variables: { n: { $cel: 'item' } } } }], next: 'fin' },
      { id: 'fin', type: 'end' },
    ],
  },
];

type Path = (string | number)[];

function pathsOf(value: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(value)) value.forEach((v, i) => pathsOf(v, [...at, i], out));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) pathsOf(v, [...at, k], out);
  return out;
}

function setAt(root: unknown, path: Path, mutate: (parent: any, key: string | number) => void): unknown {
  const copy = structuredClone(root);
  if (path.length === 0) return copy;
  let node: any = copy;
  for (const key of path.slice(0, -1)) node = node[key];
  mutate(node, path[path.length - 1]);
  return copy;
}

const weirdString = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom('', ' ', 'a'.repeat(5000), '{{', '{% if %}', '1 +', 'steps.nowhere.output', '__proto__', 'constructor', 'Nope Nope', '\u0000', '../..', '$cel'),
);
const smallJson = fc.jsonValue({ maxDepth: 3 });

/** A valid definition with one change that may (usually does) break it. */
const mutatedDefinition = fc
  .record({
    base: fc.nat({ max: VALID_DEFINITIONS.length - 1 }),
    at: fc.nat(),
    kind: fc.constantFrom('replace', 'string', 'delete', 'add', 'duplicate_step', 'proto'),
    key: weirdString,
    value: fc.oneof(smallJson, weirdString),
  })
  .map(({ base, at, kind, key, value }) => {
    const def = VALID_DEFINITIONS[base];
    const paths = pathsOf(def);
    const path = paths[at % paths.length];
    switch (kind) {
      case 'replace':
        return path.length === 0 ? value : setAt(def, path, (p, k) => (p[k] = value));
      case 'string':
        return path.length === 0 ? key : setAt(def, path, (p, k) => (p[k] = key));
      case 'delete':
        return setAt(def, path, (p, k) => (Array.isArray(p) ? p.splice(Number(k), 1) : delete p[k]));
      case 'add':
        return setAt(def, path, (p, k) => {
          const target = p[k];
          if (target && typeof target === 'object' && !Array.isArray(target)) target[key] = value;
          else if (Array.isArray(target)) target.push(value);
          else p[k] = { [key]: value };
        });
      case 'duplicate_step':
        return { ...(def as object), steps: [...(def as { steps: unknown[] }).steps, (def as { steps: unknown[] }).steps[at % 2]] };
      case 'proto':
        // JSON.parse makes "__proto__" an own key, as express's parser does.
        return JSON.parse(JSON.stringify(def).replace('"trigger"', `"__proto__":${JSON.stringify(value)},"trigger"`));
    }
  });

const anyDefinition = fc.oneof({ weight: 4, arbitrary: mutatedDefinition }, { weight: 1, arbitrary: smallJson });

describe('definitions', () => {
  it(`POST /v1/workflows: ${RUNS.definitionsSaved} malformed definitions, each refused with 400 (or saved only when the validator finds it valid)`, async () => {
    const before = await rows('workflows');
    let saved = 0;
    await fc.assert(
      fc.asyncProperty(anyDefinition, async (definition) => {
        const res = await api(h, 'POST', '/v1/workflows', { name: 'fuzzed', definition });
        note('POST /v1/workflows', res.status);
        if (jsonProblem(definition, MAX_JSON_DEPTH - 2)) {
          // Refused at the edge, before the validator: PostgreSQL could not store it.
          expectClientError(res, definition);
          expect(res.body.error.code).toMatch(/^(nul_character|json_too_deep)$/);
          return;
        }
        const verdict = validateDefinition(definition, h.registry.catalog);
        if (verdict.ok) {
          if (res.status !== 201) throw new Error(`valid definition answered ${res.status}: ${JSON.stringify(res.body)} for ${JSON.stringify(definition)}`);
          saved++;
          return;
        }
        expectClientError(res, definition);
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe('invalid_definition');
        for (const d of res.body.error.details) expect(d.path).toMatch(/^\/definition(\/|$)/);
      }),
      { numRuns: RUNS.definitionsSaved, seed: SEED },
    );
    expect(await rows('workflows')).toBe(before + saved);
    // The mutations are meant to break: if most came out valid the generator is wrong.
    expect(saved).toBeLessThan(RUNS.definitionsSaved / 4);
  });

  it(`POST /v1/definitions/validate: ${RUNS.definitionsValidated} malformed definitions, the same verdict as the validator, nothing stored`, async () => {
    const before = await rows('workflows');
    await fc.assert(
      fc.asyncProperty(anyDefinition, async (definition) => {
        const res = await post('/v1/definitions/validate', JSON.stringify(definition), { authorization: `Bearer ${h.apiKey}` });
        note('POST /v1/definitions/validate', res.status);
        if (jsonProblem(definition, MAX_JSON_DEPTH - 1)) {
          expectClientError(res, definition);
          return;
        }
        const verdict = validateDefinition(definition, h.registry.catalog);
        expect(res.status).toBe(200);
        expect(res.body.valid).toBe(verdict.ok);
        if (!verdict.ok) expect(res.body.problems.length).toBeGreaterThan(0);
      }),
      { numRuns: RUNS.definitionsValidated, seed: SEED + 1 },
    );
    expect(await rows('workflows')).toBe(before);
  });

  it(`${RUNS.rawBodies} bodies that are not JSON, not objects, or not a workflow: 4xx, nothing stored`, async () => {
    const before = await rows('workflows');
    const rawBody = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ unit: 'binary', maxLength: 200 }),
      smallJson.map((v) => JSON.stringify(v)),
      fc.constantFrom('{"name": "x", "definition": ', '{"name":"x","definition":{"trigger":{"type":"api"},"steps":[{"id":"a","type":"end"}]}}}', '\u0000', '[]', 'null', '"definition"'),
    );
    await fc.assert(
      fc.asyncProperty(rawBody, fc.constantFrom('/v1/workflows', '/v1/definitions/validate'), async (body, path) => {
        const res = await post(path, body, { authorization: `Bearer ${h.apiKey}` });
        note(`raw POST ${path}`, res.status);
        if (path === '/v1/definitions/validate' && res.status === 200) {
          expect(res.body.valid).toBe(false);
          return;
        }
        expectClientError(res, body);
      }),
      { numRuns: RUNS.rawBodies, seed: SEED + 2 },
    );
    expect(await rows('workflows')).toBe(before);
  });
});

// ---------------------------------------------------------------------------------------------
// API trigger input

const INPUT_SCHEMA = {
  type: 'object',
  required: ['inquiryId', 'riskScore'],
  additionalProperties: false,
  properties: {
    inquiryId: { type: 'string', pattern: '^inq_[a-z0-9]+$', maxLength: 40 },
    riskScore: { type: 'integer', minimum: 0, maximum: 100 },
    tags: { type: 'array', items: { type: 'string', maxLength: 20 }, maxItems: 5 },
    address: { type: 'object', required: ['country'], properties: { country: { type: 'string', minLength: 2, maxLength: 2 } } },
    email: { type: 'string', format: 'email' },
  },
} as const;

const validInput = fc.record(
  {
    inquiryId: fc.stringMatching(/^inq_[a-z0-9]{1,20}$/),
    riskScore: fc.integer({ min: 0, max: 100 }),
    tags: fc.array(fc.string({ maxLength: 20 }), { maxLength: 5 }),
    address: fc.record({ country: fc.constantFrom('DE', 'GB', 'US') }),
    email: fc.constantFrom('ada@example.com', 'b.c@example.org'),
  },
  { requiredKeys: ['inquiryId', 'riskScore'] },
);

const notAString = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 }), fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }));

/** A valid input broken in one way, or a body that is no object. Every one of them fails the schema. */
const invalidInput = fc.oneof(
  fc.tuple(validInput, fc.constantFrom('inquiryId', 'riskScore')).map(([v, key]) => {
    const copy: Record<string, unknown> = { ...v };
    delete copy[key];
    return copy;
  }),
  fc.tuple(validInput, fc.oneof(notAString, fc.string().filter((s) => !/^inq_[a-z0-9]+$/.test(s) || s.length > 40))).map(([v, id]) => ({ ...v, inquiryId: id })),
  fc.tuple(validInput, fc.oneof(fc.integer({ min: 101 }), fc.integer({ max: -1 }), fc.double({ noInteger: true, noNaN: true, noDefaultInfinity: true }), fc.string(), fc.constant(null))).map(([v, s]) => ({ ...v, riskScore: s })),
  fc.tuple(validInput, fc.string({ minLength: 1 }).filter((k) => !(k in INPUT_SCHEMA.properties)), smallJson).map(([v, k, x]) => ({ ...v, [k]: x })),
  fc.tuple(validInput, fc.oneof(notAString.filter((x) => !Array.isArray(x)), fc.array(notAString, { minLength: 1, maxLength: 3 }), fc.array(fc.string(), { minLength: 6, maxLength: 8 }))).map(([v, t]) => ({ ...v, tags: t })),
  fc.tuple(validInput, fc.oneof(fc.constant({}), fc.record({ country: fc.string().filter((c) => c.length !== 2) }), notAString.filter((x) => typeof x !== 'object' || x === null || Array.isArray(x)))).map(([v, a]) => ({ ...v, address: a })),
  fc.tuple(validInput, fc.string().filter((s) => !s.includes('@'))).map(([v, e]) => ({ ...v, email: e })),
);

describe('API trigger input', () => {
  it(`${RUNS.triggerInputs} inputs that break the input schema: 400 invalid_input with paths, no run started`, async () => {
    await fc.assert(
      fc.asyncProperty(invalidInput, async (input) => {
        // The generator's promise, checked: every one of these is invalid.
        expect(validateAgainstSchema(INPUT_SCHEMA as never, input).length).toBeGreaterThan(0);
        const res = await api(h, 'POST', `/v1/workflows/${inputWorkflow}/runs`, input);
        note('POST /v1/workflows/:id/runs', res.status);
        expectClientError(res, input);
        expect(res.status).toBe(400);
        expect(res.body.error.code).toMatch(/^(invalid_input|nul_character)$/);
        expect(res.body.error.details.length).toBeGreaterThan(0);
      }),
      { numRuns: RUNS.triggerInputs, seed: SEED + 3 },
    );
    const bodies = ['[1,2]', '"inq_1"', '42', 'null', 'not json', '{"inquiryId": "inq_1", "riskScore": 5', '{"inquiryId":"inq_1","riskScore":5,"__proto__":{"admin":true}}'];
    for (const body of bodies) {
      const res = await post(`/v1/workflows/${inputWorkflow}/runs`, body, { authorization: `Bearer ${h.apiKey}` });
      note('raw POST /v1/workflows/:id/runs', res.status);
      expectClientError(res, body);
    }
    expect(({} as Record<string, unknown>).admin).toBeUndefined();

    // Visibility lags behind starts: start one valid run as a marker, wait until it is listed, and then it must be the only one.
    const marker = await api(h, 'POST', `/v1/workflows/${inputWorkflow}/runs`, { inquiryId: 'inq_marker', riskScore: 1 });
    expect(marker.status).toBe(201);
    const query = `IdwWorkflowId = "${inputWorkflow}"`;
    const deadline = Date.now() + 20_000;
    let count = 0;
    while (Date.now() < deadline) {
      count = (await h.client.workflow.count(query)).count;
      if (count > 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(count).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------
// Event ingress

const validEvent = fc.record(
  {
    id: fc.stringMatching(/^evt_[a-z0-9]{1,30}$/),
    type: fc.constantFrom('inquiry.completed', 'case.resolved', 'report/watchlist.matched'),
    objectType: fc.constantFrom('inquiry', 'case', 'report'),
    objectId: fc.string({ minLength: 1, maxLength: 50 }),
    data: fc.dictionary(fc.string({ maxLength: 10 }), smallJson, { maxKeys: 3 }),
    occurredAt: fc.constant('2026-01-01T00:00:00Z'),
  },
  { requiredKeys: ['id', 'type'] },
);

const badType = fc.oneof(notAString, fc.string().filter((t) => !eventTypeSchema.safeParse(t).success));

/** A valid event broken in one way (each of these fails the ingress schema), or a body that is no object. */
const invalidEvent = fc.oneof(
  fc.tuple(validEvent, fc.oneof(notAString, fc.constant(''), fc.string({ minLength: 201, maxLength: 300 }))).map(([e, id]) => ({ ...e, id })),
  validEvent.map(({ id: _id, ...rest }) => rest),
  validEvent.map(({ type: _type, ...rest }) => rest),
  fc.tuple(validEvent, badType).map(([e, type]) => ({ ...e, type })),
  fc.tuple(validEvent, fc.oneof(notAString, fc.string().filter((s) => !/^[a-z][a-z0-9_/-]{0,63}$/.test(s)))).map(([e, objectType]) => ({ ...e, objectType })),
  fc.tuple(validEvent, fc.oneof(fc.integer(), fc.string(), fc.array(smallJson, { maxLength: 2 }), fc.constant(null))).map(([e, data]) => ({ ...e, data })),
  fc.tuple(validEvent, fc.oneof(fc.integer(), fc.string().filter((s) => Number.isNaN(Date.parse(s)) || !s.includes('T')))).map(([e, occurredAt]) => ({ ...e, occurredAt })),
  fc.tuple(validEvent, fc.string({ minLength: 1 }).filter((k) => !['id', 'type', 'objectType', 'objectId', 'object', 'data', 'occurredAt'].includes(k)), smallJson).map(([e, k, v]) => ({ ...e, [k]: v })),
  fc.oneof(fc.array(smallJson, { maxLength: 3 }), fc.integer(), fc.string(), fc.constant(null), fc.boolean()),
);

const headerText = fc.string({ unit: fc.constantFrom(...'t=v1,0123456789abcdef ;x'.split('')), maxLength: 90 });

describe('event ingress', () => {
  it(`${RUNS.signedEvents} correctly signed but malformed events: 400 with paths, nothing stored`, async () => {
    const before = await rows('events');
    await fc.assert(
      fc.asyncProperty(invalidEvent, async (event) => {
        const body = JSON.stringify(event);
        const res = await post('/v1/events', body, { 'idw-signature': signBody(h.eventsSecret, body) });
        note('signed POST /v1/events', res.status);
        expectClientError(res, event);
        expect(res.status).toBe(400);
      }),
      { numRuns: RUNS.signedEvents, seed: SEED + 4 },
    );
    expect(await rows('events')).toBe(before);
  });

  it(`${RUNS.unsignedEvents} unsigned events, valid or not: 401, nothing stored`, async () => {
    const before = await rows('events');
    await fc.assert(
      fc.asyncProperty(fc.oneof(validEvent, invalidEvent), async (event) => {
        const res = await post('/v1/events', JSON.stringify(event));
        note('unsigned POST /v1/events', res.status);
        expectClientError(res, event);
        expect(res.status).toBe(401);
      }),
      { numRuns: RUNS.unsignedEvents, seed: SEED + 5 },
    );
    expect(await rows('events')).toBe(before);
  });

  it(`${RUNS.badSignatures} valid events with forged, garbled, stale or misplaced signatures: 401, nothing stored`, async () => {
    const before = await rows('events');
    const now = Math.floor(Date.now() / 1000);
    const forgery = fc.oneof(
      headerText,
      fc.string({ minLength: 1, maxLength: 40 }).map((secret) => ({ secret })),
      fc.integer({ min: 301, max: 10_000_000 }).map((age) => ({ age })),
      fc.constant({ otherBody: true }),
    );
    await fc.assert(
      fc.asyncProperty(validEvent, forgery, async (event, forged) => {
        const body = JSON.stringify(event);
        let header: string;
        if (typeof forged === 'string') header = forged;
        else if ('secret' in forged) header = signBody(forged.secret === h.eventsSecret ? `${forged.secret}x` : forged.secret, body);
        else if ('age' in forged) header = signBody(h.eventsSecret, body, now - forged.age);
        else header = signBody(h.eventsSecret, `${body} `);
        const res = await post('/v1/events', body, { 'idw-signature': header });
        note('badly signed POST /v1/events', res.status);
        expectClientError(res, { event, header });
        expect(res.status).toBe(401);
      }),
      { numRuns: RUNS.badSignatures, seed: SEED + 6 },
    );
    expect(await rows('events')).toBe(before);
  });

  it('the service still answers, and a well-formed signed event is still taken', async () => {
    expect((await api(h, 'GET', '/healthz')).status).toBe(200);
    const body = JSON.stringify({ id: 'evt_after_fuzz', type: 'inquiry.completed', objectId: 'inq_1' });
    const res = await post('/v1/events', body, { 'idw-signature': signBody(h.eventsSecret, body) });
    expect(res.status).toBe(202);
  });
});
