/**
 * API errors: JSON `{ error: { code, message, details? } }` with a stable
 * code. Every detail names the JSON Pointer of what is wrong.
 */
import type { ErrorRequestHandler } from 'express';
import { parse as parseJsonc, type ParseError } from 'jsonc-parser';
import type { z } from 'zod';
import { isDependencyUnavailable } from '../store/unavailable';

export interface ErrorDetail {
  path: string;
  message: string;
  code?: string;
  stepId?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
  ) {
    super(message);
  }
}

export const notFound = (what: string, id: string): ApiError => new ApiError(404, 'not_found', `no ${what} "${id}"`);

export function pointer(path: readonly PropertyKey[]): string {
  return '/' + path.map((p) => String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
}

/** Parse with zod or throw a 400 listing every failing path. */
export function parseOr400<S extends z.ZodType>(schema: S, value: unknown, where: string, prefix: PropertyKey[] = []): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ApiError(
    400,
    'invalid_request',
    `${where} is invalid`,
    result.error.issues.map((i) => ({ path: pointer([...prefix, ...i.path]), message: i.message })),
  );
}

export const errorHandler: ErrorRequestHandler = (err, _req, res, _next) => {
  if (err instanceof ApiError) {
    res.status(err.status).json({ error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) } });
    return;
  }
  // body-parser's errors carry a status and a type.
  const e = err as { status?: number; type?: string; message?: string; limit?: number };
  if (e.type === 'entity.too.large') {
    res.status(413).json({ error: { code: 'body_too_large', message: `request body is larger than ${e.limit} bytes` } });
    return;
  }
  if (e.type === 'entity.parse.failed') {
    const at = jsonErrorPosition(e.message ?? '', typeof (err as { body?: unknown }).body === 'string' ? (err as { body: string }).body : '');
    res.status(400).json({
      error: {
        code: 'invalid_json',
        message: `request body is not valid JSON: it breaks at line ${at.line}, column ${at.column} (offset ${at.offset})`,
        details: [{ path: '', message: e.message ?? 'invalid JSON', code: 'invalid_json', ...at }],
      },
    });
    return;
  }
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    res.status(e.status).json({ error: { code: 'bad_request', message: e.message ?? 'bad request' } });
    return;
  }
  if (isDependencyUnavailable(err)) {
    // PostgreSQL or Temporal is away (restarting, failing over): the same request can succeed shortly.
    // Not logged here: the request log has the 503, and /readyz says which part is away.
    res.set('Retry-After', '1');
    res.status(503).json({ error: { code: 'unavailable', message: 'the database or Temporal is unavailable; retry the same request shortly' } });
    return;
  }
  console.error('[api] unexpected error', err);
  res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
};

/**
 * Where a body stopped being JSON, as a 0-based offset and a 1-based line
 * and column: the first error jsonc-parser's strict scan finds (JSON.parse
 * names no position for some errors), else the position JSON.parse names,
 * else the end of the body (it ended too soon).
 */
export function jsonErrorPosition(message: string, body: string): { offset: number; line: number; column: number } {
  const errors: ParseError[] = [];
  parseJsonc(body, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const named = /at position (\d+)/.exec(message);
  const offset = Math.min(errors.length > 0 ? errors[0].offset : named ? Number(named[1]) : body.length, body.length);
  const before = body.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - (before.lastIndexOf('\n') + 1) + 1;
  return { offset, line, column };
}
