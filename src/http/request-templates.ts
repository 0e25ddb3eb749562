/**
 * Request templates ("webhooks"): an HTTPS request defined once (endpoint,
 * method, headers, credential, signing, timeout...) and named by many
 * https_request steps, which add or override what differs per step
 * (usually the body). Stored in `request_templates`; the credential is a
 * column with a foreign key, so a credential in use cannot be deleted.
 *
 * Templates hold no secrets: their headers are returned by the API like
 * any other field. Tokens and passwords belong in an https credential.
 */
import { ulid } from 'ulid';
import { z } from 'zod';
import { CREDENTIAL_ID_PATTERN } from '../credentials/store';
import type { Queryable } from '../store/db';

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export const REQUEST_TEMPLATE_ID_PATTERN = /^rt_[0-9a-z]{1,64}$/;

export const HTTP_TIMEOUT_LIMITS = { defaultMs: 10_000, minMs: 100, maxMs: 60_000 } as const;

/** Headers the client sets itself: a step may not forge them (request smuggling, a wrong Host). */
const RESERVED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'keep-alive', 'te', 'trailer', 'expect']);

const headerName = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/, 'not a valid header name')
  .refine((name) => !RESERVED_HEADERS.has(name.toLowerCase()), { message: 'this header is set by the client and cannot be given' });

// Header values may not contain line breaks (header injection).
const headerValue = z.string().max(8192).regex(/^[^\r\n]*$/, 'header values cannot contain line breaks');

export const httpUrl = z
  .string()
  .max(8192)
  .refine(
    (value) => {
      try {
        const url = new URL(value);
        return url.protocol === 'https:' || url.protocol === 'http:';
      } catch {
        return false;
      }
    },
    { message: 'not an absolute https:// URL' },
  );

/** The parts of a request a template fixes and a step may override. */
export const requestFields = {
  method: z.enum(HTTP_METHODS).optional(),
  url: httpUrl.optional(),
  /** Added to the URL's query string (values are encoded). */
  query: z.record(z.string().min(1).max(256), z.union([z.string().max(8192), z.number(), z.boolean()])).optional(),
  headers: z.record(headerName, headerValue).optional(),
  /** A string is sent as is; any other JSON value is sent as JSON. */
  body: z.unknown().optional(),
  /** An https credential: headers, bearer token, basic auth, signing secret. */
  credential: z.string().regex(CREDENTIAL_ID_PATTERN, 'not a credential id (cred_...)').optional(),
  /** Add an Idw-Signature header over the body, with the credential's signingSecret. */
  sign: z.boolean().optional(),
  timeoutMs: z.number().int().min(HTTP_TIMEOUT_LIMITS.minMs).max(HTTP_TIMEOUT_LIMITS.maxMs).optional(),
  /** false: a 4xx answer is the step's output instead of a failure. */
  failOn4xx: z.boolean().optional(),
  /** false: a redirect is the step's output instead of being followed. */
  followRedirects: z.boolean().optional(),
};

export const requestSpec = z.strictObject(requestFields);
export type RequestSpec = z.output<typeof requestSpec>;

export const templateInput = z.strictObject({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).optional(),
  ...requestFields,
  url: httpUrl,
});
export type TemplateInput = z.output<typeof templateInput>;

export interface RequestTemplate extends RequestSpec {
  id: string;
  name: string;
  description: string;
  url: string;
  createdAt: string;
  updatedAt: string;
}

interface Row {
  id: string;
  name: string;
  description: string;
  request: RequestSpec;
  credential_id: string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

/** The referenced credential does not exist (or is not an https credential). */
export class TemplateCredentialError extends Error {}

export class RequestTemplateStore {
  constructor(private readonly db: Queryable) {}

  async create(input: TemplateInput): Promise<RequestTemplate> {
    await this.checkCredential(input.credential);
    const { name, description, credential, ...request } = input;
    const { rows } = await this.db.query<Row>(
      `INSERT INTO request_templates (id, name, description, request, credential_id) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
      [`rt_${ulid().toLowerCase()}`, name, description ?? '', JSON.stringify(request), credential ?? null],
    );
    return present(rows[0]);
  }

  async get(id: string): Promise<RequestTemplate | undefined> {
    if (!REQUEST_TEMPLATE_ID_PATTERN.test(id)) return undefined;
    const { rows } = await this.db.query<Row>('SELECT * FROM request_templates WHERE id = $1', [id]);
    return rows[0] ? present(rows[0]) : undefined;
  }

  async list(): Promise<RequestTemplate[]> {
    const { rows } = await this.db.query<Row>('SELECT * FROM request_templates ORDER BY id');
    return rows.map(present);
  }

  /** Replace the whole template (PUT semantics); undefined when there is no such template. */
  async replace(id: string, input: TemplateInput): Promise<RequestTemplate | undefined> {
    if (!REQUEST_TEMPLATE_ID_PATTERN.test(id)) return undefined;
    await this.checkCredential(input.credential);
    const { name, description, credential, ...request } = input;
    const { rows } = await this.db.query<Row>(
      `UPDATE request_templates SET name = $2, description = $3, request = $4, credential_id = $5, updated_at = now() WHERE id = $1 RETURNING *`,
      [id, name, description ?? '', JSON.stringify(request), credential ?? null],
    );
    return rows[0] ? present(rows[0]) : undefined;
  }

  async delete(id: string): Promise<boolean> {
    const { rows } = await this.db.query<{ id: string }>('DELETE FROM request_templates WHERE id = $1 RETURNING id', [id]);
    return rows.length > 0;
  }

  /** Templates that use a credential (why it cannot be deleted). */
  async usingCredential(credentialId: string): Promise<string[]> {
    const { rows } = await this.db.query<{ id: string }>('SELECT id FROM request_templates WHERE credential_id = $1 ORDER BY id', [credentialId]);
    return rows.map((r) => r.id);
  }

  private async checkCredential(id: string | undefined): Promise<void> {
    if (id === undefined) return;
    const { rows } = await this.db.query<{ kind: string }>('SELECT kind FROM credentials WHERE id = $1', [id]);
    if (!rows[0]) throw new TemplateCredentialError(`no credential "${id}"`);
    if (rows[0].kind !== 'https') throw new TemplateCredentialError(`credential "${id}" is of kind ${rows[0].kind}; a request template needs one of kind https`);
  }
}

/**
 * A step's request: the template's fields with the step's given fields on
 * top. Headers and query parameters merge name by name (header names
 * case-insensitively); every other field the step gives replaces the
 * template's.
 */
export function mergeRequest(template: RequestSpec | undefined, step: RequestSpec): RequestSpec {
  if (!template) return step;
  const merged: RequestSpec = { ...template };
  for (const [key, value] of Object.entries(step) as [keyof RequestSpec, unknown][]) {
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  }
  merged.headers = mergeHeaders(template.headers, step.headers);
  if (template.query || step.query) merged.query = { ...template.query, ...step.query };
  return merged;
}

export function mergeHeaders(...sets: (Record<string, string> | undefined)[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const set of sets) for (const [name, value] of Object.entries(set ?? {})) out[name.toLowerCase()] = value;
  return out;
}

function present(row: Row): RequestTemplate {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    ...row.request,
    url: row.request.url!,
    ...(row.credential_id ? { credential: row.credential_id } : {}),
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}
