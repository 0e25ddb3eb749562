/**
 * A real HTTPS server on loopback for the Make HTTPS Request tests, with a
 * self-signed certificate (valid for localhost, peer.test, 127.0.0.1 and
 * ::1) that only the tests trust. Each path is answered by a handler the
 * test sets; every request is recorded with its headers and exact body,
 * so tests count attempts and check what was sent.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import { RequestBlockedError } from '../src/http/errors';
import type { NetworkGuard } from '../src/http/network-guard';

export interface RecordedRequest {
  method: string;
  /** Path and query. */
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  at: number;
}

/** Answers one request; `nth` counts from 1 per path. */
export type PeerHandler = (req: RecordedRequest, res: ServerResponse, nth: number) => void;

export interface HttpsPeer {
  port: number;
  /** https://127.0.0.1:<port> */
  url: string;
  /** The certificate, to trust as a CA. */
  ca: string;
  requests: RecordedRequest[];
  handle(path: string, handler: PeerHandler): void;
  /** Requests to a path (without query), oldest first. */
  hits(path: string): RecordedRequest[];
  close(): Promise<void>;
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export async function startHttpsPeer(): Promise<HttpsPeer> {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 2, value: 'peer.test' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  const handlers = new Map<string, PeerHandler>();
  const counts = new Map<string, number>();
  const requests: RecordedRequest[] = [];
  const pathOf = (p: string) => p.split('?')[0];

  const server: Server = createServer({ key: pems.private, cert: pems.cert }, (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const recorded: RecordedRequest = { method: req.method ?? '', path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks), at: Date.now() };
      requests.push(recorded);
      const path = pathOf(recorded.path);
      const nth = (counts.get(path) ?? 0) + 1;
      counts.set(path, nth);
      const handler = handlers.get(path);
      if (handler) handler(recorded, res, nth);
      else json(res, 404, { error: `no handler for ${path}` });
    });
  });
  // Dual stack where the host has IPv6, so 127.0.0.1, ::1 and localhost all reach it.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: '::', ipv6Only: false }, () => resolve());
  }).catch(
    () =>
      new Promise<void>((resolve) => {
        server.listen(0, '127.0.0.1', () => resolve());
      }),
  );
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `https://127.0.0.1:${port}`,
    ca: pems.cert,
    requests,
    handle: (path, handler) => {
      handlers.set(path, handler);
    },
    hits: (path) => requests.filter((r) => pathOf(r.path) === path),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** What the SSRF guard says of a URL: "allowed", or "blocked: <reason>". */
export async function guardVerdict(guard: NetworkGuard, url: string): Promise<string> {
  try {
    await guard.check(new URL(url));
    return 'allowed';
  } catch (err) {
    if (err instanceof RequestBlockedError) return `blocked: ${err.message}`;
    throw err;
  }
}
