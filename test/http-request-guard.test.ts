/**
 * The SSRF guard and the guarded client, without Temporal: which
 * destinations are refused (and why), what the operator's allow-list
 * opens, that connections go to the addresses the guard checked (not to
 * a second DNS answer), that redirects are checked hop by hop and lose
 * their credentials across origins, and the client's limits (redirect
 * count, response size, deadline). The peer is a real HTTPS server on
 * loopback with a self-signed certificate.
 */
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signBody, verifySignature } from '../src/events/signature';
import { HttpFailureType, HttpRequestError } from '../src/http/errors';
import { sendGuarded } from '../src/http/guarded-request';
import { NetworkGuard, type HostResolver } from '../src/http/network-guard';
import { retryAfterMs, MAX_RETRY_AFTER_MS } from '../src/activities/http-actions';
import { guardVerdict as verdict, json, startHttpsPeer, type HttpsPeer } from './http-request-peer';

describe('NetworkGuard with an empty allow-list', () => {
  const guard = new NetworkGuard({ allowList: [] });

  it.each([
    ['http://example.com/hook', /plain http is only allowed for allow-listed hosts/],
    ['ftp://example.com/file', /only https URLs may be requested, not ftp:/],
    ['file:///etc/passwd', /only https URLs may be requested, not file:/],
    ['https://user:pw@example.com/', /may not carry user:password/],
    ['https://127.0.0.1/', /127\.0\.0\.1 is a loopback address/],
    ['https://127.8.9.10:8443/', /127\.8\.9\.10 is a loopback address/],
    ['https://[::1]/', /::1 is a loopback address/],
    ['https://[::ffff:127.0.0.1]/', /is a loopback address/],
    ['https://10.1.2.3/', /10\.1\.2\.3 is a private address/],
    ['https://172.16.0.1/', /a private address/],
    ['https://192.168.1.1/', /a private address/],
    ['https://169.254.169.254/latest/meta-data/', /169\.254\.169\.254 is a cloud metadata address/],
    ['https://[fd00:ec2::254]/', /fd00:ec2::254 is a cloud metadata address/],
    ['https://169.254.1.1/', /a link-local address/],
    ['https://[fe80::1]/', /a link-local address/],
    ['https://[fd12:3456::1]/', /a unique-local \(private IPv6\) address/],
    ['https://100.64.0.1/', /a carrier-grade NAT \(shared\) address/],
    ['https://224.0.0.1/', /a multicast address/],
    ['https://0.0.0.0/', /an unspecified address/],
    ['https://[::]/', /an unspecified address/],
    ['https://255.255.255.255/', /the broadcast address/],
    ['https://[64:ff9b::a00:1]/', /a NAT64 address/],
    ['https://0x7f000001/', /127\.0\.0\.1 is a loopback address/],
  ])('refuses %s', async (url, reason) => {
    expect(await verdict(guard, url)).toMatch(reason);
  });

  it('resolves a name itself and refuses it when it points at loopback (localhost, not allow-listed)', async () => {
    expect(await verdict(guard, 'https://localhost:8443/hook')).toMatch(/^blocked: localhost resolves to (127\.0\.0\.1|::1), a loopback address/);
    expect(await verdict(guard, 'https://LOCALHOST./hook')).toMatch(/localhost resolves to/);
  });

  it('refuses a name when any one of its addresses is private, even if another is public', async () => {
    const mixed: HostResolver = async () => [
      { address: '93.184.215.14', family: 4 },
      { address: '10.0.0.7', family: 4 },
    ];
    const g = new NetworkGuard({ allowList: [], resolve: mixed });
    expect(await verdict(g, 'https://partly-internal.example/')).toBe('blocked: partly-internal.example resolves to 10.0.0.7, a private address; only an operator\'s network allow-list can open it');
  });

  it('allows https to a name whose addresses are all public, and hands back exactly those addresses', async () => {
    const publicOnly: HostResolver = async () => [
      { address: '93.184.215.14', family: 4 },
      { address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 },
    ];
    const g = new NetworkGuard({ allowList: [], resolve: publicOnly });
    const destination = await g.check(new URL('https://api.example.com:8443/v1?x=1'));
    expect(destination).toMatchObject({ hostname: 'api.example.com', port: 8443, allowListed: false });
    expect(destination.addresses.map((a) => a.address)).toEqual(['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c']);
    expect(await verdict(guard, 'https://8.8.8.8/')).toBe('allowed');
  });
});

describe('NetworkGuard allow-list', () => {
  it('opens listed hosts, addresses and ranges (http too), and nothing else', async () => {
    const internal: HostResolver = async (name) => [{ address: name === 'hooks.corp.example' ? '10.20.0.5' : '10.99.0.1', family: 4 }];
    const g = new NetworkGuard({ allowList: ['hooks.corp.example', '*.svc.example', '192.168.50.0/24', '::1', ' 127.0.0.1 '], resolve: internal });
    expect(await verdict(g, 'https://hooks.corp.example/x')).toBe('allowed');
    expect(await verdict(g, 'http://hooks.corp.example/x')).toBe('allowed');
    expect(await verdict(g, 'https://a.svc.example/')).toBe('allowed');
    expect(await verdict(g, 'https://svc.example/')).toMatch(/svc\.example resolves to 10\.99\.0\.1, a private address/);
    expect(await verdict(g, 'https://192.168.50.7/')).toBe('allowed');
    expect(await verdict(g, 'http://192.168.50.7/')).toBe('allowed');
    expect(await verdict(g, 'https://192.168.51.7/')).toMatch(/a private address/);
    expect(await verdict(g, 'https://[::1]:9000/')).toBe('allowed');
    expect(await verdict(g, 'https://127.0.0.1:9000/')).toBe('allowed');
    expect(await verdict(g, 'https://127.0.0.2/')).toMatch(/a loopback address/);
    expect(await verdict(g, 'http://[::ffff:192.168.50.9]/')).toBe('allowed');
  });

  it('opens a metadata address only when that exact IP is listed, not through a range or a name', async () => {
    const toMetadata: HostResolver = async () => [{ address: '169.254.169.254', family: 4 }];
    const byRange = new NetworkGuard({ allowList: ['169.254.0.0/16', 'metadata.internal'], resolve: toMetadata });
    expect(await verdict(byRange, 'https://169.254.169.254/')).toMatch(/a cloud metadata address/);
    expect(await verdict(byRange, 'https://metadata.internal/')).toMatch(/metadata\.internal resolves to 169\.254\.169\.254, a cloud metadata address/);
    expect(await verdict(byRange, 'https://169.254.10.10/')).toBe('allowed');
    const exact = new NetworkGuard({ allowList: ['169.254.169.254'] });
    expect(await verdict(exact, 'https://169.254.169.254/')).toBe('allowed');
  });

  it('refuses to start with an entry that is not a host, an IP or a CIDR range', () => {
    expect(() => new NetworkGuard({ allowList: ['not a host'] })).toThrow('network allow-list: "not a host" is not a host name, an IP address or a CIDR range');
    expect(() => new NetworkGuard({ allowList: ['10.0.0.0/99'] })).toThrow('"10.0.0.0/99" is not a valid CIDR range');
  });
});

describe('guarded requests to a real HTTPS peer', () => {
  let peer: HttpsPeer;
  const loopbackOnly = () => new NetworkGuard({ allowList: ['127.0.0.1'] });
  const send = (guard: NetworkGuard, url: string, extra: Partial<Parameters<typeof sendGuarded>[1]> = {}) =>
    sendGuarded(guard, { method: 'GET', url, headers: {}, timeoutMs: 5000, maxResponseBytes: 64 * 1024, maxRedirects: 5, ...extra }, { ca: [peer.ca] });
  const failureOf = async (work: Promise<unknown>): Promise<{ type: string; message: string }> => {
    try {
      await work;
    } catch (err) {
      if (err instanceof HttpRequestError) return { type: err.type, message: err.message };
      throw err;
    }
    throw new Error('expected the request to fail');
  };

  beforeAll(async () => {
    peer = await startHttpsPeer();
    peer.handle('/hello', (_req, res) => json(res, 200, { hello: 'world' }));
    peer.handle('/to-private', (_req, res) => {
      res.writeHead(302, { location: 'https://10.0.0.1/internal' });
      res.end();
    });
    peer.handle('/to-metadata', (_req, res) => {
      res.writeHead(307, { location: 'https://169.254.169.254/latest/meta-data/iam/' });
      res.end();
    });
    peer.handle('/loop', (_req, res, nth) => {
      res.writeHead(302, { location: `/loop?n=${nth}` });
      res.end();
    });
    peer.handle('/to-other-origin', (_req, res) => {
      res.writeHead(307, { location: `https://localhost:${peer.port}/landing` });
      res.end();
    });
    peer.handle('/to-same-origin', (_req, res) => {
      res.writeHead(308, { location: '/landing' });
      res.end();
    });
    peer.handle('/see-other', (_req, res) => {
      res.writeHead(303, { location: '/landing' });
      res.end();
    });
    peer.handle('/landing', (req, res) => json(res, 200, { method: req.method, bodyLength: req.body.length }));
    peer.handle('/big', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('x'.repeat(200 * 1024));
    });
    peer.handle('/slow', (_req, res) => {
      setTimeout(() => json(res, 200, { late: true }), 3000).unref();
    });
  });
  afterAll(async () => {
    await peer?.close();
  });

  it('connects to the address the guard checked, never asking DNS again (a name only the guard can resolve reaches the peer)', async () => {
    // peer.test exists in no DNS: only the guard's resolver knows it, so the connection must use the guard's answer.
    const resolver: HostResolver = async (name) => (name === 'peer.test' ? [{ address: '127.0.0.1', family: 4 }] : []);
    const guard = new NetworkGuard({ allowList: ['127.0.0.1'], resolve: resolver });
    const res = await send(guard, `https://peer.test:${peer.port}/hello`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toEqual({ hello: 'world' });
    expect(peer.hits('/hello').at(-1)!.headers.host).toBe(`peer.test:${peer.port}`);
  });

  it('reaches an allow-listed IPv6 literal, and plain http only on an allow-listed host', async () => {
    const v6 = await send(new NetworkGuard({ allowList: ['::1'] }), `https://[::1]:${peer.port}/hello`);
    expect(JSON.parse(v6.body.toString())).toEqual({ hello: 'world' });
    const plain = createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('plain http');
    });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', () => resolve()));
    const port = (plain.address() as AddressInfo).port;
    try {
      const res = await send(loopbackOnly(), `http://127.0.0.1:${port}/`);
      expect(res.body.toString()).toBe('plain http');
      expect(await failureOf(send(new NetworkGuard({ allowList: ['::1'] }), `http://127.0.0.1:${port}/`))).toMatchObject({ type: HttpFailureType.RequestBlocked });
    } finally {
      await new Promise<void>((resolve) => plain.close(() => resolve()));
    }
  });

  it('a credential goes with every hop on its allowed hosts, and never to another host or down to plain http (finding 4)', async () => {
    const plain = createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('plain http');
    });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', () => resolve()));
    const plainPort = (plain.address() as AddressInfo).port;
    let plainHits = 0;
    plain.on('request', () => plainHits++);
    peer.handle('/to-plain', (_req, res) => {
      res.writeHead(302, { location: `http://127.0.0.1:${plainPort}/` });
      res.end();
    });
    peer.handle('/to-localhost', (_req, res) => {
      res.writeHead(302, { location: `https://localhost:${peer.port}/hello` });
      res.end();
    });
    const credential = { id: 'cred_test', headers: { authorization: 'Bearer hop-SECRET' }, allowedHosts: ['127.0.0.1'] };
    const guard = new NetworkGuard({ allowList: ['127.0.0.1', 'localhost'] });
    try {
      // Same host, https to plain http (the host is allow-listed for http): refused before connecting.
      expect(await failureOf(send(guard, `${peer.url}/to-plain`, { credential }))).toEqual({
        type: HttpFailureType.CredentialHostNotAllowed,
        message: `http://127.0.0.1:${plainPort}/ (after 1 redirect): credential "cred_test" is not sent over plain http after an https request; nothing was sent there`,
      });
      expect(plainHits).toBe(0);
      // Another host name for the same peer: refused, and the peer sees only the first request.
      const before = peer.hits('/hello').length;
      expect(await failureOf(send(guard, `${peer.url}/to-localhost`, { credential }))).toMatchObject({ type: HttpFailureType.CredentialHostNotAllowed });
      expect(peer.hits('/hello').length).toBe(before);
      expect(peer.hits('/to-localhost').at(-1)!.headers.authorization).toBe('Bearer hop-SECRET');
      // Allowed on both hosts: the credential goes with both hops.
      const res = await send(guard, `${peer.url}/to-localhost`, { credential: { ...credential, allowedHosts: ['127.0.0.1', 'localhost'] } });
      expect(res.status).toBe(200);
      expect(peer.hits('/hello').at(-1)!.headers.authorization).toBe('Bearer hop-SECRET');
    } finally {
      await new Promise<void>((resolve) => plain.close(() => resolve()));
    }
  });

  it('re-checks every redirect: an allowed peer cannot send the request on to a private or metadata address', async () => {
    expect(await failureOf(send(loopbackOnly(), `${peer.url}/to-private`))).toEqual({
      type: HttpFailureType.RequestBlocked,
      message: "https://10.0.0.1/internal (after 1 redirect): 10.0.0.1 is a private address; only an operator's network allow-list can open it",
    });
    expect(await failureOf(send(loopbackOnly(), `${peer.url}/to-metadata`))).toMatchObject({ type: HttpFailureType.RequestBlocked, message: expect.stringContaining('169.254.169.254 is a cloud metadata address') });
  });

  it('follows at most 5 redirects', async () => {
    const failure = await failureOf(send(loopbackOnly(), `${peer.url}/loop`));
    expect(failure.type).toBe(HttpFailureType.TooManyRedirects);
    expect(failure.message).toMatch(/more than 5 redirects/);
    const followed = await send(loopbackOnly(), `${peer.url}/loop`, { maxRedirects: 0 });
    expect(followed).toMatchObject({ status: 302, redirects: 0 });
  });

  it('sends credentials and signatures to the first origin only, and turns a 303 into a GET without the body', async () => {
    const guard = new NetworkGuard({ allowList: ['127.0.0.1', 'localhost'] });
    const body = Buffer.from('{"a":1}');
    const originOnlyHeaders = { authorization: 'Bearer only-for-the-first-origin', 'idw-signature': signBody('s3cret', body) };
    const sameOrigin = await send(guard, `${peer.url}/to-same-origin`, { method: 'POST', body, headers: { 'content-type': 'application/json' }, originOnlyHeaders });
    expect(sameOrigin).toMatchObject({ status: 200, redirects: 1 });
    const landedSame = peer.hits('/landing').at(-1)!;
    expect(landedSame.headers.authorization).toBe('Bearer only-for-the-first-origin');
    expect(verifySignature('s3cret', landedSame.headers['idw-signature'] as string, landedSame.body)).toEqual({ ok: true });

    const otherOrigin = await send(guard, `${peer.url}/to-other-origin`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-kept': 'yes' }, originOnlyHeaders });
    expect(otherOrigin.url).toBe(`https://localhost:${peer.port}/landing`);
    const landedOther = peer.hits('/landing').at(-1)!;
    expect(landedOther.headers.authorization).toBeUndefined();
    expect(landedOther.headers['idw-signature']).toBeUndefined();
    expect(landedOther.headers['x-kept']).toBe('yes');
    expect(landedOther.method).toBe('POST');
    expect(landedOther.body.toString()).toBe('{"a":1}');

    const seeOther = await send(guard, `${peer.url}/see-other`, { method: 'POST', body, headers: { 'content-type': 'application/json' }, originOnlyHeaders });
    expect(JSON.parse(seeOther.body.toString())).toEqual({ method: 'GET', bodyLength: 0 });
    expect(peer.hits('/landing').at(-1)!.headers['content-type']).toBeUndefined();
  });

  it('reads at most the size cap and says it cut the body', async () => {
    const res = await send(loopbackOnly(), `${peer.url}/big`, { maxResponseBytes: 10_000 });
    expect(res).toMatchObject({ status: 200, truncated: true });
    expect(res.body.length).toBe(10_000);
  });

  it('gives up at the deadline', async () => {
    const started = Date.now();
    const failure = await failureOf(send(loopbackOnly(), `${peer.url}/slow`, { timeoutMs: 300 }));
    expect(failure).toEqual({ type: HttpFailureType.Timeout, message: `${peer.url}/slow: no complete response within 300 ms` });
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it('does not trust the self-signed peer without its CA', async () => {
    const failure = await failureOf(sendGuarded(loopbackOnly(), { method: 'GET', url: `${peer.url}/hello`, headers: {}, timeoutMs: 5000, maxResponseBytes: 1024, maxRedirects: 0 }));
    expect(failure.type).toBe(HttpFailureType.TlsError);
    expect(failure.message).toMatch(/certificate is not accepted/);
  });

  it('reports a refused connection as a (retryable) network error', async () => {
    const closed = await startHttpsPeer();
    const port = closed.port;
    await closed.close();
    const failure = await failureOf(send(loopbackOnly(), `https://127.0.0.1:${port}/`));
    expect(failure.type).toBe(HttpFailureType.NetworkError);
    expect(failure.message).toMatch(/ECONNREFUSED/);
  });
});

describe('Retry-After', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it.each([
    ['3', 3000],
    [' 0 ', 0],
    ['Thu, 01 Jan 2026 00:00:10 GMT', 10_000],
    ['Wed, 31 Dec 2025 23:59:00 GMT', 0],
    ['86400', MAX_RETRY_AFTER_MS],
    ['soon', undefined],
    [undefined, undefined],
  ])('%j -> %j ms', (header, expected) => {
    expect(retryAfterMs(header, now)).toBe(expected);
  });
});
