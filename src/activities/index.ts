/**
 * The actions a worker runs, built from their dependencies: tests hand in
 * their real local peers (database, loopback servers), production its
 * services. `createRegistry` is what main, tests and benchmarks call.
 */
import type { CredentialResolver } from '../credentials/kinds';
import type { Db } from '../store/db';
import type { ActionDefinition } from './action-definition';
import { BUILTIN_ACTIONS } from './builtin-actions';
import { codeActions } from './code-actions';
import { crmActions } from './crm-actions';
import { httpActions } from './http-actions';
import { inquiryLinkActions } from './inquiry-link-actions';
import { messagingActions } from './messaging-actions';
import { objectActions } from './object-actions';
import { ActionRegistry } from './registry';
import { reportActions } from './report-actions';
import { scheduleActions } from './schedule-actions';

export interface NetworkPolicy {
  /**
   * Hosts or CIDR ranges that Make HTTPS Request (and integrations with a
   * custom base URL) may reach even though they are private or loopback,
   * and over plain http. Empty in production unless an operator adds some.
   */
  allowList: string[];
  /**
   * PEM certificates Make HTTPS Request trusts in addition to the system's
   * roots: a private CA of the operator's, or a test's self-signed peer.
   */
  ca?: string[];
}

export interface ActionDeps {
  db: Db;
  /** Resolves credentials by id; actions that need one fail clearly without it. */
  credentials?: CredentialResolver;
  network?: NetworkPolicy;
  /** Public base URL of this service (links sent to applicants). */
  publicBaseUrl?: string;
  /** Signs inquiry-link tokens (see src/inquiry-links/links.ts); the link actions fail clearly without it. */
  inquiryLinkKey?: Buffer;
}

export function createActions(deps: ActionDeps): ActionDefinition<never>[] {
  return [
    ...BUILTIN_ACTIONS,
    ...objectActions(deps),
    ...codeActions(deps),
    ...httpActions(deps),
    ...messagingActions(deps),
    ...inquiryLinkActions(deps),
    ...crmActions(deps),
    ...reportActions(deps),
    ...scheduleActions(deps),
  ];
}

export function createRegistry(deps: ActionDeps, extra: ActionDefinition<never>[] = []): ActionRegistry {
  return new ActionRegistry([...createActions(deps), ...extra]);
}
