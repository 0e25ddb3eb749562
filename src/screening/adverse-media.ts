/**
 * Adverse media through an HTTP provider the operator configures: we post
 * the subject, the provider answers with articles, and an article counts as
 * a match when its title or snippet mentions the subject's name (fuzzily,
 * as screening matches names) at or above the threshold; a provider's own
 * relevance score is kept beside ours but cannot make an article that does
 * not name the subject a match.
 *
 * The protocol (what a provider, or an adapter in front of one, speaks):
 *   POST <url>  {"name", "birthdate"?, "country"?, "limit"}
 *   200         {"articles": [{"title", "url", "snippet"?, "source"?, "publishedAt"?, "categories"?, "score"?}]}
 * 4xx (but 408 and 429) and answers that are not this protocol are
 * rejections, not worth retrying; 5xx, 408, 429, timeouts and network
 * errors are worth retrying. The request goes through the same SSRF guard
 * as Make HTTPS Request (src/http), under the operator's network policy.
 */
import { z } from 'zod';
import type { CredentialSecret } from '../credentials/kinds';
import { HttpFailureType, HttpRequestError } from '../http/errors';
import { sendGuarded, type GuardedResponse } from '../http/guarded-request';
import { NetworkGuard } from '../http/network-guard';
import { ScreeningError, ScreeningFailureType } from './errors';
import type { NameNormaliser } from './names';
import { mentionScore } from './similarity';

export interface AdverseMediaProvider {
  url: string;
  /** The https credential's secret, for the provider's authentication (sent only if its allowedHosts names the provider's host). */
  auth?: CredentialSecret<'https'>;
  /** The credential's id, named when its allowedHosts refuses the provider. */
  credentialId?: string;
  /**
   * The operator's network policy, as Make HTTPS Request follows it: https to
   * public addresses only, unless the allow-list names the host (an adapter
   * inside the cluster, a test's loopback peer); extra CAs to trust.
   */
  allowList?: string[];
  ca?: string[];
  timeoutMs?: number;
}

export interface AdverseMediaSubject {
  name: string;
  birthdate?: string;
  country?: string;
}

const MAX_RESPONSE_BYTES = 2 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 15_000;

const articleSchema = z.object({
  title: z.string().max(2000),
  url: z.string().max(4000),
  snippet: z.string().max(20_000).optional(),
  source: z.string().max(500).optional(),
  publishedAt: z.string().max(100).optional(),
  categories: z.array(z.string().max(100)).max(50).optional(),
  score: z.number().min(0).max(1).optional(),
});
const responseSchema = z.object({ articles: z.array(articleSchema).max(500) });

export interface AdverseMediaMatch extends Record<string, unknown> {
  title: string;
  url: string;
  source: string | null;
  publishedAt: string | null;
  categories: string[];
  /** How well the article names the subject, in [0, 1]. */
  score: number;
  providerScore: number | null;
}

const unavailable = (message: string) => new ScreeningError(ScreeningFailureType.ProviderUnavailable, message, undefined, true);
const rejected = (message: string) => new ScreeningError(ScreeningFailureType.ProviderRejected, message);

/** The guard's verdicts in our words: a destination the policy forbids is a configuration problem; timeouts and network errors pass. */
function providerError(err: HttpRequestError): ScreeningError {
  switch (err.type) {
    case HttpFailureType.RequestBlocked:
    case HttpFailureType.CredentialHostNotAllowed:
      return new ScreeningError(ScreeningFailureType.ProviderNotConfigured, `the adverse media provider may not be reached: ${err.message}`);
    case HttpFailureType.Timeout:
    case HttpFailureType.NetworkError:
      return unavailable(`the adverse media provider could not be reached: ${err.message}`);
    default:
      return rejected(`the adverse media provider failed: ${err.message}`);
  }
}

export async function searchAdverseMedia(
  provider: AdverseMediaProvider,
  subject: AdverseMediaSubject,
  options: { normaliser: NameNormaliser; threshold: number; limit: number; signal?: AbortSignal },
): Promise<{ matches: AdverseMediaMatch[]; details: Record<string, unknown> }> {
  let url: URL;
  try {
    url = new URL(provider.url);
  } catch {
    throw new ScreeningError(ScreeningFailureType.ProviderNotConfigured, `the adverse media provider URL "${provider.url}" is not a URL`);
  }
  const authorization: Record<string, string> = {};
  if (provider.auth?.bearerToken) authorization.authorization = `Bearer ${provider.auth.bearerToken}`;
  else if (provider.auth?.basicAuth) authorization.authorization = `Basic ${Buffer.from(`${provider.auth.basicAuth.username}:${provider.auth.basicAuth.password}`).toString('base64')}`;

  let res: GuardedResponse;
  try {
    res = await sendGuarded(
      new NetworkGuard({ allowList: provider.allowList ?? [] }),
      {
        method: 'POST',
        url: url.href,
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        ...(provider.auth
          ? { credential: { id: provider.credentialId ?? 'of the adverse media provider', headers: { ...provider.auth.headers, ...authorization }, allowedHosts: provider.auth.allowedHosts } }
          : {}),
        body: Buffer.from(JSON.stringify({ name: subject.name, birthdate: subject.birthdate, country: subject.country, limit: 100 })),
        timeoutMs: provider.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        maxResponseBytes: MAX_RESPONSE_BYTES,
        // A provider that redirects is misconfigured; following could post the subject somewhere unvetted.
        maxRedirects: 0,
        signal: options.signal,
      },
      { ca: provider.ca },
    );
  } catch (err) {
    if (err instanceof HttpRequestError) throw providerError(err);
    throw err;
  }
  const text = res.body.toString('utf8');
  if (res.status >= 500 || res.status === 408 || res.status === 429) throw unavailable(`the adverse media provider answered ${res.status}`);
  if (res.status !== 200) throw rejected(`the adverse media provider answered ${res.status}: ${text.slice(0, 200)}`);
  if (res.truncated) throw rejected(`the adverse media provider's answer is larger than ${MAX_RESPONSE_BYTES} bytes`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw rejected('the adverse media provider did not answer JSON');
  }
  const parsed = responseSchema.safeParse(body);
  if (!parsed.success) throw rejected(`the adverse media provider's answer is not {articles: [...]}: ${parsed.error.issues[0]?.message}`);

  const nameVariants = options.normaliser.variants(subject.name);
  const scored = parsed.data.articles.map((article) => {
    const textTokens = options.normaliser.tokens(`${article.title} ${article.snippet ?? ''}`);
    const score = Math.max(0, ...nameVariants.map((tokens) => mentionScore(tokens, textTokens)));
    return { article, score };
  });
  const matches = scored
    .filter((s) => s.score >= options.threshold)
    .sort((a, b) => b.score - a.score || (b.article.score ?? 0) - (a.article.score ?? 0))
    .slice(0, options.limit)
    .map(({ article, score }) => ({
      title: article.title,
      url: article.url,
      source: article.source ?? null,
      publishedAt: article.publishedAt ?? null,
      categories: article.categories ?? [],
      score: Math.round(score * 1000) / 1000,
      providerScore: article.score ?? null,
    }));
  return { matches, details: { provider: url.host, articlesReceived: parsed.data.articles.length, threshold: options.threshold } };
}
