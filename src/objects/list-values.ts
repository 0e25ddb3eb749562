/**
 * List kinds and how a value of each kind is checked and normalised. The
 * same normalisation runs when an item is added and when a value is looked
 * up, so " Ann@Example.com" finds "ann@example.com" on an email list.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { countryCodeSchema, emailSchema, phoneSchema } from './person-fields';

export const LIST_KINDS = ['email', 'phone', 'name', 'government_id', 'ip', 'country', 'text'] as const;
export type ListKind = (typeof LIST_KINDS)[number];

export const ipSchema = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => isIP(v) !== 0, 'must be an IPv4 or IPv6 address');

const VALUE_SCHEMAS: Record<ListKind, z.ZodType<string, string>> = {
  email: emailSchema,
  phone: phoneSchema,
  // Names compare case- and spacing-insensitively: "  Ann  LEE" is "ann lee".
  name: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(300)
    .transform((v) => v.replace(/\s+/g, ' ').toLowerCase()),
  // Government ids are written with and without separators; compare the characters that matter.
  government_id: z
    .string()
    .transform((v) => v.replace(/[\s\-./]/g, '').toUpperCase())
    .pipe(z.string().min(1, 'must not be empty').max(100)),
  ip: ipSchema,
  country: countryCodeSchema,
  text: z.string().trim().min(1, 'must not be empty').max(500),
};

export type NormalisedValue = { ok: true; value: string } | { ok: false; message: string };

export function normaliseListValue(kind: ListKind, raw: string): NormalisedValue {
  const parsed = VALUE_SCHEMAS[kind].safeParse(raw);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, message: `not a valid ${kind.replace('_', ' ')} value: ${parsed.error.issues[0]?.message ?? 'invalid'}` };
}
