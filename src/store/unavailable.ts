/**
 * Telling "a part of the service is away" from "something is wrong".
 *
 * The first is worth retrying (the same request succeeds once PostgreSQL has
 * restarted or failed over, or Temporal is back): the API answers
 * `503 unavailable` with `Retry-After`, and a step retries it through an
 * outage (FailureType.DependencyUnavailable) without using up its action's
 * attempts. The second is not.
 */

/**
 * PostgreSQL SQLSTATEs that mean the server cannot serve now:
 * class 08 (connection exceptions), class 53 (insufficient resources: too
 * many connections, out of memory or disk), 57P01-57P05 (shutting down,
 * crash recovery, cannot connect now, idle session timeout...), and 55000,
 * which a database that is starting or stopping answers with
 * "database ... is not currently accepting connections".
 */
export function isUnavailableSqlState(code: string): boolean {
  return code.startsWith('08') || code.startsWith('53') || /^57P0\d$/.test(code) || code === '55000';
}

/** Socket-level failures reaching PostgreSQL or Temporal. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);
/** gRPC's UNAVAILABLE (Temporal's frontend away). */
const GRPC_UNAVAILABLE = 14;

/** Messages of the pg client that carry no code of their own. */
const UNAVAILABLE_MESSAGES = [/^Connection terminated/, /^timeout exceeded when trying to connect/, /Client has encountered a connection error/, /^Connection ended unexpectedly/];

/** Whether an error (or one of its causes) says PostgreSQL or Temporal could not be reached or cannot serve now. */
export function isDependencyUnavailable(err: unknown): boolean {
  for (let e = err as { code?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e.code === GRPC_UNAVAILABLE) return true;
    if (typeof e.code === 'string' && (SOCKET_CODES.has(e.code) || (/^[0-9A-Z]{5}$/.test(e.code) && isUnavailableSqlState(e.code)))) return true;
    if (typeof e.message === 'string' && UNAVAILABLE_MESSAGES.some((re) => re.test(e!.message as string))) return true;
  }
  return false;
}
