/**
 * One outgoing HTTP(S) exchange behind the SSRF guard: every hop (the first
 * request and each redirect, followed by hand) is checked by the guard and
 * connects only to the addresses the guard checked, through a `lookup`
 * that answers with them instead of asking DNS again. One deadline covers
 * DNS, connecting, redirects and reading the body; the body is read up to a
 * size cap and then cut off (`truncated`).
 *
 * Headers meant for the first origin only (an Authorization the step set,
 * a body signature) are not sent to a redirect target on another origin,
 * and a redirect that turns the request into a GET drops the body with them.
 *
 * A credential's headers go with every hop, and every hop must go to one of
 * the credential's allowed hosts: a first URL or a redirect elsewhere fails
 * with CredentialHostError before anything is sent there.
 */
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { rootCertificates } from 'node:tls';
import { hostAllowed } from '../credentials/hosts';
import { CredentialHostError, HttpNetworkError, HttpRequestError, HttpTimeoutError, HttpTlsError, TooManyRedirectsError } from './errors';
import type { Destination, NetworkGuard, ResolvedAddress } from './network-guard';

export interface GuardedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  /** Sent only to the origin of `url`, never to a redirect target elsewhere. */
  originOnlyHeaders?: Record<string, string>;
  /** A credential's headers and the hosts they may go to; every hop must be to one of them. */
  credential?: CredentialHeaders;
  body?: Buffer;
  timeoutMs: number;
  maxResponseBytes: number;
  /** 0: answer a redirect as it is. */
  maxRedirects: number;
  signal?: AbortSignal;
}

export interface CredentialHeaders {
  /** Named in errors (never the secret). */
  id: string;
  headers: Record<string, string>;
  allowedHosts: readonly string[];
}

export interface GuardedResponse {
  status: number;
  statusText: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  truncated: boolean;
  /** The URL that gave this answer, after redirects. */
  url: string;
  redirects: number;
}

export interface TlsTrust {
  /** PEM certificates trusted in addition to the system's roots. */
  ca?: string[];
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Certificate problems: retrying reaches the same certificate. */
const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
]);

export async function sendGuarded(guard: NetworkGuard, request: GuardedRequest, trust: TlsTrust = {}): Promise<GuardedResponse> {
  const deadline = Date.now() + request.timeoutMs;
  const ca = trust.ca && trust.ca.length > 0 ? [...rootCertificates, ...trust.ca] : undefined;
  const firstOrigin = new URL(request.url).origin;
  const firstProtocol = new URL(request.url).protocol;
  let url = new URL(request.url);
  let method = request.method;
  let body = request.body;
  let headers = { ...request.headers };
  let originOnly = request.originOnlyHeaders ?? {};
  for (let redirects = 0; ; redirects++) {
    let response: Omit<GuardedResponse, 'url' | 'redirects'>;
    try {
      const credential = request.credential;
      if (credential && !hostAllowed(credential.allowedHosts, url.hostname)) {
        throw new CredentialHostError(
          `credential "${credential.id}" may only be sent to ${credential.allowedHosts.join(', ')}, not to ${url.hostname}; nothing was sent there (add the host to the credential's allowedHosts if it should be)`,
        );
      }
      // Nor from https down to plain http, even on an allowed (and allow-listed) host.
      if (credential && firstProtocol === 'https:' && url.protocol !== 'https:') {
        throw new CredentialHostError(`credential "${credential.id}" is not sent over plain http after an https request; nothing was sent there`);
      }
      const destination = await withDeadline(guard.check(url), deadline, request.timeoutMs);
      const sentHeaders = { ...headers, ...(url.origin === firstOrigin ? originOnly : {}), ...credential?.headers };
      response = await exchange(destination, { method, headers: sentHeaders, body, deadline, timeoutMs: request.timeoutMs, maxBytes: request.maxResponseBytes, ca, signal: request.signal });
    } catch (err) {
      // Say which hop failed: after a redirect it is not the URL the step gave.
      if (err instanceof HttpRequestError) err.message = `${safeUrl(url)}${redirects > 0 ? ` (after ${redirects} redirect${redirects > 1 ? 's' : ''})` : ''}: ${err.message}`;
      throw err;
    }
    const location = response.headers.location;
    if (!REDIRECTS.has(response.status) || !location || request.maxRedirects === 0) {
      return { ...response, url: url.toString(), redirects };
    }
    if (redirects >= request.maxRedirects) {
      throw new TooManyRedirectsError(`${safeUrl(new URL(request.url))}: more than ${request.maxRedirects} redirects (the last to ${safeUrl(new URL(location, url))})`);
    }
    const next = new URL(location, url);
    // As browsers do: 303 always, and 301/302 after a POST, continue as a GET without the body.
    if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
      if (method !== 'HEAD') method = 'GET';
      body = undefined;
      headers = withoutHeaders(headers, ['content-type', 'content-length']);
      // A body signature signs a body that is no longer sent.
      originOnly = {};
    }
    url = next;
  }
}

interface Exchange {
  method: string;
  headers: Record<string, string>;
  body?: Buffer;
  deadline: number;
  timeoutMs: number;
  maxBytes: number;
  ca?: string[];
  signal?: AbortSignal;
}

function exchange(destination: Destination, ex: Exchange): Promise<Omit<GuardedResponse, 'url' | 'redirects'>> {
  const { url } = destination;
  const remaining = ex.deadline - Date.now();
  if (remaining <= 0) return Promise.reject(timeoutError(ex.timeoutMs));
  const options: RequestOptions & { servername?: string; ca?: string[] } = {
    method: ex.method,
    hostname: destination.hostname,
    port: destination.port,
    path: `${url.pathname}${url.search}`,
    headers: { ...ex.headers, ...(ex.body ? { 'content-length': String(ex.body.length) } : {}) },
    // No pooled sockets: each connection is made to an address checked for this request.
    agent: false,
    lookup: pinnedLookup(destination.addresses),
    signal: ex.signal,
  };
  if (ex.ca) options.ca = ex.ca;
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;

  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const req = send(options, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      res.on('data', (chunk: Buffer) => {
        if (truncated) return;
        const room = ex.maxBytes - size;
        if (chunk.length > room) {
          chunks.push(chunk.subarray(0, room));
          size += room;
          truncated = true;
          // Enough has been read: stop the transfer rather than drain the rest.
          res.destroy();
          finish(() => resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: res.headers, body: Buffer.concat(chunks), truncated }));
          return;
        }
        chunks.push(chunk);
        size += chunk.length;
      });
      res.on('end', () => finish(() => resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: res.headers, body: Buffer.concat(chunks), truncated })));
      res.on('error', (err) => finish(() => reject(describeError(err, ex.timeoutMs))));
      res.on('close', () => {
        if (!res.complete) finish(() => reject(new HttpNetworkError('the connection closed before the response was complete')));
      });
    });
    const timer = setTimeout(() => req.destroy(timeoutError(ex.timeoutMs)), remaining);
    req.on('error', (err) => finish(() => reject(describeError(err, ex.timeoutMs))));
    req.end(ex.body);
  });
}

/** A lookup that answers with the guard's addresses (Node asks for all of them when it tries each family in turn). */
export function pinnedLookup(addresses: ResolvedAddress[]): LookupFunction {
  return ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, addresses.map((a) => ({ address: a.address, family: a.family })));
    else callback(null, addresses[0].address, addresses[0].family);
  }) as unknown as LookupFunction;
}

function describeError(err: unknown, timeoutMs: number): Error {
  if (err instanceof HttpRequestError) return err;
  const e = err as NodeJS.ErrnoException;
  if (e.name === 'AbortError') return e;
  const code = e.code;
  if (code && TLS_CODES.has(code)) return new HttpTlsError(`the server's certificate is not accepted (${code}: ${e.message})`, code);
  if (code === 'ETIMEDOUT') return timeoutError(timeoutMs);
  return new HttpNetworkError(`${code && !e.message.includes(code) ? `${code}: ` : ''}${e.message}`, code);
}

function timeoutError(timeoutMs: number): HttpTimeoutError {
  return new HttpTimeoutError(`no complete response within ${timeoutMs} ms`);
}

/** A URL for messages: origin and path, without the query (which may hold a token). */
export function safeUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

function withoutHeaders(headers: Record<string, string>, names: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !names.includes(k.toLowerCase())));
}

async function withDeadline<T>(work: Promise<T>, deadline: number, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const remaining = Math.max(0, deadline - Date.now());
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(timeoutError(timeoutMs)), remaining);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
