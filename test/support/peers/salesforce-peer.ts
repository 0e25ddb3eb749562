/**
 * A loopback Salesforce org: the SOAP login (POST /services/Soap/u/{version})
 * and the REST sObject endpoints jsforce uses to update a record by id
 * (PATCH /services/data/v{version}/sobjects/{Type}/{Id}: 204) and to upsert
 * one by external id (PATCH .../sobjects/{Type}/{Field}/{value}: 201 with
 * created true, or 200 with created false). Bearer session auth, a small
 * schema (unknown objects and fields are refused as Salesforce refuses
 * them), and Salesforce's error bodies: `[{message, errorCode, fields}]`.
 */
import { randomBytes } from 'node:crypto';
import { bearerToken, HttpPeer, type PeerResponse, type RecordedRequest } from './http-peer';

export interface SalesforceOrg {
  accessToken: string;
  username: string;
  /** Password followed by the security token, as the SOAP login receives it. */
  passwordAndToken: string;
  /** sObject -> its writable fields (the external id fields among them). */
  schema: Record<string, string[]>;
}

export type SalesforceRecords = Map<string, { type: string; fields: Record<string, unknown> }>;

export function salesforceError(status: number, errorCode: string, message: string, fields: string[] = []): PeerResponse {
  return { status, body: [{ message, errorCode, fields }] };
}

export async function startSalesforcePeer(
  org: SalesforceOrg,
): Promise<HttpPeer & { records: SalesforceRecords; newId(type: string): string; /** Set: the SOAP login names this instance instead of the peer. */ loginInstanceUrl?: string }> {
  const records: SalesforceRecords = new Map();
  const sessions = new Set([org.accessToken]);
  const newId = (type: string) => `${type === 'Account' ? '001' : type === 'Contact' ? '003' : 'a0B'}${randomBytes(8).toString('hex').slice(0, 15).toUpperCase()}`;
  let url = '';
  let self: { loginInstanceUrl?: string } | undefined;
  const peer = await HttpPeer.start((request) => handle(request, org, records, sessions, newId, url, self?.loginInstanceUrl ?? url));
  url = peer.url;
  const extended: HttpPeer & { records: SalesforceRecords; newId(type: string): string; loginInstanceUrl?: string } = Object.assign(peer, { records, newId });
  self = extended;
  return extended;
}

function handle(
  request: RecordedRequest,
  org: SalesforceOrg,
  records: SalesforceRecords,
  sessions: Set<string>,
  newId: (type: string) => string,
  url: string,
  loginInstanceUrl: string,
): PeerResponse {
  const soap = /^\/services\/Soap\/u\/([\d.]+)$/.exec(request.path);
  if (soap && request.method === 'POST') return login(request.rawBody, org, sessions, loginInstanceUrl, soap[1]);

  const token = bearerToken(request.headers);
  if (!token || !sessions.has(token)) return salesforceError(401, 'INVALID_SESSION_ID', 'Session expired or invalid');

  const match = /^\/services\/data\/v[\d.]+\/sobjects\/([^/]+)\/([^/]+)(?:\/([^/]+))?$/.exec(request.path);
  if (!match || request.method !== 'PATCH') return salesforceError(404, 'NOT_FOUND', 'The requested resource does not exist');
  const [, type, idOrField, rawValue] = match;
  const fields = org.schema[type];
  if (!fields) return salesforceError(404, 'NOT_FOUND', 'The requested resource does not exist');
  const body = (request.body ?? {}) as Record<string, unknown>;
  const unknown = Object.keys(body).filter((name) => !fields.includes(name));
  if (unknown.length > 0) return salesforceError(400, 'INVALID_FIELD', `No such column '${unknown[0]}' on sobject of type ${type}`);

  if (rawValue === undefined) {
    const record = records.get(idOrField);
    if (!record || record.type !== type) return salesforceError(404, 'NOT_FOUND', 'The requested resource does not exist');
    Object.assign(record.fields, body);
    return { status: 204 };
  }

  const field = idOrField;
  if (!fields.includes(field)) return salesforceError(404, 'NOT_FOUND', `Provided external ID field does not exist or is not accessible: ${field}`);
  const value = decodeURIComponent(rawValue);
  const existing = [...records.entries()].filter(([, r]) => r.type === type && r.fields[field] === value);
  if (existing.length > 1) return { status: 300, body: existing.map(([id]) => `/services/data/v62.0/sobjects/${type}/${id}`) };
  if (existing.length === 1) {
    Object.assign(existing[0][1].fields, body);
    return { status: 200, body: { id: existing[0][0], success: true, errors: [], created: false } };
  }
  const id = newId(type);
  records.set(id, { type, fields: { ...body, [field]: value } });
  return { status: 201, body: { id, success: true, errors: [], created: true } };
}

function login(envelope: string, org: SalesforceOrg, sessions: Set<string>, url: string, version: string): PeerResponse {
  const username = /<username>([^<]*)<\/username>/.exec(envelope)?.[1];
  const password = /<password>([^<]*)<\/password>/.exec(envelope)?.[1];
  if (username !== org.username || password !== org.passwordAndToken) {
    return {
      status: 500,
      headers: { 'content-type': 'text/xml' },
      body:
        '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="urn:fault.partner.soap.sforce.com">' +
        '<soapenv:Body><soapenv:Fault><faultcode>sf:INVALID_LOGIN</faultcode><faultstring>INVALID_LOGIN: Invalid username, password, security token; or user locked out.</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>',
    };
  }
  const sessionId = `00D000000000001!${randomBytes(12).toString('hex')}`;
  sessions.add(sessionId);
  return {
    status: 200,
    headers: { 'content-type': 'text/xml' },
    body:
      '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com">' +
      `<soapenv:Body><loginResponse><result><metadataServerUrl>${url}/services/Soap/m/${version}/00D000000000001</metadataServerUrl><passwordExpired>false</passwordExpired><sandbox>false</sandbox>` +
      `<serverUrl>${url}/services/Soap/u/${version}/00D000000000001</serverUrl><sessionId>${sessionId}</sessionId><userId>005000000000001AAA</userId>` +
      '<userInfo><organizationId>00D000000000001AAA</organizationId><userName>' +
      org.username +
      '</userName></userInfo></result></loginResponse></soapenv:Body></soapenv:Envelope>',
  };
}
