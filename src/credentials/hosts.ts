/**
 * The hosts a credential may be sent to. An https credential names them
 * (`allowedHosts`); every hop of a request that carries it (the first
 * request and each redirect) must go to one of them, or the request fails
 * before the credential leaves the service. A step author can thus pick a
 * credential, but not where its secret goes.
 *
 * Entries: a host name (`api.partner.com`), `*.partner.com` for any
 * subdomain of partner.com (not partner.com itself, as in the network
 * allow-list), or an IP address (`203.0.113.7`, `::1` or `[::1]`). Names are
 * compared without case and without a trailing dot; IPs in normal form.
 */
import ipaddr from 'ipaddr.js';
import { z } from 'zod';

const LABEL = '[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?';
const HOST_NAME = new RegExp(`^(?=.{1,253}$)${LABEL}(\\.${LABEL})*$`);

function bare(host: string): string {
  const lower = host.trim().toLowerCase();
  const unbracketed = lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower;
  return unbracketed.replace(/\.$/, '');
}

/** The normal form of an entry, or undefined when it is not a host name, a `*.` pattern or an IP. */
export function normaliseHostPattern(entry: string): string | undefined {
  const host = bare(entry);
  if (ipaddr.isValid(host)) return ipaddr.process(host).toNormalizedString();
  if (host.startsWith('*.') && HOST_NAME.test(host.slice(2))) return host;
  if (HOST_NAME.test(host)) return host;
  return undefined;
}

/** One entry of `allowedHosts`, checked and kept in normal form. */
export const hostPattern = z
  .string()
  .max(260)
  .transform((entry, ctx) => {
    const normal = normaliseHostPattern(entry);
    if (normal === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${entry.slice(0, 80)}" is not a host name (api.partner.com), a *.partner.com pattern or an IP address` });
      return z.NEVER;
    }
    return normal;
  });

export const allowedHostsField = z.array(hostPattern).min(1, 'name at least one host this credential may be sent to').max(50);

/** Whether a URL's host is one of `patterns`. */
export function hostAllowed(patterns: readonly string[], hostname: string): boolean {
  let host = bare(hostname);
  if (ipaddr.isValid(host)) host = ipaddr.process(host).toNormalizedString();
  for (const raw of patterns) {
    const pattern = normaliseHostPattern(raw);
    if (pattern === undefined) continue;
    if (pattern === host) return true;
    if (pattern.startsWith('*.') && host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1) return true;
  }
  return false;
}
