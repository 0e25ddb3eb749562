/**
 * The SSRF guard for outgoing requests: decides whether this service may
 * reach a URL, after resolving its host name itself, and hands back the
 * addresses it checked so the connection goes to exactly those (a second
 * DNS answer, "rebinding" to an internal address, is never used).
 *
 * Allowed: https to hosts whose every address is publicly routable unicast.
 * Refused: other schemes; plain http; user:password in the URL; any
 * address that is private, loopback, link-local, unique-local, CGNAT,
 * multicast, broadcast, unspecified, reserved, or one of the special IPv6
 * ranges that embed or translate to IPv4 (NAT64, 6to4, Teredo). Cloud
 * metadata endpoints are named as such.
 *
 * The operator's allow-list makes exceptions. Entries are host names
 * (`hooks.internal`, or `*.corp.example` for its subdomains), IP addresses
 * or CIDR ranges. A listed host name may resolve to anything and may use
 * http; an address inside a listed IP or range is allowed (also over http
 * when every address of the host is listed). A metadata address is only
 * reachable when listed as that exact IP, never through a name or a range.
 */
import { lookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';
import { HttpNetworkError, RequestBlockedError } from './errors';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has (tests hand in their own). */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

export interface Destination {
  url: URL;
  /** The host as a connection wants it: a name, or an IP without brackets. */
  hostname: string;
  port: number;
  /** Every address the host resolved to; all were checked, the connection uses only these. */
  addresses: ResolvedAddress[];
  /** The allow-list, not public routing, let this through. */
  allowListed: boolean;
}

type Address = ipaddr.IPv4 | ipaddr.IPv6;

interface AllowList {
  hosts: Set<string>;
  /** `*.example.com` entries, kept as ".example.com". */
  suffixes: string[];
  ranges: [Address, number][];
  /** Exact addresses, which alone may open a metadata endpoint. */
  exact: Address[];
}

/** Cloud instance metadata (AWS, GCP, Azure, OpenStack; AWS over IPv6). */
const METADATA_ADDRESSES = ['169.254.169.254', 'fd00:ec2::254'].map((a) => ipaddr.parse(a).toNormalizedString());

const RANGE_NAMES: Record<string, string> = {
  private: 'a private address',
  loopback: 'a loopback address',
  linkLocal: 'a link-local address',
  uniqueLocal: 'a unique-local (private IPv6) address',
  carrierGradeNat: 'a carrier-grade NAT (shared) address',
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
  unspecified: 'an unspecified address',
  reserved: 'a reserved address',
  rfc6052: 'a NAT64 address (it translates to IPv4)',
  '6to4': 'a 6to4 address (it embeds IPv4)',
  teredo: 'a Teredo address (it embeds IPv4)',
  ipv4Compatible: 'an IPv4-compatible IPv6 address (deprecated; it embeds IPv4)',
};

/** ::a.b.c.d (::/96 but :: and ::1): ipaddr.js calls it unicast, but hosts with an automatic tunnel send it to the IPv4 address. */
function rangeOf(ip: Address): string {
  const range = ip.range();
  if (range === 'unicast' && ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).parts.slice(0, 6).every((p) => p === 0)) return 'ipv4Compatible';
  return range;
}

export const systemResolver: HostResolver = async (hostname) => {
  const answers = await lookup(hostname, { all: true, verbatim: true });
  return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

export class NetworkGuard {
  private readonly allow: AllowList;
  private readonly resolve: HostResolver;

  /** Throws on an allow-list entry that is not a host name, an IP or a CIDR range (an operator's typo should stop the start). */
  constructor(options: { allowList?: string[]; resolve?: HostResolver } = {}) {
    this.allow = parseAllowList(options.allowList ?? []);
    this.resolve = options.resolve ?? systemResolver;
  }

  async check(url: URL): Promise<Destination> {
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new RequestBlockedError(`only https URLs may be requested, not ${url.protocol}`);
    }
    if (url.username || url.password) {
      throw new RequestBlockedError('a URL may not carry user:password (it would be kept in the run history): put the login in an https credential');
    }
    const hostname = normaliseHost(url.hostname);
    const hostListed = this.hostListed(hostname);
    // Plain http to an unlisted host is refused, but the addresses are checked first: a refused
    // address (loopback, private...) is named as such rather than hinting at https to the same place.
    let addresses: ResolvedAddress[];
    if (ipaddr.isValid(hostname)) {
      addresses = [{ address: hostname, family: ipaddr.parse(hostname).kind() === 'ipv6' ? 6 : 4 }];
    } else {
      try {
        addresses = await this.resolve(hostname);
      } catch (err) {
        if (url.protocol === 'http:' && !hostListed && this.allow.ranges.length === 0) throw plainHttp(url);
        const code = (err as NodeJS.ErrnoException).code;
        throw new HttpNetworkError(`cannot resolve ${hostname}: ${code ?? (err as Error).message}`, code);
      }
      if (addresses.length === 0) throw new HttpNetworkError(`cannot resolve ${hostname}: no addresses`);
    }

    let everyAddressListed = true;
    for (const { address } of addresses) {
      const ip = ipaddr.process(address);
      const normalised = ip.toNormalizedString();
      if (METADATA_ADDRESSES.includes(normalised)) {
        if (this.exactlyListed(ip)) continue;
        throw new RequestBlockedError(`${hostname === address ? `${address} is` : `${hostname} resolves to ${address},`} a cloud metadata address`);
      }
      const listed = this.addressListed(ip);
      if (!listed) everyAddressListed = false;
      if (listed || hostListed) continue;
      const range = rangeOf(ip);
      if (range !== 'unicast') {
        const what = RANGE_NAMES[range] ?? `a special-purpose address (${range})`;
        const subject = hostname === address ? `${address} is` : `${hostname} resolves to ${address},`;
        throw new RequestBlockedError(`${subject} ${what}; only an operator's network allow-list can open it`);
      }
    }
    const allowListed = hostListed || everyAddressListed;
    if (url.protocol === 'http:' && !allowListed) throw plainHttp(url);
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    return { url, hostname, port, addresses, allowListed };
  }

  private hostListed(hostname: string): boolean {
    if (this.allow.hosts.has(hostname)) return true;
    return this.allow.suffixes.some((suffix) => hostname.endsWith(suffix) && hostname.length > suffix.length);
  }

  private addressListed(ip: Address): boolean {
    return this.allow.ranges.some(([range, bits]) => range.kind() === ip.kind() && ip.match(range as never, bits));
  }

  private exactlyListed(ip: Address): boolean {
    return this.allow.exact.some((e) => e.kind() === ip.kind() && e.toNormalizedString() === ip.toNormalizedString());
  }
}

function plainHttp(url: URL): RequestBlockedError {
  return new RequestBlockedError(`plain http is only allowed for allow-listed hosts; use https://${url.host}`);
}

function normaliseHost(hostname: string): string {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return bare.toLowerCase().replace(/\.$/, '');
}

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

function parseAllowList(entries: string[]): AllowList {
  const allow: AllowList = { hosts: new Set(), suffixes: [], ranges: [], exact: [] };
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    const bare = entry.startsWith('[') && entry.endsWith(']') ? entry.slice(1, -1) : entry;
    if (ipaddr.isValid(bare)) {
      const ip = ipaddr.process(bare);
      allow.exact.push(ip);
      allow.ranges.push([ip, ip.kind() === 'ipv4' ? 32 : 128]);
    } else if (entry.includes('/')) {
      try {
        const [range, bits] = ipaddr.parseCIDR(entry);
        // An IPv4-mapped range (::ffff:10.0.0.0/104) means the IPv4 range: addresses are compared as IPv4.
        if (range.kind() === 'ipv6' && (range as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
          allow.ranges.push([(range as ipaddr.IPv6).toIPv4Address(), bits - 96]);
        } else {
          allow.ranges.push([range, bits]);
        }
      } catch {
        throw new Error(`network allow-list: "${raw}" is not a valid CIDR range`);
      }
    } else if (entry.startsWith('*.') && HOST_NAME.test(entry.slice(2))) {
      allow.suffixes.push(entry.slice(1).replace(/\.$/, ''));
    } else if (HOST_NAME.test(entry.replace(/\.$/, ''))) {
      allow.hosts.add(entry.replace(/\.$/, ''));
    } else {
      throw new Error(`network allow-list: "${raw}" is not a host name, an IP address or a CIDR range`);
    }
  }
  return allow;
}
