/**
 * Which scope every /v1 route needs, and what a successful call writes to
 * the audit log: one table, read top to bottom, first match wins. A route
 * missing here still needs a principal (any), and `test/auth-scopes.test.ts`
 * fails for every route the app serves that no rule names, so a new route
 * cannot slip through unnoticed.
 *
 * Patterns: `:name` matches one path segment, a trailing `*` any rest
 * (including nothing).
 */
import { COLLECTION } from '../objects/ids';
import type { Scope } from './scopes';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export type Access =
  /** Anyone: the route authenticates by other means or not at all. */
  | { open: true; why: string }
  /** A principal holding the scope. */
  | { scope: Scope; signedEvents?: true };

export interface AuditSpec {
  action: string;
  /** The target: by default the `:id` of the path, else the id of the answer. */
  target?: (params: Record<string, string>, answer: Record<string, unknown> | undefined) => string | undefined;
  /** Path parameters worth keeping besides the target (never values that could be personal data). */
  keep?: string[];
}

export interface RouteRule {
  method: Method | '*';
  path: string;
  access: Access;
  audit?: AuditSpec;
}

const scope = (s: Scope): Access => ({ scope: s });
const runId = (_p: Record<string, string>, answer: Record<string, unknown> | undefined) => (typeof answer?.runId === 'string' ? answer.runId : undefined);

const objectRules = Object.values(COLLECTION).flatMap((c): RouteRule[] => [
  { method: 'GET', path: `/v1/${c}`, access: scope('objects:read') },
  { method: 'POST', path: `/v1/${c}`, access: scope('objects:write'), audit: { action: 'object.created' } },
  { method: 'GET', path: `/v1/${c}/:id`, access: scope('objects:read') },
  { method: 'PATCH', path: `/v1/${c}/:id`, access: scope('objects:write'), audit: { action: 'object.updated' } },
  { method: 'POST', path: `/v1/${c}/:id/redact`, access: scope('objects:write'), audit: { action: 'object.redacted' } },
  { method: 'POST', path: `/v1/${c}/:id/tags`, access: scope('objects:write'), audit: { action: 'object.tag_added' } },
  { method: 'DELETE', path: `/v1/${c}/:id/tags/:tag`, access: scope('objects:write'), audit: { action: 'object.tag_removed', keep: ['tag'] } },
  { method: 'GET', path: `/v1/${c}/:id/items`, access: scope('objects:read') },
  // The value of a list item may be an e-mail or an id number: it stays out of the log.
  { method: 'POST', path: `/v1/${c}/:id/items`, access: scope('objects:write'), audit: { action: 'list.item_added' } },
  { method: 'DELETE', path: `/v1/${c}/:id/items/:value`, access: scope('objects:write'), audit: { action: 'list.item_removed' } },
  // Status transitions: approve, decline, resolve, ready, trust...
  { method: 'POST', path: `/v1/${c}/:id/:verb`, access: scope('objects:write'), audit: { action: 'object.status_changed', keep: ['verb'] } },
]);

export const ROUTE_RULES: readonly RouteRule[] = [
  // Sessions.
  { method: 'POST', path: '/v1/auth/login', access: { open: true, why: 'signing in is how a session starts' } },
  { method: 'GET', path: '/v1/auth/me', access: { open: true, why: 'answers 401 itself without a session' } },
  { method: 'POST', path: '/v1/auth/logout', access: { open: true, why: 'ending no session is not an error' } },
  // The applicant's hosted page authenticates by its own single-use token.
  { method: '*', path: '/v1/inquiry-links/*', access: { open: true, why: 'authenticated by the link token' } },

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
  { method: 'GET', path: '/v1/workflows/*', access: scope('workflows:read') },
  { method: '*', path: '/v1/workflows/*', access: scope('workflows:write'), audit: { action: 'workflow.updated' } },

  { method: 'GET', path: '/v1/runs', access: scope('runs:read') },
  { method: 'GET', path: '/v1/runs/*', access: scope('runs:read') },
  { method: 'POST', path: '/v1/runs/:id/events', access: scope('events:write'), audit: { action: 'run.event_delivered' } },
  { method: 'POST', path: '/v1/runs/:id/cancel', access: scope('runs:cancel'), audit: { action: 'run.cancelled' } },
  // A new run with a failed run's input.
  { method: 'POST', path: '/v1/runs/:id/retry', access: scope('runs:trigger'), audit: { action: 'run.retried', keep: ['id'], target: runId } },

  // Upstream senders sign their events (HMAC); a key with events:write works too.
  { method: 'POST', path: '/v1/events', access: { scope: 'events:write', signedEvents: true } },
  { method: 'GET', path: '/v1/events', access: scope('objects:read') },

  ...objectRules,
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
  { method: 'POST', path: '/v1/watchlists/import', access: scope('objects:write'), audit: { action: 'watchlist.imported' } },

  { method: 'GET', path: '/v1/webhooks', access: scope('webhooks:manage') },
  { method: 'POST', path: '/v1/webhooks', access: scope('webhooks:manage'), audit: { action: 'webhook.created' } },
  { method: 'PATCH', path: '/v1/webhooks/:id', access: scope('webhooks:manage'), audit: { action: 'webhook.updated' } },
  { method: 'DELETE', path: '/v1/webhooks/:id', access: scope('webhooks:manage'), audit: { action: 'webhook.deleted' } },
  { method: 'POST', path: '/v1/webhooks/:id/rotate-secret', access: scope('webhooks:manage'), audit: { action: 'webhook.secret_rotated' } },
  { method: 'GET', path: '/v1/webhook-deliveries/*', access: scope('webhooks:manage') },
  { method: 'POST', path: '/v1/webhook-deliveries/:id/replay', access: scope('webhooks:manage'), audit: { action: 'webhook.delivery_replayed' } },
  { method: 'GET', path: '/v1/webhooks/*', access: scope('webhooks:manage') },
  { method: '*', path: '/v1/webhooks', access: scope('webhooks:manage'), audit: { action: 'webhook.changed' } },
  { method: '*', path: '/v1/webhooks/*', access: scope('webhooks:manage'), audit: { action: 'webhook.changed' } },
];

export interface RuleMatch {
  rule: RouteRule;
  params: Record<string, string>;
}

function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split('/');
  const got = path.replace(/\/+$/, '').split('/');
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i];
    if (w === '*' && i === want.length - 1) return params;
    const g = got[i];
    if (w === g) continue;
    if (g === undefined || g === '') return undefined;
    if (w.startsWith(':')) {
      try {
        params[w.slice(1)] = decodeURIComponent(g);
      } catch {
        return undefined;
      }
    } else return undefined;
  }
  return got.length === want.length ? params : undefined;
}

/** The first rule for this method and path (HEAD counts as GET), or undefined. */
export function matchRoute(method: string, path: string, rules: readonly RouteRule[] = ROUTE_RULES): RuleMatch | undefined {
  const m = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
  for (const rule of rules) {
    if (rule.method !== '*' && rule.method !== m) continue;
    const params = matchPath(rule.path, path);
    if (params) return { rule, params };
  }
  return undefined;
}
