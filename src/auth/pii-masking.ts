/**
 * PII masking for principals without `pii:read`. Answers are walked as
 * JSON: a person's `fields` (inquiries, accounts, and every snapshot or run
 * output holding one) are masked whole, and anywhere else a value under a
 * known PII field name (`email`, `name_first`, `birthdate`, ...: the person
 * fields of src/objects/person-fields.ts and their common spellings in
 * trigger payloads) is masked. Absent and null stay null, so a reader still
 * sees which fields are set. The same walk tells a reader who may see PII
 * which objects' PII an answer showed, for the audit log.
 */
import { PERSON_FIELDS } from '../objects/person-fields';

export const MASK = '***';

/** A person's fields hold `country` too, but a bare `country` elsewhere (a list's, a watchlist entry's) says nothing about a person. */
const PII_KEYS = new Set<string>([
  ...PERSON_FIELDS.filter((f) => f !== 'country'),
  'first_name',
  'last_name',
  'full_name',
  'middle_name',
  'firstName',
  'lastName',
  'fullName',
  'birth_date',
  'birthDate',
  'date_of_birth',
  'dateOfBirth',
  'dob',
  'idNumber',
  'national_id',
  'ssn',
  'passport_number',
  'email_address',
  'emailAddress',
  'phone_number',
  'phoneNumber',
  'street',
]);
const PERSON_FIELD_SET = new Set<string>(PERSON_FIELDS);

export interface PiiScan {
  /** Ids of the objects whose PII the answer holds (innermost object with an `id`). */
  objects: Set<string>;
  /** The PII field names that had a value. */
  fields: Set<string>;
}

function maskValue(value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (Array.isArray(value)) return value.map(maskValue);
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskValue(v)]));
  return MASK;
}

const hasValue = (value: unknown): boolean =>
  value !== null && value !== undefined && (typeof value !== 'object' || Object.values(value as object).some(hasValue));

/**
 * Returns the value with PII masked (when `mask`), and fills `scan` with
 * what PII it held. `extraKeys` are masked too (e.g. list item values).
 */
export function maskPii(value: unknown, options: { mask: boolean; scan?: PiiScan; extraKeys?: ReadonlySet<string> }, owner?: string): unknown {
  if (Array.isArray(value)) return value.map((v) => maskPii(v, options, owner));
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  const id = typeof record.id === 'string' ? record.id : owner;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(record)) {
    const personFields = key === 'fields' && v !== null && typeof v === 'object' && !Array.isArray(v);
    if (personFields) {
      const fields: Record<string, unknown> = {};
      for (const [name, fv] of Object.entries(v as Record<string, unknown>)) {
        const pii = PERSON_FIELD_SET.has(name) || PII_KEYS.has(name);
        if (pii && hasValue(fv)) note(options.scan, id, name);
        fields[name] = pii ? (options.mask ? maskValue(fv) : fv) : maskPii(fv, options, id);
      }
      out[key] = fields;
    } else if (PII_KEYS.has(key) || options.extraKeys?.has(key)) {
      if (hasValue(v)) note(options.scan, id, key);
      out[key] = options.mask ? maskValue(v) : v;
    } else {
      out[key] = maskPii(v, options, id);
    }
  }
  return out;
}

function note(scan: PiiScan | undefined, id: string | undefined, field: string): void {
  if (!scan) return;
  if (id) scan.objects.add(id);
  scan.fields.add(field);
}

/** Route families whose answers carry the identity platform's data (and so, PII). */
const PII_FAMILIES = ['inquiries', 'accounts', 'cases', 'reports', 'lists', 'devices', 'objects', 'events', 'runs'];

/**
 * Whether answers of this /v1 route pattern are masked, and which keys
 * beyond the PII names (list items are e-mails, phones, id numbers..., and
 * `list.*` events carry the item's `value`).
 */
export function piiPolicyFor(pattern: string): { masked: boolean; extraKeys?: ReadonlySet<string> } {
  const parts = pattern.split('/'); // ['', 'v1', family, ...]
  if (parts[1] !== 'v1') return { masked: false };
  const family = parts[2];
  if (family === 'workflows' && parts[4] === 'runs') return { masked: true };
  // Tags on any collection answer with the object.
  if (family === ':collection') return { masked: true };
  if (!PII_FAMILIES.includes(family)) return { masked: false };
  if (family === 'lists' && parts[4] === 'items') return { masked: true, extraKeys: VALUE };
  if (family === 'events') return { masked: true, extraKeys: VALUE };
  return { masked: true };
}
const VALUE: ReadonlySet<string> = new Set(['value']);
