/**
 * Encrypted history, end to end: a run whose input carries a name, a
 * birthdate and an id number leaves none of them in plaintext in Temporal
 * (read raw, through the gRPC API and through the `temporal` CLI, neither
 * of which has our keys), while the API still shows them, and the codec
 * endpoint the Temporal Web UI calls decodes them for an operator.
 */
import { execFileSync } from 'node:child_process';
import type { Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { ensureTemporalCli } from '../temporal/cli';
import { ENCRYPTED_ENCODING, KEY_ID_METADATA } from '../src/codec';
import { createHarness, isClosed, publishWorkflow, startRun, stepOf, waitForRun, TEST_CODEC_TOKEN, type Harness } from './support/harness';

const PII = { name: 'Ada Lovelace', birthdate: '1815-12-10', idNumber: 'GB-ID-99384471' };

let h: Harness;
let runId: string;
let rawPayloads: Payload[];
/** Where each raw payload was found, e.g. `events.4.markerRecordedEventAttributes.details.meta.payloads.0`. */
let rawPaths: string[];

beforeAll(async () => {
  h = await createHarness();
  await publishWorkflow(h, 'screen_person', {
    trigger: {
      type: 'api',
      inputSchema: {
        type: 'object',
        required: ['name', 'birthdate', 'idNumber'],
        properties: { name: { type: 'string' }, birthdate: { type: 'string' }, idNumber: { type: 'string' } },
      },
    },
    steps: [
      { id: 'note', type: 'action', action: 'set_variables', params: { variables: { who: '{{ trigger.name }} ({{ trigger.birthdate }})', document: { $cel: 'trigger.idNumber' } } }, next: 'done' },
      { id: 'done', type: 'end', outcome: 'succeeded', reason: 'screened {{ trigger.name }}', output: { document: { $cel: 'vars.document' } } },
    ],
  });
  runId = await startRun(h, 'screen_person', PII);
  await waitForRun(h, runId, isClosed);
  const { history } = await h.client.workflowService.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId: runId } });
  const found = payloadsIn(history);
  rawPayloads = found.map((f) => f.payload);
  rawPaths = found.map((f) => f.path);
});
afterAll(async () => {
  await h?.close();
});

/** Every Payload in a protobuf object tree (inputs, results, memo, summaries), with where it was. */
function payloadsIn(node: unknown, path = '', found: { path: string; payload: Payload }[] = []): { path: string; payload: Payload }[] {
  if (!node || typeof node !== 'object' || node instanceof Uint8Array) return found;
  const candidate = node as Payload;
  if (candidate.metadata && typeof candidate.metadata === 'object' && candidate.metadata.encoding instanceof Uint8Array) {
    found.push({ path, payload: candidate });
    return found;
  }
  for (const [key, value] of Object.entries(node)) payloadsIn(value, path ? `${path}.${key}` : key, found);
  return found;
}

/**
 * The payloads that stay plaintext by design, neither holding PII:
 * search attributes (the server indexes them: workflow id, version, trigger
 * type, object ids, and the SDK's TemporalChangeVersion patch list), and
 * what Temporal's core SDK writes into markers itself: a local activity
 * marker's `data` (sequence number, attempt, activity type, times; its
 * `result` is ours and encrypted) and a patch marker's `patch-data`.
 */
const PLAINTEXT_BY_DESIGN = [/\.searchAttributes\.indexedFields\.(Idw\w+|TemporalChangeVersion)$/, /^events\.\d+\.markerRecordedEventAttributes\.details\.(data|patch-data)\.payloads\.\d+$/];

const toJson = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v!).toString('base64')])),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

async function codec(path: string, body: unknown, token: string | null = TEST_CODEC_TOKEN, headers: Record<string, string> = {}) {
  const res = await fetch(`${h.baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

describe('a run with PII in its input', () => {
  it('shows the values through the API (the client decrypts)', async () => {
    const run = await waitForRun(h, runId, isClosed);
    expect(run.status).toBe('completed');
    expect(run.state.reason).toBe('screened Ada Lovelace');
    expect(stepOf(run, 'note').output).toEqual({ who: 'Ada Lovelace (1815-12-10)', document: 'GB-ID-99384471' });
  });

  it('encrypts every payload of the raw history from the gRPC API with the current key', () => {
    const ours = rawPaths.map((path, i) => ({ path, payload: rawPayloads[i] })).filter(({ path }) => !PLAINTEXT_BY_DESIGN.some((re) => re.test(path)));
    // Input, memo, summaries, activity parameters and results (local and not), the workflow's result.
    expect(ours.map((o) => o.path)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/workflowExecutionStartedEventAttributes\.input\.payloads\.0$/),
        expect.stringMatching(/workflowExecutionStartedEventAttributes\.memo\.fields\./),
        expect.stringMatching(/workflowExecutionCompletedEventAttributes\.result\.payloads\.0$/),
      ]),
    );
    for (const { path, payload } of ours) {
      expect({ path, encoding: Buffer.from(payload.metadata!.encoding!).toString(), key: Buffer.from(payload.metadata![KEY_ID_METADATA] ?? []).toString() }).toEqual({
        path,
        encoding: ENCRYPTED_ENCODING,
        key: 'test-2',
      });
    }
  });

  it('leaves no plaintext PII in the bytes of the history, nor in what the temporal CLI shows', async () => {
    const { history } = await h.client.workflowService.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId: runId } });
    const bytes = Buffer.from(temporal.api.history.v1.History.encode(history!).finish());
    const cli = await ensureTemporalCli({ log: () => undefined });
    const shown = execFileSync(cli, ['workflow', 'show', '--workflow-id', runId, '--output', 'json', '--address', h.address, '--namespace', 'default'], {
      maxBuffer: 64 * 1024 * 1024,
    }).toString();
    expect(shown).toContain(Buffer.from(ENCRYPTED_ENCODING).toString('base64'));
    for (const value of Object.values(PII)) {
      expect(bytes.includes(Buffer.from(value))).toBe(false);
      expect(bytes.includes(Buffer.from(value.split(' ')[0]))).toBe(false);
      expect(shown).not.toContain(value);
      // The CLI prints payload data base64-encoded when it cannot read it; look there too.
      expect(shown).not.toContain(Buffer.from(JSON.stringify(value)).toString('base64').slice(0, 12));
    }
  });

  it('decodes the history through the codec endpoint, where the PII is found', async () => {
    const res = await codec('/codec/decode', { payloads: rawPayloads.map(toJson) }, TEST_CODEC_TOKEN, { 'x-namespace': 'default' });
    expect(res.status).toBe(200);
    expect(res.body.payloads).toHaveLength(rawPayloads.length);
    const decoded = res.body.payloads.map((p: { metadata: Record<string, string>; data: string }) => ({
      encoding: Buffer.from(p.metadata.encoding, 'base64').toString(),
      text: Buffer.from(p.data ?? '', 'base64').toString(),
    }));
    expect(decoded.every((p: { encoding: string }) => p.encoding !== ENCRYPTED_ENCODING)).toBe(true);
    const all = decoded.map((p: { text: string }) => p.text).join('\n');
    for (const value of Object.values(PII)) expect(all).toContain(value);
    expect(all).toContain('Ada Lovelace (1815-12-10)');
  });
});

describe('the codec endpoint', () => {
  const sample = { payloads: [{ metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from(JSON.stringify(PII)).toString('base64') }] };

  it('encodes, and decodes what it encoded', async () => {
    const encoded = await codec('/codec/encode', sample);
    expect(encoded.status).toBe(200);
    expect(Buffer.from(encoded.body.payloads[0].metadata.encoding, 'base64').toString()).toBe(ENCRYPTED_ENCODING);
    expect(Buffer.from(encoded.body.payloads[0].data, 'base64').toString('latin1')).not.toContain('Ada');
    const decoded = await codec('/codec/decode', encoded.body);
    expect(decoded.body).toEqual(sample);
  });

  it('accepts the token as the first path segment (how the Web UI, which cannot send a header, is configured)', async () => {
    const encoded = await codec(`/codec/${TEST_CODEC_TOKEN}/encode`, sample, null);
    expect(encoded.status).toBe(200);
    const decoded = await codec(`/codec/${TEST_CODEC_TOKEN}/decode`, encoded.body, null);
    expect(decoded.body).toEqual(sample);
  });

  it('refuses requests without the token, with a wrong one, or with another API credential', async () => {
    for (const [path, token] of [
      ['/codec/decode', null],
      ['/codec/decode', 'wrong-token'],
      ['/codec/decode', h.apiKey],
      ['/codec/wrong-token/decode', null],
    ] as const) {
      const res = await codec(path, sample, token);
      expect({ path, token, status: res.status, code: res.body.error?.code }).toEqual({ path, token, status: 401, code: 'unauthenticated' });
    }
  });

  it('answers a bad body with 400 and the path of the problem, and undecryptable data with 400', async () => {
    const bad = await codec('/codec/decode', { payloads: [{ metadata: { encoding: 'not base64!' } }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].path).toBe('/payloads/0/metadata/encoding');
    const forged = await codec('/codec/decode', {
      payloads: [{ metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING).toString('base64'), [KEY_ID_METADATA]: Buffer.from('test-2').toString('base64') }, data: Buffer.alloc(40).toString('base64') }],
    });
    expect(forged.status).toBe(400);
    expect(forged.body.error.code).toBe('codec_failed');
  });

  it('answers the Web UI origin\'s CORS preflight (with X-Namespace) without a token, and no other origin', async () => {
    const preflight = await fetch(`${h.baseUrl}/codec/decode`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:8233', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace,authorization' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase().split(',')).toEqual(expect.arrayContaining(['content-type', 'x-namespace', 'authorization']));
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');

    const actual = await codec('/codec/decode', sample, TEST_CODEC_TOKEN, { origin: 'http://localhost:8233', 'x-namespace': 'default' });
    expect(actual.status).toBe(200);
    expect(actual.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');

    const other = await fetch(`${h.baseUrl}/codec/decode`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
