/** A starting sample payload for a test run, from the trigger. */
import type { Obj } from './graph';

function sampleFor(schema: Obj | undefined, name: string): unknown {
  if (!schema) return null;
  if (schema.default !== undefined) return schema.default;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  switch (schema.type) {
    case 'number':
    case 'integer':
      return schema.minimum ?? 0;
    case 'boolean':
      return false;
    case 'array':
      return [];
    case 'object':
      return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([k, v]) => [k, sampleFor(v as Obj, k)]));
    default:
      return schema.format === 'email' ? 'ada@example.com' : schema.format === 'date' ? '1990-12-10' : `${name}_1`;
  }
}

export function sampleInput(trigger: Obj): unknown {
  switch (trigger.type) {
    case 'api':
      return trigger.inputSchema ? sampleFor(trigger.inputSchema, 'value') : {};
    case 'schedule':
      return trigger.input ?? {};
    case 'event': {
      const type = String(trigger.event || 'inquiry.completed');
      const kind = type.split(/[./]/)[0];
      const object =
        kind === 'inquiry'
          ? { id: 'inq_sample', type: 'inquiry', status: 'completed', template: 'tmpl_kyc_basic', tags: [], fields: { name_first: 'Ada', name_last: 'Lovelace', birthdate: '1990-12-10', email: 'ada@example.com' } }
          : { id: `${kind}_sample`, type: kind, status: 'open', tags: [] };
      return { event: { id: 'evt_sample', type, objectId: object.id, objectType: kind, data: {}, occurredAt: new Date().toISOString() }, object };
    }
    default:
      return {};
  }
}
