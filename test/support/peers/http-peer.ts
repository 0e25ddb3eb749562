/**
 * The common part of the loopback HTTP peers: a real HTTP server on
 * 127.0.0.1 that records every request exactly as the official client sent
 * it (method, path, query, headers, raw and parsed body) and answers through
 * the service-specific handler. Tests can queue answers for the next
 * requests (`failNext`) to play the service's 401, 404, 429 and 500.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** The body parsed as JSON or as a form, by its content type. */
  body: unknown;
  at: number;
}

export interface PeerResponse {
  status: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string as it is. */
  body?: unknown;
}

export type PeerHandler = (request: RecordedRequest) => PeerResponse;

export class HttpPeer {
  readonly requests: RecordedRequest[] = [];
  private readonly queued: PeerResponse[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(handler: PeerHandler): Promise<HttpPeer> {
    let peer: HttpPeer | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        const rawBody = Buffer.concat(chunks).toString('utf8');
        const recorded: RecordedRequest = {
          method: req.method ?? 'GET',
          path: url.pathname,
          query: Object.fromEntries(url.searchParams.entries()),
          headers: req.headers,
          rawBody,
          body: parseBody(req.headers['content-type'], rawBody),
          at: Date.now(),
        };
        peer!.requests.push(recorded);
        let answer: PeerResponse;
        try {
          answer = peer!.queued.shift() ?? handler(recorded);
        } catch (err) {
          answer = { status: 500, body: { peerError: (err as Error).message } };
        }
        const body = answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
        const headers: Record<string, string> = { ...(typeof answer.body === 'object' && answer.body !== null ? { 'content-type': 'application/json; charset=utf-8' } : {}), ...answer.headers };
        res.writeHead(answer.status, headers);
        res.end(body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    peer = new HttpPeer(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return peer;
  }

  /** The next requests get these answers, in order, instead of the handler's. */
  failNext(...responses: PeerResponse[]): void {
    this.queued.push(...responses);
  }

  reset(): void {
    this.requests.length = 0;
    this.queued.length = 0;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function parseBody(contentType: string | undefined, raw: string): unknown {
  if (!raw) return undefined;
  if (contentType?.includes('application/json')) {
    try {
      return JSON.parse(raw);
    } catch {
      return raw;
    }
  }
  if (contentType?.includes('application/x-www-form-urlencoded')) {
    const form: Record<string, string | string[]> = {};
    for (const [key, value] of new URLSearchParams(raw)) {
      const existing = form[key];
      form[key] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
    }
    return form;
  }
  return raw;
}

/** The credentials of a Basic Authorization header, or undefined. */
export function basicAuth(headers: IncomingHttpHeaders): { user: string; password: string } | undefined {
  const match = /^Basic (.+)$/i.exec(headers.authorization ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** The token of a Bearer Authorization header, or undefined. */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  return /^Bearer (.+)$/i.exec(headers.authorization ?? '')?.[1];
}
