/**
 * What a subscriber receives: the event as JSON, in the same shape
 * `POST /v1/events` accepts (so one deployment's webhook can feed another's
 * ingress), signed with the subscriber's secret in the inbound scheme
 * (`Idw-Signature: t=<unix>,v1=<hex hmac_sha256("<t>.<body>")>`, see
 * src/events/signature.ts). The signature is made afresh for every
 * attempt, so a retry hours later is not refused as stale.
 */
import { signBody } from '../events/signature';

export interface DeliveredEvent {
  id: string;
  type: string;
  objectType: string | null;
  objectId: string | null;
  /** The object as it was after the change (absent when the event has none). */
  object?: unknown;
  data: Record<string, unknown>;
  occurredAt: string;
}

export const WEBHOOK_USER_AGENT = 'idw-webhooks/1';

export function deliveryBody(event: DeliveredEvent): string {
  const { object, ...rest } = event;
  return JSON.stringify(object === null || object === undefined ? rest : { ...rest, object });
}

export function deliveryHeaders(input: { secret: string; body: string; eventId: string; eventType: string; deliveryId: string; attempt: number; nowSeconds?: number }): {
  headers: Record<string, string>;
  originOnly: Record<string, string>;
} {
  return {
    headers: {
      'content-type': 'application/json',
      'user-agent': WEBHOOK_USER_AGENT,
      'idw-event-id': input.eventId,
      'idw-event-type': input.eventType,
      'idw-delivery-id': input.deliveryId,
      'idw-delivery-attempt': String(input.attempt),
    },
    originOnly: { 'idw-signature': signBody(input.secret, input.body, input.nowSeconds) },
  };
}
