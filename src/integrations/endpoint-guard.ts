/**
 * Where an integration may send a request when its credential overrides the
 * service's official address (a regional endpoint, an on-premises Zendesk, a
 * test's loopback peer). Without this, whoever can create a credential could
 * point Twilio's client at an internal admin API or a cloud metadata service.
 *
 * The rule is the one Make HTTPS Request keeps, from the same guard
 * (src/http/network-guard.ts): https to public unicast addresses, checked
 * after DNS resolution, unless the operator's network allow-list names the
 * host or its addresses (which also permits plain http).
 *
 * The address is checked when the credential is saved (the API) and again
 * here, before every connection. SMTP connects to exactly the checked
 * address. The HTTP clients resolve the name again when they connect and
 * cannot be handed the checked addresses, so a name whose DNS answer
 * changes in between (rebinding) is not caught for them; none of them
 * follows a redirect (each is set to refuse one), so the secret goes to
 * the checked host or nowhere. Credentials are created by operators, not by
 * applicants, which keeps the rebinding risk small.
 */
import type { NetworkPolicy } from '../activities';
import { HttpNetworkError, RequestBlockedError } from '../http/errors';
import { NetworkGuard, type Destination } from '../http/network-guard';
import { IntegrationError, IntegrationFailureType } from './errors';

export async function assertEndpointAllowed(rawUrl: string, network: NetworkPolicy | undefined): Promise<Destination> {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new IntegrationError(IntegrationFailureType.EndpointBlocked, `"${rawUrl}" is not a URL`);
  }
  try {
    return await new NetworkGuard({ allowList: network?.allowList ?? [] }).check(url);
  } catch (err) {
    if (err instanceof RequestBlockedError) {
      throw new IntegrationError(IntegrationFailureType.EndpointBlocked, `the credential's address ${url.origin}: ${err.message}`);
    }
    // A name that does not resolve now may resolve in a minute: retryable.
    if (err instanceof HttpNetworkError) throw new IntegrationError(IntegrationFailureType.Unavailable, err.message, { code: err.code });
    throw err;
  }
}
