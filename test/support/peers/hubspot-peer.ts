/**
 * A loopback HubSpot CRM v3 API: PATCH /crm/v3/objects/{contacts|companies|deals}/{id}
 * (and, for contacts, `?idProperty=email` to address one by email), with a
 * private-app token as Bearer, a JSON `{properties}` body, the
 * SimplePublicObject answer, and HubSpot's error bodies
 * ({status: "error", message, correlationId, category}).
 */
import { randomUUID } from 'node:crypto';
import { bearerToken, HttpPeer, type PeerResponse, type RecordedRequest } from './http-peer';

export type HubspotObjectType = 'contacts' | 'companies' | 'deals';

export interface HubspotRecord {
  id: string;
  properties: Record<string, string>;
  updatedAt: string;
}

export interface HubspotPortal {
  accessToken: string;
  /** Object type -> the properties it has. */
  properties: Record<HubspotObjectType, string[]>;
}

export function hubspotError(status: number, category: string, message: string): PeerResponse {
  return { status, body: { status: 'error', message, correlationId: randomUUID(), category } };
}

export async function startHubspotPeer(portal: HubspotPortal): Promise<HttpPeer & { records: Record<HubspotObjectType, Map<string, HubspotRecord>> }> {
  const records: Record<HubspotObjectType, Map<string, HubspotRecord>> = { contacts: new Map(), companies: new Map(), deals: new Map() };
  const peer = await HttpPeer.start((request) => handle(request, portal, records));
  return Object.assign(peer, { records });
}

function handle(request: RecordedRequest, portal: HubspotPortal, records: Record<HubspotObjectType, Map<string, HubspotRecord>>): PeerResponse {
  if (bearerToken(request.headers) !== portal.accessToken) {
    return hubspotError(401, 'INVALID_AUTHENTICATION', 'Authentication credentials not found. This API supports OAuth 2.0 authentication.');
  }
  const match = /^\/crm\/v3\/objects\/(contacts|companies|deals)\/([^/]+)$/.exec(request.path);
  if (!match || request.method !== 'PATCH') return { status: 404, body: '' };
  const type = match[1] as HubspotObjectType;
  const key = decodeURIComponent(match[2]);
  const idProperty = request.query.idProperty;
  const found =
    idProperty === undefined
      ? records[type].get(key)
      : [...records[type].values()].find((record) => record.properties[idProperty]?.toLowerCase() === key.toLowerCase());
  if (!found) return hubspotError(404, 'OBJECT_NOT_FOUND', 'resource not found');
  const properties = ((request.body ?? {}) as { properties?: Record<string, unknown> }).properties ?? {};
  const unknown = Object.keys(properties).filter((name) => !portal.properties[type].includes(name));
  if (unknown.length > 0) {
    return hubspotError(400, 'VALIDATION_ERROR', `Property values were not valid: [{"isValid":false,"message":"Property \\"${unknown[0]}\\" does not exist","error":"PROPERTY_DOESNT_EXIST","name":"${unknown[0]}"}]`);
  }
  const nonString = Object.entries(properties).find(([, value]) => typeof value !== 'string');
  if (nonString) return hubspotError(400, 'VALIDATION_ERROR', `Invalid input JSON: property ${nonString[0]} must be a string`);
  Object.assign(found.properties, properties);
  found.updatedAt = new Date().toISOString();
  return {
    status: 200,
    body: { id: found.id, properties: { ...found.properties, hs_object_id: found.id }, createdAt: '2024-01-02T03:04:05.000Z', updatedAt: found.updatedAt, archived: false },
  };
}
