/**
 * Make HTTPS Request end to end: published workflows run on the real
 * Temporal dev server, and their https_request steps call a real HTTPS
 * server on loopback (self-signed; trusted only through the test network
 * policy's CA, reachable only because the harness allow-lists loopback).
 * Covers methods, headers and bodies rendered from the run, credentials
 * (bearer, basic, headers) and body signatures, the response as output,
 * retries (5xx, 429 with Retry-After, timeouts) against 4xx that are not
 * retried, the size cap, request templates, the SSRF guard inside a run,
 * and that a credential's secret appears nowhere in run state, history or
 * API answers.
 */
import { verifySignature } from '../src/events/signature';
import { api, createHarness, decryptedHistory, isClosed, publishWorkflow, startRun, stepOf, waitForRun, type Harness } from './support/harness';
import { json, startHttpsPeer, type HttpsPeer } from './http-request-peer';

let h: Harness;
let peer: HttpsPeer;

beforeAll(async () => {
  peer = await startHttpsPeer();
  h = await createHarness({ network: { ca: [peer.ca] } });

  peer.handle('/echo', (req, res) => {
    const text = req.body.toString();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // a text body stays text
    }
    // Deliberately not echoing Authorization: the output must not carry secrets the peer was sent.
    json(res, 200, { method: req.method, path: req.path, contentType: req.headers['content-type'] ?? null, inquiry: req.headers['x-inquiry'] ?? null, body }, { 'x-peer': 'yes', 'set-cookie': 'session=abc' });
  });
  peer.handle('/flaky', (_req, res, nth) => (nth <= 2 ? json(res, 503, { error: 'warming up' }) : json(res, 200, { ok: true, nth })));
  peer.handle('/busy', (_req, res, nth) => (nth === 1 ? json(res, 429, { error: 'slow down' }, { 'retry-after': '3' }) : json(res, 200, { ok: true })));
  peer.handle('/missing', (_req, res) => json(res, 404, { error: 'no such applicant' }));
  peer.handle('/slow', (_req, res) => {
    setTimeout(() => json(res, 200, { late: true }), 2000).unref();
  });
  peer.handle('/large', (_req, res) => json(res, 200, { filler: 'y'.repeat(300 * 1024) }));
  peer.handle('/text', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('plain words');
  });
  peer.handle('/to-private', (_req, res) => {
    res.writeHead(302, { location: 'https://10.0.0.1/admin' });
    res.end();
  });
  peer.handle('/hook', (_req, res) => json(res, 202, { received: true }));
  // The attacker's endpoint: whatever reaches it was sent where it should not have been.
  peer.handle('/steal', (_req, res) => json(res, 200, { stolen: true }));
  // The partner (reached as localhost) sends the client on to another host (the same peer as 127.0.0.1).
  peer.handle('/partner-moved', (_req, res) => {
    res.writeHead(307, { location: `https://127.0.0.1:${peer.port}/steal` });
    res.end();
  });
  peer.handle('/partner-next', (_req, res) => {
    res.writeHead(302, { location: '/hook' });
    res.end();
  });
});
afterAll(async () => {
  await h?.close();
  await peer?.close();
});

let counter = 0;
/** Publish a one-or-more-step workflow of https_request steps, run it to the end, return the run. */
async function runSteps(steps: { id: string; params: Record<string, unknown>; retry?: Record<string, unknown> }[], input: Record<string, unknown> = {}): Promise<{ runId: string; run: any }> {
  const id = `http_${++counter}_${Date.now().toString(36)}`;
  const chained = steps.map((s, i) => ({
    id: s.id,
    type: 'action',
    action: 'https_request',
    params: s.params,
    ...(s.retry ? { retry: s.retry } : {}),
    ...(steps[i + 1] ? { next: steps[i + 1].id } : {}),
  }));
  await publishWorkflow(h, id, { trigger: { type: 'api' }, steps: chained });
  const runId = await startRun(h, id, input);
  return { runId, run: await waitForRun(h, runId, isClosed, 90_000) };
}

/** An https credential; it may be sent to the peer (127.0.0.1) unless `allowedHosts` says otherwise. */
async function createCredential(name: string, secret: Record<string, unknown>): Promise<string> {
  const res = await api(h, 'POST', '/v1/credentials', { kind: 'https', name, secret: { allowedHosts: ['127.0.0.1'], ...secret } });
  if (res.status !== 201) throw new Error(`credential: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

/** The run's whole history as text, payloads decoded (protobuf's toJSON gives their bytes as base64). */
async function historyText(runId: string): Promise<string> {
  const history = await decryptedHistory(h, runId);
  return JSON.stringify(history, (key, value) => {
    if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
    if ((key === 'data' || key === 'encoding') && typeof value === 'string') return Buffer.from(value, 'base64').toString('utf8');
    return value;
  });
}

describe('requests and responses', () => {
  it('GET with query and headers rendered from the run; the JSON answer is the step output', async () => {
    const { runId, run } = await runSteps(
      [{ id: 'lookup', params: { url: `${peer.url}/echo`, query: { inquiry: '{{ trigger.inquiryId }}', page: 2 }, headers: { 'X-Inquiry': '{{ trigger.inquiryId }}' } } }],
      { inquiryId: 'inq_42' },
    );
    expect(run.status).toBe('completed');
    const output = stepOf(run, 'lookup').output;
    expect(output).toMatchObject({
      status: 200,
      statusText: 'OK',
      ok: true,
      bodyType: 'json',
      truncated: false,
      redirects: 0,
      body: { method: 'GET', contentType: null, inquiry: 'inq_42', body: null },
    });
    // (Query order follows the stored definition, which PostgreSQL's jsonb does not keep.)
    const url = new URL(output.url);
    expect([url.origin + url.pathname, url.searchParams.get('inquiry'), url.searchParams.get('page')]).toEqual([`${peer.url}/echo`, 'inq_42', '2']);
    expect(output.body.path).toBe(`${url.pathname}${url.search}`);
    expect(output.headers['x-peer']).toBe('yes');
    expect(output.headers['content-type']).toBe('application/json');
    expect(output.headers['set-cookie']).toBeUndefined();
    const sent = peer.hits('/echo').at(-1)!;
    expect(sent.headers['user-agent']).toBe('identity-workflows (https_request)');
    expect(sent.headers['idempotency-key']).toBeUndefined();
    // The Temporal UI shows the step as an activity named after the action.
    expect(await historyText(runId)).toContain('"name":"https_request"');
  });

  it('POST, PUT, PATCH and DELETE with JSON and text bodies, each with the step\'s idempotency key', async () => {
    const { runId, run } = await runSteps(
      [
        { id: 'create', params: { method: 'POST', url: `${peer.url}/echo`, body: { inquiryId: '{{ trigger.inquiryId }}', score: { $cel: 'trigger.score' }, tags: ['kyc'] } } },
        { id: 'replace', params: { method: 'PUT', url: `${peer.url}/echo`, body: 'plain {{ trigger.inquiryId }}' } },
        { id: 'patch', params: { method: 'PATCH', url: `${peer.url}/echo`, body: '{"raw": true}', headers: { 'Content-Type': 'application/merge-patch+json' } } },
        { id: 'remove', params: { method: 'DELETE', url: `${peer.url}/echo` } },
      ],
      { inquiryId: 'inq_7', score: 88 },
    );
    expect(run.status).toBe('completed');
    expect(stepOf(run, 'create').output.body).toEqual({ method: 'POST', path: '/echo', contentType: 'application/json', inquiry: null, body: { inquiryId: 'inq_7', score: 88, tags: ['kyc'] } });
    expect(stepOf(run, 'replace').output.body).toMatchObject({ method: 'PUT', contentType: 'text/plain; charset=utf-8', body: 'plain inq_7' });
    expect(stepOf(run, 'patch').output.body).toMatchObject({ method: 'PATCH', contentType: 'application/merge-patch+json', body: { raw: true } });
    expect(stepOf(run, 'remove').output.body).toMatchObject({ method: 'DELETE', body: null });
    const sent = peer.requests.filter((r) => r.headers['idempotency-key']?.toString().startsWith(`${runId}:`));
    expect(sent.map((r) => [r.method, r.headers['idempotency-key']])).toEqual([
      ['POST', `${runId}:create`],
      ['PUT', `${runId}:replace`],
      ['PATCH', `${runId}:patch`],
      ['DELETE', `${runId}:remove`],
    ]);
  });

  it('a text answer is text; a body over 256 KB is cut and flagged', async () => {
    const { run } = await runSteps([
      { id: 'text', params: { url: `${peer.url}/text` } },
      { id: 'large', params: { url: `${peer.url}/large` } },
    ]);
    expect(stepOf(run, 'text').output).toMatchObject({ bodyType: 'text', body: 'plain words', truncated: false });
    const large = stepOf(run, 'large').output;
    expect(large).toMatchObject({ status: 200, bodyType: 'text', truncated: true });
    expect(large.body).toHaveLength(256 * 1024);
  });
});

describe('credentials and signatures', () => {
  it('applies bearer, basic and header credentials and signs the exact body; no secret reaches run state, history or the API', async () => {
    const secrets = { bearer: 'bearer-SECRET-4f1c', password: 'basic-PASSWORD-9a2e', apiKey: 'header-KEY-77b0', signing: 'signing-SECRET-c3d9' };
    const bearer = await createCredential('bearer', { bearerToken: secrets.bearer, signingSecret: secrets.signing });
    const basic = await createCredential('basic', { basicAuth: { username: 'svc', password: secrets.password } });
    const headers = await createCredential('headers', { headers: { 'X-Api-Key': secrets.apiKey } });

    const { runId, run } = await runSteps([
      { id: 'signed', params: { method: 'POST', url: `${peer.url}/hook`, credential: bearer, sign: true, body: { event: 'inquiry.approved', id: '{{ trigger.inquiryId }}' } } },
      { id: 'basic', params: { url: `${peer.url}/echo`, credential: basic } },
      { id: 'keyed', params: { method: 'POST', url: `${peer.url}/echo`, credential: headers, body: 'x' } },
    ], { inquiryId: 'inq_sig' });
    expect(run.status).toBe('completed');
    expect(stepOf(run, 'signed').output).toMatchObject({ status: 202, body: { received: true } });

    const hook = peer.hits('/hook').at(-1)!;
    expect(hook.headers.authorization).toBe(`Bearer ${secrets.bearer}`);
    expect(JSON.parse(hook.body.toString())).toEqual({ event: 'inquiry.approved', id: 'inq_sig' });
    expect(verifySignature(secrets.signing, hook.headers['idw-signature'] as string, hook.body)).toEqual({ ok: true });
    expect(verifySignature('another secret', hook.headers['idw-signature'] as string, hook.body).ok).toBe(false);
    const [basicHit, keyedHit] = peer.hits('/echo').slice(-2);
    expect(basicHit.headers.authorization).toBe(`Basic ${Buffer.from(`svc:${secrets.password}`).toString('base64')}`);
    expect(keyedHit.headers['x-api-key']).toBe(secrets.apiKey);

    const history = await historyText(runId);
    const state = JSON.stringify((await api(h, 'GET', `/v1/runs/${runId}`)).body);
    const credentialsApi = JSON.stringify((await api(h, 'GET', '/v1/credentials')).body);
    // The search does see what the run was given and got (credential ids, URLs, outputs)...
    expect(history).toContain(bearer);
    expect(history).toContain(`${peer.url}/hook`);
    expect(state).toContain(`${peer.url}/echo`);
    expect(credentialsApi).toContain(basic);
    // ...and none of the secrets, in any form they were sent in.
    const forms = [...Object.values(secrets), Buffer.from(`svc:${secrets.password}`).toString('base64')];
    for (const secret of forms) {
      expect(history).not.toContain(secret);
      expect(state).not.toContain(secret);
      expect(credentialsApi).not.toContain(secret);
    }
  });

  it('a missing credential, one of the wrong kind, or signing without a signingSecret fails the step at once (not retried)', async () => {
    const noSigning = await createCredential('no signing', { bearerToken: 't' });
    const slack = (await api(h, 'POST', '/v1/credentials', { kind: 'slack', name: 's', secret: { token: 'xoxb-1' } })).body.id;
    const before = peer.hits('/hook').length;
    for (const [params, message] of [
      [{ url: `${peer.url}/hook`, credential: 'cred_gone' }, 'no credential "cred_gone"'],
      [{ url: `${peer.url}/hook`, credential: slack }, `credential "${slack}" is of kind slack; this step needs one of kind https`],
      [{ method: 'POST', url: `${peer.url}/hook`, credential: noSigning, sign: true, body: {} }, `credential "${noSigning}" has no signingSecret, which sign: true needs`],
    ] as const) {
      const { run } = await runSteps([{ id: 'call', params }]);
      expect(run.status).toBe('failed');
      expect(stepOf(run, 'call').error).toEqual({ type: 'CredentialError', message });
    }
    expect(peer.hits('/hook').length).toBe(before);
  });
});

describe('a credential goes only to its allowed hosts (finding 4)', () => {
  const partnerSecret = 'partner-SECRET-8d41';
  /** The partner is localhost; the attacker's URL is 127.0.0.1 (the same loopback peer, another host name). */
  const partnerUrl = () => `https://localhost:${peer.port}`;

  it('a step with its own URL and the partner\'s credential does not deliver the secret there: CredentialHostNotAllowed, nothing sent', async () => {
    const partner = await createCredential('partner only', { allowedHosts: ['localhost'], bearerToken: partnerSecret, headers: { 'X-Api-Key': partnerSecret } });
    const before = peer.hits('/steal').length;
    const { run } = await runSteps([{ id: 'exfiltrate', params: { method: 'POST', url: `${peer.url}/steal`, credential: partner, body: { x: 1 } } }]);
    expect(run.status).toBe('failed');
    expect(stepOf(run, 'exfiltrate').error).toEqual({
      type: 'CredentialHostNotAllowed',
      message: `POST ${peer.url}/steal: credential "${partner}" may only be sent to localhost, not to 127.0.0.1; nothing was sent there (add the host to the credential's allowedHosts if it should be)`,
    });
    // Not retried, and no request at all reached the other host.
    expect(peer.hits('/steal').length).toBe(before);
    expect(peer.requests.some((r) => JSON.stringify(r.headers).includes(partnerSecret))).toBe(false);
  });

  it('the same credential reaches its own host, also after a redirect that stays there', async () => {
    const partner = await createCredential('partner', { allowedHosts: ['LOCALHOST.'], bearerToken: partnerSecret });
    const { run } = await runSteps([{ id: 'call', params: { method: 'POST', url: `${partnerUrl()}/partner-next`, credential: partner, body: { ok: true } } }]);
    expect(run.status).toBe('completed');
    expect(stepOf(run, 'call').output).toMatchObject({ status: 202, redirects: 1 });
    expect(peer.hits('/partner-next').at(-1)!.headers.authorization).toBe(`Bearer ${partnerSecret}`);
    expect(peer.hits('/hook').at(-1)!.headers.authorization).toBe(`Bearer ${partnerSecret}`);
  });

  it('a redirect from the allowed host to another host fails the step before anything is sent there', async () => {
    const partner = await createCredential('partner redirects', { allowedHosts: ['localhost'], bearerToken: partnerSecret });
    const before = peer.hits('/steal').length;
    const { run } = await runSteps([{ id: 'call', params: { method: 'POST', url: `${partnerUrl()}/partner-moved`, credential: partner, body: { applicant: 'x' } } }]);
    expect(run.status).toBe('failed');
    expect(stepOf(run, 'call').error.type).toBe('CredentialHostNotAllowed');
    expect(stepOf(run, 'call').error.message).toBe(
      `POST ${peer.url}/steal (after 1 redirect): credential "${partner}" may only be sent to localhost, not to 127.0.0.1; nothing was sent there (add the host to the credential's allowedHosts if it should be)`,
    );
    expect(peer.hits('/partner-moved').at(-1)!.headers.authorization).toBe(`Bearer ${partnerSecret}`);
    expect(peer.hits('/partner-moved')).toHaveLength(1);
    expect(peer.hits('/steal').length).toBe(before);
  });

  it('a template that carries a credential keeps its URL: a step overriding it is refused, nothing sent', async () => {
    const partner = await createCredential('partner template', { allowedHosts: ['localhost', '127.0.0.1'], bearerToken: partnerSecret });
    const template = await api(h, 'POST', '/v1/request-templates', { name: 'Partner', method: 'POST', url: `${partnerUrl()}/hook`, credential: partner });
    expect(template.status).toBe(201);
    const before = peer.requests.length;
    const { run } = await runSteps([{ id: 'call', params: { template: template.body.id, url: `${peer.url}/steal`, body: { x: 1 } } }]);
    expect(run.status).toBe('failed');
    expect(stepOf(run, 'call').error).toEqual({
      type: 'InvalidActionParams',
      message: `https_request: url: request template "${template.body.id}" carries a credential, so a step cannot change its URL (give query, headers or body instead)`,
    });
    expect(peer.requests.length).toBe(before);

    // Without the override the template works, with the step's query on the template's URL.
    const ok = await runSteps([{ id: 'call', params: { template: template.body.id, query: { n: 1 }, body: { x: 1 } } }]);
    expect(ok.run.status).toBe('completed');
    expect(peer.hits('/hook').at(-1)!.headers.authorization).toBe(`Bearer ${partnerSecret}`);
  });

  it('a template is refused when saved with a URL its credential may not go to, and a credential without allowedHosts is refused', async () => {
    const partner = await createCredential('partner tpl host', { allowedHosts: ['localhost'], bearerToken: partnerSecret });
    const wrongHost = await api(h, 'POST', '/v1/request-templates', { name: 'x', url: `${peer.url}/steal`, credential: partner });
    expect(wrongHost.status).toBe(400);
    expect(wrongHost.body.error.details).toEqual([{ path: '/url', message: `credential "${partner}" may only be sent to localhost, not to 127.0.0.1` }]);

    const noHosts = await api(h, 'POST', '/v1/credentials', { kind: 'https', name: 'anywhere', secret: { bearerToken: partnerSecret } });
    expect(noHosts.status).toBe(400);
    expect(noHosts.body.error.details.map((d: { path: string }) => d.path)).toEqual(['/secret/allowedHosts']);
    const badHosts = await api(h, 'POST', '/v1/credentials', { kind: 'https', name: 'bad', secret: { allowedHosts: [], bearerToken: 't' } });
    expect(badHosts.body.error.details).toEqual([{ path: '/secret/allowedHosts', message: 'name at least one host this credential may be sent to' }]);
    const notAHost = await api(h, 'POST', '/v1/credentials', { kind: 'https', name: 'bad', secret: { allowedHosts: ['https://partner.example/'], bearerToken: 't' } });
    expect(notAHost.body.error.details.map((d: { path: string }) => d.path)).toEqual(['/secret/allowedHosts/0']);
  });
});

describe('retries', () => {
  it('retries a 5xx answer and succeeds on the third attempt', async () => {
    const { run } = await runSteps([{ id: 'call', params: { url: `${peer.url}/flaky` } }]);
    expect(run.status).toBe('completed');
    expect(stepOf(run, 'call').output).toMatchObject({ status: 200, body: { ok: true, nth: 3 } });
    expect(peer.hits('/flaky')).toHaveLength(3);
  });

  it('waits as long as a 429 answer\'s Retry-After says before trying again', async () => {
    const { runId, run } = await runSteps([{ id: 'call', params: { url: `${peer.url}/busy` } }]);
    expect(run.status).toBe('completed');
    expect(stepOf(run, 'call').output).toMatchObject({ status: 200, body: { ok: true } });
    // The failed attempt asked for its retry in 3 s (ApplicationFailure.nextRetryDelay)...
    const history = await h.client.workflow.getHandle(runId).fetchHistory();
    const rateLimited = history.events!.map((e) => e.activityTaskFailedEventAttributes?.failure).find((f) => f?.applicationFailureInfo?.type === 'HttpRateLimited');
    expect(Number(rateLimited?.applicationFailureInfo?.nextRetryDelay?.seconds)).toBe(3);
    // ...and the retry came no sooner.
    const [first, second] = peer.hits('/busy');
    expect(peer.hits('/busy')).toHaveLength(2);
    // Retry-After: 3, against a policy whose first retry would come after 1 s.
    expect(second.at - first.at).toBeGreaterThanOrEqual(2900);
  });

  it('does not retry a 4xx: HttpClientError after one request; with failOn4xx: false the answer is the output', async () => {
    const failed = await runSteps([{ id: 'call', params: { url: `${peer.url}/missing` } }]);
    expect(failed.run.status).toBe('failed');
    expect(stepOf(failed.run, 'call').error).toEqual({ type: 'HttpClientError', message: `GET ${peer.url}/missing answered 404 Not Found: {"error":"no such applicant"}` });
    expect(peer.hits('/missing')).toHaveLength(1);

    const tolerated = await runSteps([{ id: 'call', params: { url: `${peer.url}/missing`, failOn4xx: false } }]);
    expect(tolerated.run.status).toBe('completed');
    expect(stepOf(tolerated.run, 'call').output).toMatchObject({ status: 404, ok: false, body: { error: 'no such applicant' } });
    expect(peer.hits('/missing')).toHaveLength(2);
  });

  it('times out each attempt, retries, and fails with HttpTimeout when the step\'s attempts are used up', async () => {
    const started = Date.now();
    const { run } = await runSteps([{ id: 'call', params: { url: `${peer.url}/slow`, timeoutMs: 300 }, retry: { attempts: 2 } }]);
    expect(run.status).toBe('failed');
    expect(stepOf(run, 'call').error.type).toBe('HttpTimeout');
    expect(stepOf(run, 'call').error.message).toMatch(new RegExp(`^GET ${peer.url}/slow: no complete response within 300 ms`));
    expect(peer.hits('/slow')).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});

describe('request templates', () => {
  it('a template defined once is used by steps that override its body and headers', async () => {
    const credential = await createCredential('partner', { bearerToken: 'tpl-bearer', signingSecret: 'tpl-signing' });
    const template = await api(h, 'POST', '/v1/request-templates', {
      name: 'Partner decisions',
      method: 'POST',
      url: `${peer.url}/hook`,
      headers: { 'X-Template': 'partner', 'X-Channel': 'default' },
      credential,
      sign: true,
    });
    expect(template.status).toBe(201);
    const { run } = await runSteps(
      [
        { id: 'approved', params: { template: template.body.id, body: { decision: 'approved', inquiryId: '{{ trigger.inquiryId }}' } } },
        { id: 'declined', params: { template: template.body.id, body: { decision: 'declined' }, headers: { 'x-channel': 'escalation' }, query: { priority: 'high' } } },
      ],
      { inquiryId: 'inq_tpl' },
    );
    expect(run.status).toBe('completed');
    const [approved, declined] = peer.hits('/hook').slice(-2);
    expect(approved).toMatchObject({ method: 'POST', path: '/hook' });
    expect(JSON.parse(approved.body.toString())).toEqual({ decision: 'approved', inquiryId: 'inq_tpl' });
    expect(approved.headers).toMatchObject({ 'x-template': 'partner', 'x-channel': 'default', authorization: 'Bearer tpl-bearer' });
    expect(declined.path).toBe('/hook?priority=high');
    expect(declined.headers).toMatchObject({ 'x-template': 'partner', 'x-channel': 'escalation' });
    for (const hit of [approved, declined]) expect(verifySignature('tpl-signing', hit.headers['idw-signature'] as string, hit.body)).toEqual({ ok: true });
  });

  it('a step naming a template that does not exist fails with RequestTemplateNotFound', async () => {
    const { run } = await runSteps([{ id: 'call', params: { template: 'rt_doesnotexist', body: {} } }]);
    expect(run.status).toBe('failed');
    expect(stepOf(run, 'call').error).toEqual({ type: 'RequestTemplateNotFound', message: 'no request template "rt_doesnotexist"' });
  });
});

describe('the SSRF guard inside a run', () => {
  it('refuses the metadata address, plain http to an unlisted host, and a redirect from the peer to a private address, without retrying', async () => {
    const metadata = await runSteps([{ id: 'call', params: { url: 'https://169.254.169.254/latest/meta-data/iam/security-credentials/' } }]);
    expect(stepOf(metadata.run, 'call').error).toEqual({
      type: 'HttpRequestBlocked',
      message: 'GET https://169.254.169.254/latest/meta-data/iam/security-credentials/: 169.254.169.254 is a cloud metadata address',
    });
    const plain = await runSteps([{ id: 'call', params: { url: 'http://10.1.1.1/hook' } }]);
    expect(stepOf(plain.run, 'call').error.type).toBe('HttpRequestBlocked');
    expect(stepOf(plain.run, 'call').error.message).toMatch(/10\.1\.1\.1 is a private address/);

    const redirected = await runSteps([{ id: 'call', params: { url: `${peer.url}/to-private` } }]);
    expect(redirected.run.status).toBe('failed');
    expect(stepOf(redirected.run, 'call').error).toEqual({
      type: 'HttpRequestBlocked',
      message: "GET https://10.0.0.1/admin (after 1 redirect): 10.0.0.1 is a private address; only an operator's network allow-list can open it",
    });
    expect(peer.hits('/to-private')).toHaveLength(1);
  });
});

describe('validation when the workflow is saved', () => {
  it('rejects bad static params with their paths', async () => {
    const res = await api(h, 'POST', '/v1/workflows', {
      name: 'bad request',
      definition: {
        trigger: { type: 'api' },
        steps: [{ id: 'call', type: 'action', action: 'https_request', params: { method: 'TRACE', url: 'gopher://x', timeoutMs: 0, credential: 'secret-token', headers: { Host: 'x' } } }],
      },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual([
      '/definition/steps/0/params/credential',
      '/definition/steps/0/params/headers/Host',
      '/definition/steps/0/params/method',
      '/definition/steps/0/params/timeoutMs',
      '/definition/steps/0/params/url',
    ]);
  });

  it('a GET with a body, or no URL and no template, fails the step with InvalidActionParams', async () => {
    const withBody = await runSteps([{ id: 'call', params: { url: `${peer.url}/echo`, body: { a: 1 } } }]);
    expect(stepOf(withBody.run, 'call').error).toEqual({ type: 'InvalidActionParams', message: 'https_request: a GET request has no body: set method to POST, PUT, PATCH or DELETE' });
    const noUrl = await runSteps([{ id: 'call', params: { method: 'POST' } }]);
    expect(stepOf(noUrl.run, 'call').error).toEqual({ type: 'InvalidActionParams', message: 'https_request: give url, or a template that has one' });
  });
});
