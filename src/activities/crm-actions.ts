/**
 * CRM and helpdesk actions: Update Salesforce (jsforce), Update HubSpot
 * (@hubspot/api-client), Update Zendesk (node-zendesk). Each names a
 * credential by id and resolves it here, inside the activity, so its secret
 * never enters workflow history. The protocol work lives in src/integrations.
 */
import { z } from 'zod';
import { assertParams, callIntegration, credentialParam, HTTP_INTEGRATION_ERROR_TYPES, HTTP_INTEGRATION_POLICY, namedRecord } from '../integrations/action-support';
import { credentialForAction } from '../credentials/action-credentials';
import { assertEndpointAllowed } from '../integrations/endpoint-guard';
import { HUBSPOT_API_URL, updateHubspotRecord, type HubspotTarget } from '../integrations/hubspot';
import { saveSalesforceRecord, type SalesforceTarget } from '../integrations/salesforce';
import { updateZendeskTicket } from '../integrations/zendesk';
import { defineAction, type ActionDefinition } from './action-definition';
import type { ActionDeps } from './index';

const SALESFORCE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,79}$/;
const salesforceNameRule = (what: string) => `must be ${what} API name: a letter, then letters, digits and _ (e.g. Account, Inquiry_Id__c)`;
const salesforceName = (what: string) => z.string().regex(SALESFORCE_NAME, salesforceNameRule(what));

const isScalar = (value: unknown): boolean => value === null || ['string', 'number', 'boolean'].includes(typeof value);

/** A number from a template arrives as a string: accept both. */
const digitsToNumber = (value: unknown): unknown => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value);
const numberToString = (value: unknown): unknown => (typeof value === 'number' && Number.isFinite(value) ? String(value) : value);

export const updateSalesforceParams = z.strictObject({
  credential: credentialParam,
  object: salesforceName('an sObject'),
  /** Update this record (15 or 18 characters). */
  recordId: z
    .string()
    .regex(/^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/, 'must be a 15- or 18-character Salesforce record id')
    .optional(),
  /** Or upsert by this external id field and value. */
  externalIdField: salesforceName('a field').optional(),
  externalId: z.preprocess(numberToString, z.string().min(1).max(255)).optional(),
  fields: namedRecord(
    SALESFORCE_NAME,
    salesforceNameRule('a field'),
    z.unknown().refine(
        (value) => isScalar(value) || (typeof value === 'object' && !Array.isArray(value) && Object.values(value as object).every(isScalar)),
      'must be a string, number, boolean or null, or {"Ext_Field__c": value} to point at a related record',
    ),
  ).refine((fields) => Object.keys(fields).length > 0, 'give at least one field to write'),
});

export const updateHubspotParams = z.strictObject({
  credential: credentialParam,
  object: z.enum(['contact', 'company', 'deal'], 'must be contact, company or deal'),
  id: z.preprocess(numberToString, z.string().regex(/^\d{1,20}$/, 'must be the record id (digits)')).optional(),
  /** Contacts only: address the contact by its email instead of its id. */
  email: z.email('must be an email address').optional(),
  properties: namedRecord(/^[A-Za-z0-9_]{1,100}$/, 'HubSpot property names are letters, digits and _', z.union([z.string(), z.number(), z.boolean(), z.null()])).refine(
    (properties) => Object.keys(properties).length > 0,
    'give at least one property to set',
  ),
});

const zendeskTags = z.array(z.string().regex(/^[^\s,]{1,80}$/, 'a tag has no spaces or commas (at most 80 characters)')).max(100);

export const updateZendeskParams = z.strictObject({
  credential: credentialParam,
  ticketId: z.preprocess(digitsToNumber, z.number().int('must be a ticket number').positive('must be a ticket number')),
  comment: z
    .strictObject({
      body: z.string().min(1, 'a comment needs a body').max(65_000),
      /** false: an internal note only agents see. */
      public: z.boolean().default(true),
    })
    .optional(),
  tags: z
    .strictObject({ set: zendeskTags.optional(), add: zendeskTags.optional(), remove: zendeskTags.optional() })
    .superRefine((tags, ctx) => {
      if (tags.set && (tags.add || tags.remove)) ctx.addIssue({ code: 'custom', path: ['set'], message: 'set replaces all tags: use it alone, or add/remove' });
      if (!tags.set && !tags.add && !tags.remove) ctx.addIssue({ code: 'custom', message: 'give set, add or remove' });
    })
    .optional(),
  status: z.enum(['new', 'open', 'pending', 'hold', 'solved', 'closed'], 'must be new, open, pending, hold, solved or closed').optional(),
  customFields: z
    .array(
      z.strictObject({
        id: z.number().int().positive('the id of a ticket field'),
        value: z
          .unknown()
          .refine((value) => isScalar(value) || (Array.isArray(value) && value.every((v) => typeof v === 'string')), 'must be a string, number, boolean, null or a list of strings'),
      }),
    )
    .max(100)
    .optional(),
});

export function crmActions(deps: ActionDeps): ActionDefinition<never>[] {
  const updateSalesforce = defineAction({
    name: 'update_salesforce',
    title: 'Update Salesforce',
    description: 'Update a Salesforce record by id, or upsert it by an external id field, with the org of a salesforce credential.',
    params: updateSalesforceParams,
    policy: HTTP_INTEGRATION_POLICY,
    errorTypes: HTTP_INTEGRATION_ERROR_TYPES,
    async run(params, context) {
      const byExternalId = params.externalIdField !== undefined || params.externalId !== undefined;
      assertParams('update_salesforce', [
        params.recordId !== undefined && byExternalId && { path: ['recordId'], message: 'give recordId, or externalIdField and externalId, not both' },
        params.recordId === undefined && !byExternalId && { path: ['recordId'], message: 'give recordId, or externalIdField and externalId' },
        byExternalId && params.externalIdField === undefined && { path: ['externalIdField'], message: 'an upsert needs the external id field too' },
        byExternalId && params.externalId === undefined && { path: ['externalId'], message: 'an upsert needs the external id value too' },
        'Id' in params.fields && { path: ['fields', 'Id'], message: 'the record is named by recordId, not by a field' },
        params.externalIdField !== undefined &&
          params.externalIdField in params.fields && { path: ['fields', params.externalIdField], message: 'the external id is given by externalId' },
      ]);
      const target: SalesforceTarget = params.recordId !== undefined ? { recordId: params.recordId } : { externalIdField: params.externalIdField!, externalId: params.externalId! };
      const secret = await credentialForAction(deps.credentials, params.credential, 'salesforce');
      const saved = await callIntegration('Salesforce', async () => {
        await assertEndpointAllowed(secret.instanceUrl, deps.network);
        if (secret.loginUrl) await assertEndpointAllowed(secret.loginUrl, deps.network);
        return saveSalesforceRecord(secret, params.object, target, params.fields, (url) => assertEndpointAllowed(url, deps.network));
      });
      context.log('salesforce record saved', { object: params.object, id: saved.id, created: saved.created });
      return saved;
    },
  });

  const updateHubspot = defineAction({
    name: 'update_hubspot',
    title: 'Update HubSpot',
    description: 'Set properties of a HubSpot contact, company or deal, by id (or a contact by email), with the token of a hubspot credential.',
    params: updateHubspotParams,
    policy: HTTP_INTEGRATION_POLICY,
    errorTypes: HTTP_INTEGRATION_ERROR_TYPES,
    async run(params, context) {
      assertParams('update_hubspot', [
        params.id !== undefined && params.email !== undefined && { path: ['email'], message: 'give id or email, not both' },
        params.id === undefined && params.email === undefined && { path: ['id'], message: 'give the record id (or, for a contact, its email)' },
        params.email !== undefined && params.object !== 'contact' && { path: ['email'], message: 'only contacts can be found by email; give the id' },
      ]);
      const target: HubspotTarget = params.id !== undefined ? { id: params.id } : { email: params.email! };
      // HubSpot property values are strings; an empty string clears a property.
      const properties = Object.fromEntries(Object.entries(params.properties).map(([name, value]) => [name, value === null ? '' : String(value)]));
      const secret = await credentialForAction(deps.credentials, params.credential, 'hubspot');
      const updated = await callIntegration('HubSpot', async () => {
        const destination = await assertEndpointAllowed(secret.basePath ?? HUBSPOT_API_URL, deps.network);
        return updateHubspotRecord(secret, params.object, target, properties, destination);
      });
      context.log('hubspot record updated', { object: params.object, id: updated.id });
      return updated;
    },
  });

  const updateZendesk = defineAction({
    name: 'update_zendesk',
    title: 'Update Zendesk',
    description: 'Update a Zendesk ticket: add a public or private comment, set or add tags, change status and custom fields.',
    params: updateZendeskParams,
    policy: HTTP_INTEGRATION_POLICY,
    errorTypes: HTTP_INTEGRATION_ERROR_TYPES,
    async run(params, context) {
      assertParams('update_zendesk', [
        !params.comment && !params.tags && !params.status && !params.customFields?.length && { path: ['comment'], message: 'give at least one change: comment, tags, status or customFields' },
      ]);
      const secret = await credentialForAction(deps.credentials, params.credential, 'zendesk');
      const updated = await callIntegration('Zendesk', async () => {
        if (secret.remoteUri) await assertEndpointAllowed(secret.remoteUri, deps.network);
        return updateZendeskTicket(
          secret,
          params.ticketId,
          { comment: params.comment, tags: params.tags, status: params.status, customFields: params.customFields as Array<{ id: number; value: unknown }> | undefined },
          { signal: context.signal },
        );
      });
      context.log('zendesk ticket updated', { ticketId: updated.ticketId, status: updated.status });
      return updated;
    },
  });

  return [updateSalesforce, updateHubspot, updateZendesk] as ActionDefinition<never>[];
}
