/**
 * Where a credential points its client: the base-URL fields of the
 * integration kinds (a regional or on-premises endpoint, a proxy, a test's
 * loopback peer) and an SMTP relay's host. The API checks them with the
 * SSRF guard when the credential is saved, as it does a webhook's URL, and
 * the actions check them again before every connection. These are also the
 * hosts an integration's secret is sent to: its allowed hosts are derived
 * from them (or are the vendor's own, when none is set).
 */
import type { CredentialKind } from './kinds';

export interface CredentialEndpoint {
  /** Path of the field within the secret, e.g. ['baseUrl']. */
  path: string[];
  /** The URL the guard checks (for SMTP, https://host:port: only its address counts). */
  url: string;
  /** false: an address, not a URL the client speaks http to (SMTP): plain http does not apply. */
  http: boolean;
}

const URL_FIELDS: Partial<Record<CredentialKind, string[]>> = {
  twilio: ['baseUrl'],
  slack: ['apiUrl'],
  salesforce: ['instanceUrl', 'loginUrl'],
  hubspot: ['basePath'],
  zendesk: ['remoteUri'],
};

export function credentialEndpoints(kind: CredentialKind, secret: Record<string, unknown>): CredentialEndpoint[] {
  if (kind === 'smtp') {
    const host = typeof secret.host === 'string' ? secret.host : '';
    const port = typeof secret.port === 'number' ? secret.port : 25;
    return host ? [{ path: ['host'], url: smtpUrl(host, port), http: false }] : [];
  }
  const endpoints: CredentialEndpoint[] = [];
  for (const field of URL_FIELDS[kind] ?? []) {
    const value = secret[field];
    if (typeof value === 'string' && value) endpoints.push({ path: [field], url: value, http: true });
  }
  return endpoints;
}

/** An SMTP relay as a URL the guard can check (an IPv6 literal in brackets). */
export function smtpUrl(host: string, port: number): string {
  const bare = host.startsWith('[') ? host : host.includes(':') ? `[${host}]` : host;
  return `https://${bare}:${port}`;
}
