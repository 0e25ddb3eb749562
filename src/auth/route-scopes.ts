/**
 * Which scope every route needs, and what a successful call writes to the
 * audit log: one table, read top to bottom, first match wins. Rules are
 * matched against the route pattern the express router actually matched
 * (`/v1/lists/:id/items/:value`), never against the request's path: a
 * path's letter case, slashes or encoding cannot pick another rule. A route
 * without a rule is refused (and the app does not start: src/auth/access-control.ts
 * checks every registered route when it installs the guards).
 *
 * Rule paths: each segment equals the route pattern's segment exactly
 * (`:id` matches only `:id`), except `{verb}`, which matches any one literal
 * segment (a status verb such as `approve`).
 */
import { COLLECTION } from '../objects/ids';
import type { Scope } from './scopes';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';

export type Access =
  /** Anyone: the route authenticates by other means or not at all. */
  | { open: true; why: string }
  /** A principal holding the scope. */
  | { scope: Scope; signedEvents?: true };

/** What a route's body may be: JSON (the default for /v1), or the listed media types; `any`: the route reads what it needs itself. */
export type BodyTypes = readonly string[] | 'any';

export interface AuditSpec {
  action: string;
  /** The target: by default the `:id` of the path, else the id of the answer. */
  target?: (params: Record<string, string>, answer: Record<string, unknown> | undefined) => string | undefined;
  /** Path parameters worth keeping besides the target (never values that could be personal data). */
  keep?: string[];
}

export interface RouteRule {
  method: Method;
  path: string;
  access: Access;
  audit?: AuditSpec;
  /** Media types a body may have (415 otherwise); default: JSON under /v1, anything elsewhere. */
  body?: BodyTypes;
}

const scope = (s: Scope): Access => ({ scope: s });
const runId = (_p: Record<string, string>, answer: Record<string, unknown> | undefined) => (typeof answer?.runId === 'string' ? answer.runId : undefined);

const objectRules = Object.values(COLLECTION).flatMap((c): RouteRule[] => [
  { method: 'GET', path: `/v1/${c}`, access: scope('objects:read') },
  { method: 'POST', path: `/v1/${c}`, access: scope('objects:write'), audit: { action: 'object.created' } },
  { method: 'GET', path: `/v1/${c}/:id`, access: scope('objects:read') },
  { method: 'PATCH', path: `/v1/${c}/:id`, access: scope('objects:write'), audit: { action: 'object.updated' } },
  ...(c === 'inquiries' || c === 'accounts' ? [{ method: 'POST', path: `/v1/${c}/:id/redact`, access: scope('objects:write'), audit: { action: 'object.redacted' } } as RouteRule] : []),
  ...(c === 'lists'
    ? [
        { method: 'GET', path: `/v1/${c}/:id/items`, access: scope('objects:read') },
        // The value of a list item may be an e-mail or an id number: it stays out of the log (the route pattern is kept, not the path).
        { method: 'POST', path: `/v1/${c}/:id/items`, access: scope('objects:write'), audit: { action: 'list.item_added' } },
        { method: 'DELETE', path: `/v1/${c}/:id/items/:value`, access: scope('objects:write'), audit: { action: 'list.item_removed' } },
      ] as RouteRule[]
    : // Status transitions: approve, decline, resolve, ready, trust...
      [{ method: 'POST', path: `/v1/${c}/:id/{verb}`, access: scope('objects:write'), audit: { action: 'object.status_changed', keep: ['verb'] } } as RouteRule]),
]);

const open = (why: string): Access => ({ open: true, why });

export const ROUTE_RULES: readonly RouteRule[] = [
  // Outside /v1: the probes, the metrics and codec endpoints (their own bearer tokens), the applicant's page, the editor.
  { method: 'GET', path: '/healthz', access: open('liveness probe: says nothing about data') },
  { method: 'GET', path: '/readyz', access: open('readiness probe: names the dependencies that are away') },
  { method: 'GET', path: '/metrics', access: open('checks METRICS_TOKEN itself') },
  { method: 'OPTIONS', path: '/codec/{*rest}', access: open('CORS preflight of the Temporal UI codec: carries no credentials') },
  { method: 'POST', path: '/codec/encode', access: open('checks CODEC_TOKEN itself'), body: 'any' },
  { method: 'POST', path: '/codec/decode', access: open('checks CODEC_TOKEN itself'), body: 'any' },
  { method: 'POST', path: '/codec/:token/encode', access: open('checks CODEC_TOKEN (in the path) itself'), body: 'any' },
  { method: 'POST', path: '/codec/:token/decode', access: open('checks CODEC_TOKEN (in the path) itself'), body: 'any' },
  { method: 'GET', path: '/inquiry-links/:token', access: open('the applicant\'s page: authenticated by the link token') },
  { method: 'POST', path: '/inquiry-links/:token', access: open('the applicant\'s form: authenticated by the link token'), body: 'any' },
  { method: 'GET', path: '/.*/', access: open('the editor\'s index.html for its own paths (never for server paths)') },

  // Sessions.
  { method: 'POST', path: '/v1/auth/login', access: open('signing in is how a session starts') },
  { method: 'GET', path: '/v1/auth/me', access: open('answers 401 itself without a session') },
  { method: 'POST', path: '/v1/auth/logout', access: open('ending no session is not an error') },

  { method: 'GET', path: '/v1/api-keys', access: scope('keys:manage') },
  { method: 'POST', path: '/v1/api-keys', access: scope('keys:manage'), audit: { action: 'api_key.created' } },
  { method: 'DELETE', path: '/v1/api-keys/:id', access: scope('keys:manage'), audit: { action: 'api_key.revoked' } },
  { method: 'GET', path: '/v1/users', access: scope('users:manage') },
  { method: 'POST', path: '/v1/users', access: scope('users:manage'), audit: { action: 'user.created' } },
  { method: 'POST', path: '/v1/users/:id/disable', access: scope('users:manage'), audit: { action: 'user.disabled' } },
  { method: 'POST', path: '/v1/users/:id/enable', access: scope('users:manage'), audit: { action: 'user.enabled' } },
  { method: 'GET', path: '/v1/audit', access: scope('audit:read') },

  { method: 'GET', path: '/v1/actions', access: scope('workflows:read') },
  // Checks a definition and changes nothing.
  { method: 'POST', path: '/v1/definitions/validate', access: scope('workflows:read') },
  { method: 'GET', path: '/v1/workflows', access: scope('workflows:read') },
  { method: 'POST', path: '/v1/workflows', access: scope('workflows:write'), audit: { action: 'workflow.created' } },
  { method: 'GET', path: '/v1/workflows/:id', access: scope('workflows:read') },
  { method: 'PUT', path: '/v1/workflows/:id', access: scope('workflows:write'), audit: { action: 'workflow.updated' } },
  { method: 'GET', path: '/v1/workflows/:id/versions', access: scope('workflows:read') },
  { method: 'GET', path: '/v1/workflows/:id/version-changes', access: scope('workflows:read') },
  { method: 'GET', path: '/v1/workflows/:id/rollout', access: scope('workflows:read') },
  { method: 'GET', path: '/v1/workflows/:id/schedule', access: scope('workflows:read') },
  { method: 'POST', path: '/v1/workflows/:id/publish', access: scope('workflows:publish'), audit: { action: 'workflow.published' } },
  { method: 'POST', path: '/v1/workflows/:id/runs', access: scope('runs:trigger'), audit: { action: 'run.triggered', target: runId, keep: ['id'] } },
  // A run of the draft, from the editor.
  { method: 'POST', path: '/v1/workflows/:id/test-runs', access: scope('runs:trigger'), audit: { action: 'run.test_triggered', target: runId, keep: ['id'] } },
  // Which version runs: the same power as publishing.
  { method: 'POST', path: '/v1/workflows/:id/rollback', access: scope('workflows:publish'), audit: { action: 'workflow.rolled_back' } },
  { method: 'POST', path: '/v1/workflows/:id/rollout', access: scope('workflows:publish'), audit: { action: 'workflow.rollout_started' } },
  { method: 'POST', path: '/v1/workflows/:id/rollout/promote', access: scope('workflows:publish'), audit: { action: 'workflow.rollout_promoted' } },
  { method: 'POST', path: '/v1/workflows/:id/rollout/abort', access: scope('workflows:publish'), audit: { action: 'workflow.rollout_aborted' } },
  { method: 'POST', path: '/v1/workflows/:id/archive', access: scope('workflows:publish'), audit: { action: 'workflow.archived' } },
  { method: 'POST', path: '/v1/workflows/:id/schedule/pause', access: scope('workflows:publish'), audit: { action: 'schedule.paused' } },
  { method: 'POST', path: '/v1/workflows/:id/schedule/resume', access: scope('workflows:publish'), audit: { action: 'schedule.resumed' } },
  { method: 'POST', path: '/v1/workflows/:id/schedule/trigger', access: scope('runs:trigger'), audit: { action: 'run.triggered', keep: ['id'] } },
  { method: 'POST', path: '/v1/workflows/:id/manual-runs', access: scope('runs:trigger'), audit: { action: 'run.triggered', target: runId, keep: ['id'] } },

  { method: 'GET', path: '/v1/runs', access: scope('runs:read') },
  { method: 'GET', path: '/v1/runs/:id', access: scope('runs:read') },
  { method: 'POST', path: '/v1/runs/:id/events', access: scope('events:write'), audit: { action: 'run.event_delivered' } },
  { method: 'POST', path: '/v1/runs/:id/cancel', access: scope('runs:cancel'), audit: { action: 'run.cancelled' } },
  // A new run with a failed run's input.
  { method: 'POST', path: '/v1/runs/:id/retry', access: scope('runs:trigger'), audit: { action: 'run.retried', keep: ['id'], target: runId } },

  // Upstream senders sign their events (HMAC over the raw JSON body); a key with events:write works too.
  { method: 'POST', path: '/v1/events', access: { scope: 'events:write', signedEvents: true } },
  { method: 'GET', path: '/v1/events', access: scope('objects:read') },

  ...objectRules,
  // Tags take any collection; the route checks it.
  { method: 'POST', path: '/v1/:collection/:id/tags', access: scope('objects:write'), audit: { action: 'object.tag_added' } },
  { method: 'DELETE', path: '/v1/:collection/:id/tags/:tag', access: scope('objects:write'), audit: { action: 'object.tag_removed', keep: ['tag'] } },
  { method: 'GET', path: '/v1/objects/:id', access: scope('objects:read') },

  // Names and kinds only (secrets never come out): what the editor offers a step to pick.
  { method: 'GET', path: '/v1/credentials', access: scope('workflows:read') },
  { method: 'GET', path: '/v1/credentials/:id', access: scope('workflows:read') },
  { method: 'POST', path: '/v1/credentials', access: scope('credentials:manage'), audit: { action: 'credential.created' } },
  { method: 'PUT', path: '/v1/credentials/:id', access: scope('credentials:manage'), audit: { action: 'credential.updated' } },
  { method: 'DELETE', path: '/v1/credentials/:id', access: scope('credentials:manage'), audit: { action: 'credential.deleted' } },
  { method: 'GET', path: '/v1/request-templates', access: scope('workflows:read') },
  { method: 'GET', path: '/v1/request-templates/:id', access: scope('workflows:read') },
  { method: 'POST', path: '/v1/request-templates', access: scope('credentials:manage'), audit: { action: 'request_template.created' } },
  { method: 'PUT', path: '/v1/request-templates/:id', access: scope('credentials:manage'), audit: { action: 'request_template.updated' } },
  { method: 'DELETE', path: '/v1/request-templates/:id', access: scope('credentials:manage'), audit: { action: 'request_template.deleted' } },

  { method: 'GET', path: '/v1/watchlists', access: scope('objects:read') },
  // Screening reads the lists; the name screened is not kept.
  { method: 'POST', path: '/v1/watchlists/screen', access: scope('objects:read') },
  { method: 'POST', path: '/v1/watchlists/import', access: scope('objects:write'), audit: { action: 'watchlist.imported' }, body: ['application/json', 'text/csv', 'text/plain'] },

  { method: 'GET', path: '/v1/webhooks', access: scope('webhooks:manage') },
  { method: 'POST', path: '/v1/webhooks', access: scope('webhooks:manage'), audit: { action: 'webhook.created' } },
  { method: 'GET', path: '/v1/webhooks/:id', access: scope('webhooks:manage') },
  { method: 'PATCH', path: '/v1/webhooks/:id', access: scope('webhooks:manage'), audit: { action: 'webhook.updated' } },
  { method: 'DELETE', path: '/v1/webhooks/:id', access: scope('webhooks:manage'), audit: { action: 'webhook.deleted' } },
  { method: 'POST', path: '/v1/webhooks/:id/rotate-secret', access: scope('webhooks:manage'), audit: { action: 'webhook.secret_rotated' } },
  { method: 'GET', path: '/v1/webhooks/:id/deliveries', access: scope('webhooks:manage') },
  { method: 'GET', path: '/v1/webhook-deliveries/:id', access: scope('webhooks:manage') },
  { method: 'POST', path: '/v1/webhook-deliveries/:id/replay', access: scope('webhooks:manage'), audit: { action: 'webhook.delivery_replayed' } },
];

export interface RuleMatch {
  rule: RouteRule;
  params: Record<string, string>;
}

/** Matches a rule's path against a route pattern, segment by segment; `{name}` takes one literal segment as a parameter. */
function matchPattern(rulePath: string, pattern: string): Record<string, string> | undefined {
  const want = rulePath.split('/');
  const got = pattern.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i];
    const g = got[i];
    if (w === g) continue;
    const literal = /^\{(\w+)\}$/.exec(w);
    if (!literal || g === '' || /^[:{*(]/.test(g)) return undefined;
    params[literal[1]] = g;
  }
  return params;
}

/** The first rule for this method and route pattern (HEAD counts as GET, as express routes it), or undefined. */
export function ruleFor(method: string, pattern: string, rules: readonly RouteRule[] = ROUTE_RULES): RuleMatch | undefined {
  const m = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
  for (const rule of rules) {
    if (rule.method !== m) continue;
    const params = matchPattern(rule.path, pattern);
    if (params) return { rule, params };
  }
  return undefined;
}
