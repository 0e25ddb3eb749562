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
import type { Queryable } from '../store/db';

export const MASK = '***';

/**
 * Field names are compared by their parts, case-insensitively: `Email`,
 * `applicant_email`, `applicantEmail` and `APPLICANT-EMAIL` are all
 * ["applicant", "email"]. A name is personal when all its parts together
 * are a known personal name (`name`, `first_name`, `dateOfBirth`, ...),
 * when its last part names personal data on its own (`..._email`,
 * `...Passport`, `..._ssn`), or when it is a `name` qualified by a person
 * (`applicant_name`, `customerName`, `legal_name`), but not a thing's name
 * (`workflowName`, `list_name`).
 */
export function nameParts(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** Whole names (parts joined) that are personal. A person's fields hold `country` too, but a bare `country` elsewhere (a list's, a watchlist entry's) says nothing about a person. */
const PII_WHOLE = new Set<string>([
  ...PERSON_FIELDS.filter((f) => f !== 'country').map((f) => f.replace(/_/g, '')),
  'name',
  'firstname',
  'lastname',
  'fullname',
  'middlename',
  'givenname',
  'familyname',
  'surname',
  'maidenname',
  'birthdate',
  'dateofbirth',
  'dob',
  'birthday',
  'idnumber',
  'nationalid',
  'ssn',
  'passport',
  'passportnumber',
  'taxid',
  'emailaddress',
  'phonenumber',
  'mobile',
  'street',
  'streetaddress',
  'homeaddress',
  'postaladdress',
  'ipaddress',
]);
/** A last part that is personal data on its own, whatever qualifies it (`applicant_email`, `holderPassport`). */
const PII_HEADS = new Set(['email', 'emails', 'phone', 'phones', 'passport', 'ssn', 'dob', 'birthdate', 'birthday', 'surname', 'firstname', 'lastname', 'fullname', 'mobile']);
/** Who a `..._name` is of, for it to be a person's name. */
const PERSON_QUALIFIERS = new Set([
  'first', 'last', 'middle', 'full', 'given', 'family', 'maiden', 'legal', 'birth', 'display', 'preferred', 'real',
  'applicant', 'customer', 'person', 'user', 'client', 'contact', 'holder', 'owner', 'beneficiary', 'subject', 'individual',
  'member', 'employee', 'patient', 'guardian', 'parent', 'spouse', 'director', 'shareholder', 'signatory', 'officer',
]);

/** Whether a field name says it holds personal data (see `nameParts`). */
export function isPiiName(key: string): boolean {
  const parts = nameParts(key);
  if (parts.length === 0) return false;
  if (PII_WHOLE.has(parts.join(''))) return true;
  const last = parts[parts.length - 1];
  if (PII_HEADS.has(last)) return true;
  if (last === 'name' && parts.length > 1) return PERSON_QUALIFIERS.has(parts[parts.length - 2]);
  return false;
}

/** Field names an input schema marks `"x-pii": true`, compared as `nameParts` joined. */
export type PiiNames = ReadonlySet<string>;
export const piiNameKey = (key: string): string => nameParts(key).join('_');

const PERSON_FIELD_SET = new Set<string>(PERSON_FIELDS);

/** The platform's own objects that are not people: their `name` is a list's or a case's, not a person's. */
const NOT_PEOPLE = new Set(['list', 'case', 'report', 'device', 'workflow', 'webhook', 'credential', 'request_template', 'watchlist']);

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
export function maskPii(value: unknown, options: { mask: boolean; scan?: PiiScan; extraKeys?: ReadonlySet<string>; schemaNames?: PiiNames }, owner?: string): unknown {
  if (Array.isArray(value)) return value.map((v) => maskPii(v, options, owner));
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  const id = typeof record.id === 'string' ? record.id : owner;
  const thing = typeof record.object === 'string' && NOT_PEOPLE.has(record.object);
  const isPii = (key: string) => (isPiiName(key) && !(thing && key === 'name')) || (options.schemaNames?.has(piiNameKey(key)) ?? false);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(record)) {
    const personFields = key === 'fields' && v !== null && typeof v === 'object' && !Array.isArray(v);
    if (personFields) {
      const fields: Record<string, unknown> = {};
      for (const [name, fv] of Object.entries(v as Record<string, unknown>)) {
        const pii = PERSON_FIELD_SET.has(name) || isPii(name);
        if (pii && hasValue(fv)) note(options.scan, id, name);
        fields[name] = pii ? (options.mask ? maskValue(fv) : fv) : maskPii(fv, options, id);
      }
      out[key] = fields;
    } else if (isPii(key) || options.extraKeys?.has(key)) {
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

/**
 * The field names any workflow's schemas (drafts and published versions)
 * mark `"x-pii": true`, as `piiNameKey`s: masked like the built-in names.
 * Kept per database until a workflow is saved or a version published (a
 * cheap fingerprint query says so), so a field marked a moment ago is never
 * shown unmasked.
 */
export async function schemaPiiNames(db: Queryable): Promise<PiiNames> {
  const { rows: [mark] } = await db.query<{ mark: string }>(
    `SELECT concat_ws('/', (SELECT max(updated_at) FROM workflows), (SELECT count(*) FROM workflows), (SELECT count(*) FROM workflow_versions)) AS mark`,
  );
  const cached = SCHEMA_NAMES.get(db);
  if (cached && cached.mark === mark.mark) return cached.names;
  const { rows } = await db.query<{ name: string }>(
    `SELECT DISTINCT kv #>> '{}' AS name
       FROM (SELECT draft AS d FROM workflows UNION ALL SELECT definition FROM workflow_versions) s,
            LATERAL jsonb_path_query(s.d, 'lax $.**.properties.keyvalue() ? (@.value."x-pii" == true).key') AS kv`,
  );
  const names = new Set(rows.map((r) => piiNameKey(r.name)));
  SCHEMA_NAMES.set(db, { mark: mark.mark, names });
  return names;
}
const SCHEMA_NAMES = new WeakMap<object, { mark: string; names: PiiNames }>();

/**
 * A copy of a JSON value with every value under a personal field name (or
 * a schema's `x-pii` name) set to null: what redaction leaves of event data.
 * `changed` says whether anything was there to remove.
 */
export function nullPii(value: unknown, schemaNames?: PiiNames): { value: unknown; changed: boolean } {
  let changed = false;
  const walk = (v: unknown, depth: number): unknown => {
    if (v === null || typeof v !== 'object' || depth > 64) return v;
    if (Array.isArray(v)) return v.map((item) => walk(item, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(v as Record<string, unknown>)) {
      if ((isPiiName(key) || schemaNames?.has(piiNameKey(key))) && hasValue(child)) {
        out[key] = null;
        changed = true;
      } else out[key] = walk(child, depth + 1);
    }
    return out;
  };
  return { value: walk(value, 0), changed };
}
