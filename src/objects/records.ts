/**
 * The objects as the API returns them and as event snapshots carry them,
 * and how each is read from its row. One place, so a snapshot in an event
 * and a GET of the same object can never differ in shape.
 */
import type { ObjectType } from './ids';
import type { ListKind } from './list-values';
import { presentPersonFields, type PersonFields, type StoredPersonFields } from './person-fields';
import type { AccountStatus, CaseResolution, CaseStatus, InquiryStatus, ReportStatus } from './transitions';

export interface Inquiry {
  id: string;
  object: 'inquiry';
  template: string;
  status: InquiryStatus;
  accountId: string | null;
  fields: PersonFields;
  scores: Record<string, number>;
  tags: string[];
  /** Set when all personal data was redacted; the fields are then all null. */
  redactedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Account {
  id: string;
  object: 'account';
  referenceId: string | null;
  status: AccountStatus;
  fields: PersonFields;
  tags: string[];
  redactedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export const CASE_PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type CasePriority = (typeof CASE_PRIORITIES)[number];

export interface Case {
  id: string;
  object: 'case';
  title: string;
  status: CaseStatus;
  resolution: CaseResolution | null;
  assignee: string | null;
  priority: CasePriority;
  /** Ids of the objects this case is about (inquiries, accounts, reports, devices...). */
  links: string[];
  tags: string[];
  resolvedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export const REPORT_TYPES = ['watchlist', 'pep', 'adverse_media', 'email_risk', 'phone_risk', 'ip_risk', 'address_lookup', 'id_number_lookup'] as const;
export type ReportType = (typeof REPORT_TYPES)[number];

export interface Report {
  id: string;
  object: 'report';
  type: ReportType;
  status: ReportStatus;
  /** The object the check ran on (usually an inquiry or an account). */
  objectId: string | null;
  /** null until the report is ready. */
  hasMatch: boolean | null;
  matches: Record<string, unknown>[];
  /** The provider's result beyond the matches (scores, reasons), as it sent it. */
  details: Record<string, unknown>;
  error: string | null;
  tags: string[];
  completedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface List {
  id: string;
  object: 'list';
  name: string;
  kind: ListKind;
  description: string;
  itemCount: number;
  tags: string[];
  createdAt: string;
  updatedAt: string;
}

export interface Device {
  id: string;
  object: 'device';
  fingerprint: string;
  ip: string | null;
  trusted: boolean;
  trustedAt: string | null;
  accountId: string | null;
  inquiryId: string | null;
  tags: string[];
  createdAt: string;
  updatedAt: string;
}

export interface ObjectOf {
  inquiry: Inquiry;
  account: Account;
  case: Case;
  report: Report;
  list: List;
  device: Device;
}
export type AnyObject = ObjectOf[ObjectType];

export type Row = Record<string, unknown>;

const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString());
const isoOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : iso(v));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const tags = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : []);

export const present: { [K in ObjectType]: (row: Row) => ObjectOf[K] } = {
  inquiry: (r) => ({
    id: String(r.id),
    object: 'inquiry',
    template: String(r.template),
    status: r.status as InquiryStatus,
    accountId: strOrNull(r.account_id),
    fields: presentPersonFields(r.fields as StoredPersonFields),
    scores: (r.scores ?? {}) as Record<string, number>,
    tags: tags(r.tags),
    redactedAt: isoOrNull(r.redacted_at),
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  }),
  account: (r) => ({
    id: String(r.id),
    object: 'account',
    referenceId: strOrNull(r.reference_id),
    status: r.status as AccountStatus,
    fields: presentPersonFields(r.fields as StoredPersonFields),
    tags: tags(r.tags),
    redactedAt: isoOrNull(r.redacted_at),
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  }),
  case: (r) => ({
    id: String(r.id),
    object: 'case',
    title: String(r.title),
    status: r.status as CaseStatus,
    resolution: (r.resolution ?? null) as CaseResolution | null,
    assignee: strOrNull(r.assignee),
    priority: r.priority as CasePriority,
    links: tags(r.links),
    tags: tags(r.tags),
    resolvedAt: isoOrNull(r.resolved_at),
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  }),
  report: (r) => ({
    id: String(r.id),
    object: 'report',
    type: r.type as ReportType,
    status: r.status as ReportStatus,
    objectId: strOrNull(r.object_id),
    hasMatch: r.has_match === null || r.has_match === undefined ? null : Boolean(r.has_match),
    matches: (r.matches ?? []) as Record<string, unknown>[],
    details: (r.details ?? {}) as Record<string, unknown>,
    error: strOrNull(r.error),
    tags: tags(r.tags),
    completedAt: isoOrNull(r.completed_at),
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  }),
  list: (r) => ({
    id: String(r.id),
    object: 'list',
    name: String(r.name),
    kind: r.kind as ListKind,
    description: String(r.description ?? ''),
    itemCount: Number(r.item_count ?? 0),
    tags: tags(r.tags),
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  }),
  device: (r) => ({
    id: String(r.id),
    object: 'device',
    fingerprint: String(r.fingerprint),
    ip: strOrNull(r.ip),
    trusted: Boolean(r.trusted),
    trustedAt: isoOrNull(r.trusted_at),
    accountId: strOrNull(r.account_id),
    inquiryId: strOrNull(r.inquiry_id),
    tags: tags(r.tags),
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  }),
};

/** The table of each type; never built from input, so safe to place in SQL text. */
export const TABLE: Record<ObjectType, string> = {
  inquiry: 'inquiries',
  account: 'accounts',
  case: 'cases',
  report: 'reports',
  list: 'lists',
  device: 'devices',
};

/** SELECT list of each type (lists also count their items). */
export function selectFrom(type: ObjectType, alias = 'o'): string {
  const table = TABLE[type];
  if (type === 'list') return `SELECT ${alias}.*, (SELECT count(*) FROM list_items i WHERE i.list_id = ${alias}.id) AS item_count FROM ${table} ${alias}`;
  return `SELECT ${alias}.* FROM ${table} ${alias}`;
}
