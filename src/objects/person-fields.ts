/**
 * A person's data as inquiries and accounts hold it: the fields, how input
 * is checked and normalised (so list checks and filters compare like with
 * like), and which of it is PII for redaction. The field names are the
 * platform's own (`name_first`, `id_number`), as definitions read them:
 * `trigger.object.fields.name_first`.
 */
import { z } from 'zod';

export const PERSON_FIELDS = ['name_first', 'name_last', 'birthdate', 'address', 'country', 'id_number', 'email', 'phone'] as const;
export type PersonFieldName = (typeof PERSON_FIELDS)[number];

/** Every person field is PII: redacting "everything" removes them all. */
export const PII_FIELDS: readonly PersonFieldName[] = PERSON_FIELDS;

export interface Address {
  street: string | null;
  city: string | null;
  postal_code: string | null;
  country: string | null;
}

/** As the API and event snapshots show them: every key present, null when unknown or redacted. */
export type PersonFields = { [K in Exclude<PersonFieldName, 'address'>]: string | null } & { address: Address | null };

const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max);
export const countryCodeSchema = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 country code, e.g. "DE"');

export const emailSchema = z.string().trim().toLowerCase().max(320).pipe(z.email('must be an email address'));

/** Digits with an optional leading +; spaces, dots, dashes and brackets people type are dropped. */
export const phoneSchema = z
  .string()
  .trim()
  .transform((v) => v.replace(/[\s.\-()]/g, ''))
  .pipe(z.string().regex(/^\+?[0-9]{6,15}$/, 'must be a phone number: 6 to 15 digits, optionally starting with +'));

export const birthdateSchema = z.iso
  .date('must be a date, YYYY-MM-DD')
  .refine((d) => d >= '1900-01-01', 'must be on or after 1900-01-01')
  // Compared as text: ISO dates order correctly, and no time zone can make "today" ambiguous by more than a day.
  .refine((d) => d <= new Date().toISOString().slice(0, 10), 'must not be in the future');

export const addressSchema = z.strictObject({
  street: text(300).nullable().optional(),
  city: text(200).nullable().optional(),
  postal_code: text(40).nullable().optional(),
  country: countryCodeSchema.nullable().optional(),
});

/**
 * Input for a person's fields. Every field is optional; null clears a field
 * on update. Unknown fields are rejected so a misspelt `emial` is a 400, not
 * data silently dropped.
 */
export const personFieldsInput = z.strictObject({
  name_first: text(200).nullable().optional(),
  name_last: text(200).nullable().optional(),
  birthdate: birthdateSchema.nullable().optional(),
  address: addressSchema.nullable().optional(),
  country: countryCodeSchema.nullable().optional(),
  id_number: text(100).nullable().optional(),
  email: emailSchema.nullable().optional(),
  phone: phoneSchema.nullable().optional(),
});
export type PersonFieldsInput = z.output<typeof personFieldsInput>;

/** What the row stores: only fields that have a value, so a redacted field is absent, not hidden. */
export type StoredPersonFields = Partial<Record<PersonFieldName, unknown>>;

/** Apply an input to stored fields: values set, nulls remove. Returns the new stored fields and the names that changed. */
export function mergePersonFields(stored: StoredPersonFields, input: PersonFieldsInput): { fields: StoredPersonFields; changed: PersonFieldName[] } {
  const fields: StoredPersonFields = { ...stored };
  const changed: PersonFieldName[] = [];
  for (const name of PERSON_FIELDS) {
    if (!(name in input) || input[name] === undefined) continue;
    const value = name === 'address' && input.address ? compactAddress(input.address) : input[name];
    if (value === null) {
      if (name in fields) {
        delete fields[name];
        changed.push(name);
      }
    } else if (JSON.stringify(fields[name]) !== JSON.stringify(value)) {
      fields[name] = value;
      changed.push(name);
    }
  }
  return { fields, changed };
}

function compactAddress(address: NonNullable<PersonFieldsInput['address']>): Partial<Address> | null {
  const parts = Object.fromEntries(Object.entries(address).filter(([, v]) => v !== null && v !== undefined));
  return Object.keys(parts).length > 0 ? parts : null;
}

export function presentPersonFields(stored: StoredPersonFields | null | undefined): PersonFields {
  const s = stored ?? {};
  const str = (name: PersonFieldName): string | null => (typeof s[name] === 'string' ? (s[name] as string) : null);
  const a = s.address as Partial<Address> | undefined;
  return {
    name_first: str('name_first'),
    name_last: str('name_last'),
    birthdate: str('birthdate'),
    address: a ? { street: a.street ?? null, city: a.city ?? null, postal_code: a.postal_code ?? null, country: a.country ?? null } : null,
    country: str('country'),
    id_number: str('id_number'),
    email: str('email'),
    phone: str('phone'),
  };
}
