/**
 * SSRF attempts that test/http-request-guard.test.ts and
 * test/http-request.e2e.test.ts do not already make: every other way of
 * writing an internal address (decimal, octal, hex and short IPv4 forms,
 * IPv4-mapped and -compatible IPv6), names that resolve to internal
 * addresses (IPv6 loopback, mapped loopback, unspecified, CGNAT, ULA),
 * more schemes, and redirects to a name that resolves inside, to IPv6
 * loopback and to non-https schemes. Then the same forms inside a run of
 * Make HTTPS Request (one for_each item per URL, none retried) and as a
 * webhook subscriber's URL.
 */
import { HttpFailureType, HttpRequestError, RequestBlockedError } from '../src/http/errors';
import { sendGuarded } from '../src/http/guarded-request';
import { NetworkGuard, type HostResolver } from '../src/http/network-guard';
import { api, createHarness, publishWorkflow, startRun, waitForRun, isClosed, stepOf, type Harness } from './support/harness';
import { guardVerdict as verdict, startHttpsPeer, type HttpsPeer } from './http-request-peer';

/** Internal targets written the ways a URL parser accepts; each must come out as the address it names. */
const DISGUISED_ADDRESSES: [string, RegExp][] = [
  ['https://2130706433/', /127\.0\.0\.1 is a loopback address/],
  ['https://0177.0.0.1/', /127\.0\.0\.1 is a loopback address/],
  ['https://017700000001/', /127\.0\.0\.1 is a loopback address/],
  ['https://0x7f.0x0.0x0.0x1/', /127\.0\.0\.1 is a loopback address/],
  ['https://127.1/', /127\.0\.0\.1 is a loopback address/],
  ['https://0/', /0\.0\.0\.0 is an unspecified address/],
  ['https://167772161/', /10\.0\.0\.1 is a private address/],
  ['https://0x0a.1/', /10\.0\.0\.1 is a private address/],
  ['https://0300.0250.0.1/', /192\.168\.0\.1 is a private address/],
  ['https://2852039166/latest/meta-data/', /169\.254\.169\.254 is a cloud metadata address/],
  ['https://0251.0376.0251.0376/', /169\.254\.169\.254 is a cloud metadata address/],
  ['https://[::ffff:7f00:1]/', /a loopback address/],
  ['https://[0:0:0:0:0:ffff:127.0.0.1]/', /a loopback address/],
  ['https://[::ffff:a9fe:a9fe]/', /::ffff:a9fe:a9fe is a cloud metadata address/],
  ['https://[::ffff:10.0.0.1]/', /a private address/],
  ['https://[0:0:0:0:0:0:0:1]/', /a loopback address/],
  ['https://[::127.0.0.1]/', /::7f00:1 is an IPv4-compatible IPv6 address/],
  ['https://[::10.0.0.1]/', /an IPv4-compatible IPv6 address/],
  ['https://[fec0::1]/', /a special-purpose address \(deprecatedSiteLocal\)/],
  ['https://[2002:7f00:1::]/', /a 6to4 address/],
  ['https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/', /a Teredo address/],
  ['https://127.0.0.1.:8443/', /127\.0\.0\.1 is a loopback address/],
];

describe('the guard, with an empty allow-list', () => {
  const guard = new NetworkGuard({ allowList: [] });

  it.each(DISGUISED_ADDRESSES)('refuses %s', async (url, reason) => {
    expect(await verdict(guard, url)).toMatch(reason);
  });

  it.each([
    ['gopher://example.com:70/_GET', 'gopher:'],
    ['dict://example.com:2628/d:x', 'dict:'],
    ['ws://example.com/socket', 'ws:'],
    ['wss://example.com/socket', 'wss:'],
    ['data:text/plain,hello', 'data:'],
    ['javascript:alert(1)', 'javascript:'],
    ['ldap://example.com/', 'ldap:'],
    ['jar:https://example.com/x.jar!/', 'jar:'],
  ])('refuses the scheme of %s', async (url, scheme) => {
    expect(await verdict(guard, url)).toBe(`blocked: only https URLs may be requested, not ${scheme}`);
  });

  it.each([
    ['only IPv6 loopback', [{ address: '::1', family: 6 }], /resolves to ::1, a loopback address/],
    ['IPv4-mapped loopback', [{ address: '::ffff:127.0.0.1', family: 6 }], /resolves to ::ffff:127\.0\.0\.1, a loopback address/],
    ['the unspecified address', [{ address: '0.0.0.0', family: 4 }], /resolves to 0\.0\.0\.0, an unspecified address/],
    ['a private address', [{ address: '192.168.7.7', family: 4 }], /resolves to 192\.168\.7\.7, a private address/],
    ['carrier-grade NAT', [{ address: '100.100.100.200', family: 4 }], /a carrier-grade NAT \(shared\) address/],
    ['a unique-local IPv6 address', [{ address: 'fd12::1', family: 6 }], /a unique-local \(private IPv6\) address/],
    ['a public address and IPv6 loopback', [{ address: '93.184.215.14', family: 4 }, { address: '::1', family: 6 }], /resolves to ::1, a loopback address/],
  ] as [string, { address: string; family: 4 | 6 }[], RegExp][])('refuses a name that resolves to %s', async (_what, answers, reason) => {
    const resolve: HostResolver = async () => answers;
    expect(await verdict(new NetworkGuard({ allowList: [], resolve }), 'https://innocent.example/hook')).toMatch(reason);
  });

  it('an allow-listed loopback IPv4 does not open IPv6 loopback, mapped or not, nor the rest of 127/8', async () => {
    const g = new NetworkGuard({ allowList: ['127.0.0.1'] });
    expect(await verdict(g, 'https://[::1]/')).toMatch(/::1 is a loopback address/);
    expect(await verdict(g, 'https://127.0.0.2/')).toMatch(/127\.0\.0\.2 is a loopback address/);
    // The mapped form is the same IPv4 address: listed.
    expect(await verdict(g, 'https://[::ffff:127.0.0.1]/')).toBe('allowed');
    expect(await verdict(g, 'https://2130706433/')).toBe('allowed');
  });
});

describe('redirects from a reachable peer', () => {
  let peer: HttpsPeer;
  // peer.test is the allow-listed loopback peer; inside.test resolves to a private address.
  const resolve: HostResolver = async (name) => (name === 'inside.test' ? [{ address: '10.20.30.40', family: 4 }] : [{ address: '127.0.0.1', family: 4 }]);
  const guard = () => new NetworkGuard({ allowList: ['127.0.0.1'], resolve });

  beforeAll(async () => {
    peer = await startHttpsPeer();
    const redirect = (location: string) => (_req: unknown, res: { writeHead: (s: number, h: Record<string, string>) => void; end: () => void }) => {
      res.writeHead(302, { location });
      res.end();
    };
    peer.handle('/to-inside-name', redirect('https://inside.test/admin'));
    peer.handle('/to-ipv6-loopback', redirect('https://[::1]/admin'));
    peer.handle('/to-decimal', redirect('https://2852039166/latest/meta-data/'));
    peer.handle('/to-file', redirect('file:///etc/passwd'));
    peer.handle('/to-gopher', redirect('gopher://127.0.0.1:6379/_FLUSHALL'));
    peer.handle('/to-plain-http', redirect('http://inside.test/admin'));
  });
  afterAll(async () => {
    await peer?.close();
  });

  it.each([
    ['/to-inside-name', /inside\.test resolves to 10\.20\.30\.40, a private address/],
    ['/to-ipv6-loopback', /::1 is a loopback address/],
    ['/to-decimal', /169\.254\.169\.254 is a cloud metadata address/],
    ['/to-file', /only https URLs may be requested, not file:/],
    ['/to-gopher', /only https URLs may be requested, not gopher:/],
    ['/to-plain-http', /plain http is only allowed for allow-listed hosts|a private address/],
  ])('refuses the hop after %s', async (path, reason) => {
    let failure: HttpRequestError | undefined;
    try {
      await sendGuarded(guard(), { method: 'GET', url: `https://peer.test:${peer.port}${path}`, headers: {}, timeoutMs: 5000, maxResponseBytes: 1024, maxRedirects: 5 }, { ca: [peer.ca] });
    } catch (err) {
      failure = err as HttpRequestError;
    }
    expect(failure).toBeInstanceOf(RequestBlockedError);
    expect(failure!.type).toBe(HttpFailureType.RequestBlocked);
    expect(failure!.message).toMatch(/\(after 1 redirect\)/);
    expect(failure!.message).toMatch(reason);
  });
});

describe('inside a run, and as a webhook destination', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  // The harness allow-lists loopback for its local peers, so these name the other internal ranges.
  const urls = [
    'https://167772161/',
    'https://0x0a.1/',
    'https://0300.0250.0.1/',
    'https://2852039166/latest/meta-data/',
    'https://[::ffff:a9fe:a9fe]/',
    'https://[::ffff:10.0.0.1]/',
    'https://[fd00::1]/',
    'https://[fe80::1]/',
    'https://0/',
    'ftp://example.com/',
  ];

  it('Make HTTPS Request refuses each form, at once and without retrying', async () => {
    await publishWorkflow(h, 'ssrf_forms', {
      trigger: { type: 'api' },
      steps: [
        {
          id: 'each',
          type: 'for_each',
          items: 'trigger.urls',
          as: 'target',
          concurrency: 5,
          onItemError: 'continue',
          steps: [{ id: 'call', type: 'action', action: 'https_request', params: { method: 'GET', url: { $cel: 'target' } } }],
        },
      ],
    });
    const runId = await startRun(h, 'ssrf_forms', { urls });
    const run = await waitForRun(h, runId, isClosed);
    const output = stepOf(run, 'each').output;
    expect(output.failed).toBe(urls.length);
    // ftp:// does not even pass the action's parameters; every other form reaches the guard.
    expect(output.errors.map((e: { index: number; type: string }) => [e.index, e.type])).toEqual(urls.map((_, i) => [i, i === 9 ? 'InvalidActionParams' : 'HttpRequestBlocked']));
    const messages = output.errors.map((e: { message: string }) => e.message);
    expect(messages[0]).toMatch(/10\.0\.0\.1 is a private address/);
    expect(messages[3]).toMatch(/169\.254\.169\.254 is a cloud metadata address/);
    expect(messages[6]).toMatch(/a unique-local/);
    expect(messages[8]).toMatch(/0\.0\.0\.0 is an unspecified address/);
    // Not retried: one attempt per item.
    const history = await h.client.workflow.getHandle(runId).fetchHistory();
    const attempts = history.events!.filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt);
    expect(attempts.every((a) => a === 1)).toBe(true);
  });

  it('a webhook subscriber at any of these forms is refused when saved', async () => {
    for (const url of urls) {
      const res = await api(h, 'POST', '/v1/webhooks', { url, eventTypes: ['*'] });
      expect(res.status).toBe(400);
      expect(res.body.error.details[0].path).toBe('/url');
    }
    expect((await api(h, 'GET', '/v1/webhooks')).body.webhooks).toEqual([]);
  });
});
