/**
 * Make HTTPS Request (`https_request`) and reusable request templates,
 * behind the SSRF guard (src/http). The workflow has already rendered the
 * step's Liquid and CEL, so params arrive final; the template (if any) and
 * the credential are read here, inside the activity, so the credential's
 * secret never enters workflow history, run state or logs.
 *
 * Retries: an answer of 5xx or 429, a timeout and a network error throw a
 * retryable failure (a Retry-After is honoured as the next retry's delay);
 * a 4xx throws a non-retryable HttpClientError unless the step says
 * `failOn4xx: false`, in which case the answer is the output. Refusals by
 * the guard, certificate problems and too many redirects are not retried.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { credentialForAction, CREDENTIAL_FAILURE_TYPE } from '../credentials/action-credentials';
import { signBody } from '../events/signature';
import { HttpFailureType, HttpRequestError, NON_RETRYABLE_HTTP_FAILURES } from '../http/errors';
import { safeUrl, sendGuarded, type GuardedResponse } from '../http/guarded-request';
import { NetworkGuard } from '../http/network-guard';
import { HTTP_TIMEOUT_LIMITS, mergeHeaders, mergeRequest, REQUEST_TEMPLATE_ID_PATTERN, RequestTemplateStore, requestFields, type RequestSpec, type RequestTemplate } from '../http/request-templates';
import { FailureType, type ActionPolicy } from '../interpreter';
import { defineAction, type ActionContext, type ActionDefinition } from './action-definition';
import type { ActionDeps } from './index';

export const MAX_RESPONSE_BYTES = 256 * 1024;
export const MAX_REDIRECTS = 5;
/** A Retry-After beyond this is cut to it: a run should not sleep for a day on one header. */
export const MAX_RETRY_AFTER_MS = 10 * 60_000;
export const SIGNATURE_HEADER_NAME = 'Idw-Signature';
const USER_AGENT = 'identity-workflows (https_request)';

/** Never sent to a redirect target on another origin, whoever set them. */
const ORIGIN_ONLY_HEADERS = ['authorization', 'proxy-authorization', 'cookie', SIGNATURE_HEADER_NAME.toLowerCase()];
/** Left out of the output: session cookies are secrets the run has no use for. */
const HIDDEN_RESPONSE_HEADERS = new Set(['set-cookie', 'set-cookie2']);

export const HTTPS_REQUEST_POLICY: ActionPolicy = {
  // Above the largest per-attempt timeout (60 s) plus DNS and reading the body.
  startToCloseTimeout: '90s',
  retry: {
    maximumAttempts: 5,
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    nonRetryableErrorTypes: [FailureType.InvalidParams, CREDENTIAL_FAILURE_TYPE, ...NON_RETRYABLE_HTTP_FAILURES],
  },
};

export const httpsRequestParams = z.strictObject({
  /** A request template (rt_...) whose fields this step's fields override. */
  template: z.string().regex(REQUEST_TEMPLATE_ID_PATTERN, 'not a request template id (rt_...)').optional(),
  ...requestFields,
});
type HttpsRequestParams = z.output<typeof httpsRequestParams>;

export interface HttpsResponseOutput {
  status: number;
  statusText: string;
  /** 2xx or 3xx. */
  ok: boolean;
  headers: Record<string, string>;
  /** Parsed JSON when the answer says it is JSON (and is complete), otherwise text; null when empty. */
  body: unknown;
  bodyType: 'json' | 'text' | 'empty';
  truncated: boolean;
  url: string;
  redirects: number;
  durationMs: number;
}

export function httpActions(deps: ActionDeps): ActionDefinition<never>[] {
  const guard = new NetworkGuard({ allowList: deps.network?.allowList ?? [] });
  const templates = new RequestTemplateStore(deps.db);
  const ca = deps.network?.ca;

  const httpsRequest = defineAction({
    name: 'https_request',
    title: 'Make HTTPS request',
    description:
      'Send a GET, POST, PUT, PATCH or DELETE request to a public https URL (or a request template rt_..., overriding its fields) with headers, a JSON or text body, ' +
      'an https credential (headers, bearer token, basic auth) and optionally an Idw-Signature over the body. ' +
      `Output: {status, statusText, ok, headers, body (JSON or text, at most ${MAX_RESPONSE_BYTES / 1024} KB), bodyType, truncated, url, redirects, durationMs}. ` +
      '5xx, 429 (after Retry-After), timeouts and network errors are retried; 4xx fails with HttpClientError unless failOn4xx is false. ' +
      'Private, loopback, link-local and metadata addresses are refused (HttpRequestBlocked), also after redirects. ' +
      "A credential is only sent to the hosts in its allowedHosts, on every hop (CredentialHostNotAllowed otherwise), and a template that carries a credential keeps its URL.",
    params: httpsRequestParams,
    policy: HTTPS_REQUEST_POLICY,
    async run(params, ctx) {
      const template = params.template ? await templates.get(params.template) : undefined;
      if (params.template && !template) {
        throw ApplicationFailure.create({ type: HttpFailureType.TemplateNotFound, message: `no request template "${params.template}"`, nonRetryable: true });
      }
      // A template that carries a credential keeps its URL: otherwise a step could send the template's secret anywhere.
      if (template?.credential && params.url !== undefined) {
        throw ApplicationFailure.create({
          type: FailureType.InvalidParams,
          message: `https_request: url: request template "${template.id}" carries a credential, so a step cannot change its URL (give query, headers or body instead)`,
          nonRetryable: true,
        });
      }
      const spec = mergeRequest(template ? templateRequest(template) : undefined, stepRequest(params));
      return send(spec, ctx);
    },
  });

  async function send(spec: RequestSpec, ctx: ActionContext): Promise<HttpsResponseOutput> {
    const invalid = (message: string) => ApplicationFailure.create({ type: FailureType.InvalidParams, message: `https_request: ${message}`, nonRetryable: true });
    if (!spec.url) throw invalid('give url, or a template that has one');
    const method = spec.method ?? 'GET';
    if (method === 'GET' && spec.body !== undefined) throw invalid('a GET request has no body: set method to POST, PUT, PATCH or DELETE');
    const url = new URL(spec.url);
    for (const [name, value] of Object.entries(spec.query ?? {})) url.searchParams.set(name, String(value));

    let body: Buffer | undefined;
    let contentType: string | undefined;
    if (spec.body !== undefined) {
      body = Buffer.from(typeof spec.body === 'string' ? spec.body : JSON.stringify(spec.body), 'utf8');
      contentType = typeof spec.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json';
    }
    const headers = mergeHeaders(
      { 'user-agent': USER_AGENT, accept: 'application/json, text/plain;q=0.9, */*;q=0.8' },
      contentType ? { 'content-type': contentType } : undefined,
      // Targets that deduplicate see the same key on every retry of this step.
      method !== 'GET' ? { 'idempotency-key': ctx.idempotencyKey } : undefined,
      spec.headers,
    );

    const secret = spec.credential ? await credentialForAction(deps.credentials, spec.credential, 'https') : undefined;
    const fromCredential: Record<string, string> = mergeHeaders(secret?.headers);
    if (secret?.bearerToken) fromCredential.authorization = `Bearer ${secret.bearerToken}`;
    if (secret?.basicAuth) fromCredential.authorization = `Basic ${Buffer.from(`${secret.basicAuth.username}:${secret.basicAuth.password}`).toString('base64')}`;
    let signature: string | undefined;
    if (spec.sign) {
      if (!spec.credential) throw invalid('sign: true needs a credential whose secret has a signingSecret');
      if (!secret?.signingSecret) {
        throw ApplicationFailure.create({ type: CREDENTIAL_FAILURE_TYPE, message: `credential "${spec.credential}" has no signingSecret, which sign: true needs`, nonRetryable: true });
      }
      // Signed at each attempt, so the timestamp is fresh and within the receiver's tolerance.
      signature = signBody(secret.signingSecret, body ?? Buffer.alloc(0));
    }
    const originOnly: Record<string, string> = {};
    for (const name of ORIGIN_ONLY_HEADERS) {
      if (headers[name] !== undefined) {
        originOnly[name] = headers[name];
        delete headers[name];
      }
    }
    for (const name of Object.keys(fromCredential)) {
      delete headers[name];
      delete originOnly[name];
    }
    if (signature !== undefined) originOnly[SIGNATURE_HEADER_NAME.toLowerCase()] = signature;

    const started = Date.now();
    let response: GuardedResponse;
    try {
      response = await sendGuarded(
        guard,
        {
          method,
          url: url.toString(),
          headers,
          originOnlyHeaders: originOnly,
          // Every hop, redirects included, must go to a host the credential names.
          ...(secret && spec.credential ? { credential: { id: spec.credential, headers: fromCredential, allowedHosts: secret.allowedHosts } } : {}),
          body,
          timeoutMs: spec.timeoutMs ?? HTTP_TIMEOUT_LIMITS.defaultMs,
          maxResponseBytes: MAX_RESPONSE_BYTES,
          maxRedirects: spec.followRedirects === false ? 0 : MAX_REDIRECTS,
          signal: ctx.signal,
        },
        { ca },
      );
    } catch (err) {
      if (!(err instanceof HttpRequestError)) throw err;
      throw ApplicationFailure.create({ type: err.type, message: `${method} ${err.message}`, nonRetryable: NON_RETRYABLE_HTTP_FAILURES.includes(err.type) });
    }
    const output = toOutput(response, Date.now() - started);
    ctx.log(`https_request ${method} ${safeUrl(new URL(output.url))} answered ${output.status}`, { status: output.status });

    const status = response.status;
    if (status === 429 || status >= 500) {
      const type = status === 429 ? HttpFailureType.RateLimited : HttpFailureType.ServerError;
      const delay = retryAfterMs(response.headers['retry-after']);
      throw ApplicationFailure.create({
        type,
        message: `${method} ${safeUrl(new URL(output.url))} answered ${status} ${response.statusText}${snippet(output)}`,
        // retryAfterMs repeats nextRetryDelay for a workflow that schedules its own retries.
        details: [{ status, body: truncateForDetails(output.body), ...(delay !== undefined ? { retryAfterMs: delay } : {}) }],
        ...(delay !== undefined ? { nextRetryDelay: delay } : {}),
      });
    }
    if (status >= 400 && spec.failOn4xx !== false) {
      throw ApplicationFailure.create({
        type: HttpFailureType.ClientError,
        message: `${method} ${safeUrl(new URL(output.url))} answered ${status} ${response.statusText}${snippet(output)}`,
        nonRetryable: true,
        details: [{ status, body: truncateForDetails(output.body) }],
      });
    }
    return output;
  }

  return [httpsRequest as ActionDefinition<never>];
}

/** The request fields of a step (everything but the template reference). */
function stepRequest(params: HttpsRequestParams): RequestSpec {
  const { template: _template, ...fields } = params;
  return fields;
}

function templateRequest(template: RequestTemplate): RequestSpec {
  const { id: _id, name: _name, description: _description, createdAt: _c, updatedAt: _u, ...fields } = template;
  return fields;
}

function toOutput(response: GuardedResponse, durationMs: number): HttpsResponseOutput {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value === undefined || HIDDEN_RESPONSE_HEADERS.has(name)) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  let body: unknown = null;
  let bodyType: HttpsResponseOutput['bodyType'] = 'empty';
  if (response.body.length > 0) {
    const text = response.body.toString('utf8');
    body = text;
    bodyType = 'text';
    if (!response.truncated && /[/+]json\b/i.test(headers['content-type'] ?? '')) {
      try {
        body = JSON.parse(text);
        bodyType = 'json';
      } catch {
        // Says JSON but is not: keep the text, which shows what came back.
      }
    }
  }
  return {
    status: response.status,
    statusText: response.statusText,
    ok: response.status >= 200 && response.status < 400,
    headers,
    body,
    bodyType,
    truncated: response.truncated,
    url: response.url,
    redirects: response.redirects,
    durationMs,
  };
}

/** Retry-After as seconds or an HTTP date, in ms, capped; undefined when absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  let ms: number;
  if (/^\s*\d+\s*$/.test(value)) ms = Number(value) * 1000;
  else {
    const at = Date.parse(value);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}

function snippet(output: HttpsResponseOutput): string {
  if (output.body === null) return '';
  const text = typeof output.body === 'string' ? output.body : JSON.stringify(output.body);
  const short = text.length > 300 ? `${text.slice(0, 300)}…` : text;
  return `: ${short}`;
}

function truncateForDetails(body: unknown): unknown {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  if (text === undefined || text.length <= 4096) return body;
  return `${text.slice(0, 4096)}…`;
}
