/**
 * Secrets out of what the API shows of a run (step inputs and outputs).
 *
 * Credentials never enter a run (steps name them by id; activities resolve
 * them), but actions may echo what a service returned, and definitions may
 * carry tokens in their params. So, on the way out:
 *   - any value under a key that names a secret (password, token, secret,
 *     apiKey, authorization, private key, cookie, ...) is replaced;
 *   - `Bearer ...` / `Basic ...` strings, passwords in URLs
 *     (`https://user:pass@host`), secret-named URL query parameters, and the
 *     token of a hosted inquiry link (`/inquiry-links/<token>`) are masked;
 *   - the secret values of given credentials are masked wherever they appear.
 * The run itself is untouched: this is what an operator reads, not what runs.
 */

export const REDACTED = '[redacted]';

const SECRET_KEY_WORDS = ['password', 'passwd', 'passphrase', 'secret', 'token', 'apikey', 'authorization', 'privatekey', 'accesskey', 'cookie', 'signingkey', 'sessionkey'];

/** Whether a key names a secret: `password`, `authToken`, `api_key`, `X-Api-Key`, `clientSecret`... */
export function isSecretKey(key: string): boolean {
  const k = key.toLowerCase().replace(/[^a-z0-9]/g, '');
  return SECRET_KEY_WORDS.some((w) => k.includes(w));
}

const AUTH_SCHEME = /^(bearer|basic|token)\s+\S+/i;
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/[^/\s:@]+):[^@\s/]+@/gi;
const URL_QUERY_PARAM = /([?&])([^=&#\s]+)=([^&#\s]*)/g;
const INQUIRY_LINK_TOKEN = /(\/inquiry-links\/)[A-Za-z0-9_-]{8,}/g;

function redactString(value: string, secretValues: readonly string[]): string {
  if (AUTH_SCHEME.test(value)) return REDACTED;
  let out = value
    .replace(URL_USERINFO, `$1:${REDACTED}@`)
    .replace(URL_QUERY_PARAM, (whole, sep: string, name: string) => (isSecretKey(decodeURIComponentSafe(name)) ? `${sep}${name}=${REDACTED}` : whole))
    .replace(INQUIRY_LINK_TOKEN, `$1${REDACTED}`);
  for (const secret of secretValues) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export interface RedactOptions {
  /** Secret values to mask wherever they appear (of credentials a run's steps name); shorter than 4 characters are ignored. */
  secretValues?: readonly string[];
}

/** A copy of a JSON value with its secrets masked. */
export function redactSecrets<T>(value: T, options: RedactOptions = {}): T {
  const secrets = (options.secretValues ?? []).filter((s) => typeof s === 'string' && s.length >= 4);
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return redactString(v, secrets);
    if (v === null || typeof v !== 'object' || depth > 64) return v;
    if (Array.isArray(v)) return v.map((item) => walk(item, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(v as Record<string, unknown>)) {
      out[key] = isSecretKey(key) && child !== null && child !== undefined && child !== '' ? REDACTED : walk(child, depth + 1);
    }
    return out;
  };
  return walk(value, 0) as T;
}

/** The string values under secret-named keys of a credential's secret: what `secretValues` should mask. */
export function secretValuesOf(secret: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown, secretKey: boolean): void => {
    if (typeof v === 'string') {
      if (secretKey) out.push(v);
      return;
    }
    if (v === null || typeof v !== 'object') return;
    for (const [key, child] of Object.entries(v as Record<string, unknown>)) walk(child, secretKey || isSecretKey(key));
  };
  walk(secret, false);
  return out;
}
