/**
 * The kinds of credentials (connections) and the shape of each one's secret.
 * Definitions reference a credential by id; actions resolve it at run time
 * inside the activity, so a secret never enters workflow history, run state,
 * logs or API output. `baseUrl`-style fields point a client at another host:
 * a regional or on-premises endpoint, or a test's loopback peer.
 */
import { z } from 'zod';
import { allowedHostsField } from './hosts';

export const smtpSecret = z.strictObject({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  /** true: TLS from the first byte (465); false: STARTTLS (587/25). */
  secure: z.boolean().default(false),
  /** Refuse to send at all when the server offers no STARTTLS (without `secure`). */
  requireTLS: z.boolean().default(true),
  /**
   * The one way to send the user and password over a connection without
   * TLS (a relay on a trusted network that cannot do TLS). Without it a
   * login is only ever sent after TLS, whatever requireTLS says.
   */
  allowPlaintextAuth: z.boolean().default(false),
  user: z.string().optional(),
  password: z.string().optional(),
  /** A default From address. */
  from: z.string().optional(),
  /** PEM of an extra CA to trust (a private mail relay). */
  ca: z.string().optional(),
});

export const twilioSecret = z.strictObject({
  accountSid: z.string().min(1),
  authToken: z.string().min(1),
  from: z.string().optional(),
  messagingServiceSid: z.string().optional(),
  baseUrl: z.url().optional(),
});

export const slackSecret = z.strictObject({
  token: z.string().min(1),
  apiUrl: z.url().optional(),
});

export const salesforceSecret = z.strictObject({
  instanceUrl: z.url(),
  accessToken: z.string().optional(),
  loginUrl: z.url().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  securityToken: z.string().optional(),
  version: z.string().optional(),
});

export const hubspotSecret = z.strictObject({
  accessToken: z.string().min(1),
  basePath: z.url().optional(),
});

export const zendeskSecret = z.strictObject({
  subdomain: z.string().optional(),
  /** Full API root, e.g. https://acme.zendesk.com/api/v2 (overrides subdomain). */
  remoteUri: z.url().optional(),
  email: z.string().min(1),
  token: z.string().min(1),
});

export const httpsSecret = z.strictObject({
  /**
   * The hosts this secret may be sent to (api.partner.com, *.partner.com,
   * an IP): every hop of a request carrying it, redirects included, must go
   * to one of them. Required: a credential without it is sent nowhere.
   */
  allowedHosts: allowedHostsField,
  headers: z.record(z.string(), z.string()).optional(),
  bearerToken: z.string().optional(),
  basicAuth: z.strictObject({ username: z.string(), password: z.string() }).optional(),
  /** Secret for signing request bodies (`t=...,v1=...`). */
  signingSecret: z.string().optional(),
});

export const CREDENTIAL_KINDS = {
  smtp: smtpSecret,
  twilio: twilioSecret,
  slack: slackSecret,
  salesforce: salesforceSecret,
  hubspot: hubspotSecret,
  zendesk: zendeskSecret,
  https: httpsSecret,
} as const;

export type CredentialKind = keyof typeof CREDENTIAL_KINDS;
export type CredentialSecret<K extends CredentialKind> = z.output<(typeof CREDENTIAL_KINDS)[K]>;

/** How actions read a credential's secret (inside the activity, never in workflow code). */
export interface CredentialResolver {
  /** The secret of credential `id`, which must be of `kind`; throws CredentialError otherwise. */
  resolve<K extends CredentialKind>(id: string, kind: K): Promise<CredentialSecret<K>>;
}

export class CredentialError extends Error {}
