/**
 * The scopes a principal can hold and what each role grants. One list, so
 * API keys, users and the route table can never name a scope that does not
 * exist.
 */
import { z } from 'zod';

export const SCOPES = [
  'workflows:read',
  'workflows:write',
  'workflows:publish',
  'runs:trigger',
  'runs:read',
  'runs:cancel',
  'events:write',
  'objects:read',
  'objects:write',
  'credentials:manage',
  'pii:read',
  'keys:manage',
  'users:manage',
  'audit:read',
  'webhooks:manage',
] as const;
export type Scope = (typeof SCOPES)[number];
export const scopeSchema = z.enum(SCOPES);

export const ROLES = ['admin', 'editor', 'viewer'] as const;
export type Role = (typeof ROLES)[number];
export const roleSchema = z.enum(ROLES);

/** Administration stays with admins: who may act, and what was done. */
const ADMIN_ONLY: readonly Scope[] = ['keys:manage', 'users:manage', 'audit:read', 'credentials:manage'];

export const ROLE_SCOPES: Record<Role, readonly Scope[]> = {
  admin: SCOPES,
  editor: SCOPES.filter((s) => !ADMIN_ONLY.includes(s)),
  // Every :read scope but personal data: a viewer sees masked fields.
  viewer: SCOPES.filter((s) => s.endsWith(':read') && s !== 'pii:read'),
};
