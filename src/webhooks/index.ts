/**
 * Outbound webhooks: subscriptions (subscriptions.ts), the deliveries the
 * fan-out trigger makes as events are recorded (deliveries.ts, migration
 * 14), and the dispatcher that sends them (dispatcher.ts).
 */
import type { NetworkPolicy } from '../activities';
import { NetworkGuard, type HostResolver } from '../http/network-guard';
import type { Db } from '../store/db';
import { DeliveryLog } from './deliveries';
import { WebhookDispatcher, type DispatcherOptions } from './dispatcher';
import { WebhookStore } from './subscriptions';

export { DeliveryLog, type WebhookDelivery, type DeliveryAttempt, type DeliveryStatus } from './deliveries';
export { DEFAULT_RETRY, WebhookDispatcher, retryDelayMs, type RetrySchedule, type AttemptReport } from './dispatcher';
export { deliveryBody, deliveryHeaders, type DeliveredEvent } from './payload';
export { WebhookStore, eventPatternSchema, type WebhookSubscription } from './subscriptions';

export interface Webhooks {
  store: WebhookStore;
  deliveries: DeliveryLog;
  dispatcher: WebhookDispatcher;
  /** The SSRF guard subscriber URLs are checked with, when saved and at every send. */
  guard: NetworkGuard;
}

export interface WebhookOptions extends Omit<DispatcherOptions, 'db' | 'store' | 'guard' | 'trust'> {
  db: Db;
  /** The credentials key: subscriber secrets are sealed with it. */
  key: Buffer;
  /** The same network policy as Make HTTPS Request (HTTP_ALLOW_LIST, extra CAs). */
  network?: NetworkPolicy;
  resolve?: HostResolver;
}

/** Builds the parts; the caller starts and stops `dispatcher` (API processes run one each). */
export function createWebhooks(options: WebhookOptions): Webhooks {
  const { db, key, network, resolve, ...dispatch } = options;
  const store = new WebhookStore(db, key);
  const guard = new NetworkGuard({ allowList: network?.allowList ?? [], resolve });
  const dispatcher = new WebhookDispatcher({ ...dispatch, db, store, guard, trust: { ca: network?.ca } });
  return { store, deliveries: new DeliveryLog(db), dispatcher, guard };
}
