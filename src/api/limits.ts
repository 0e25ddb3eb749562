/**
 * What keeps one client or one request from taking the service down, and
 * the headers that keep browsers from being turned against it:
 *
 * - rate limits per caller (the principal the auth layer set: API key,
 *   user or signed sender; the client IP when there is none) on the two
 *   routes that start work: run triggers and event ingress. 429 with
 *   Retry-After and the draft-7 RateLimit headers. Counted per process
 *   (several API processes each allow the full rate).
 * - a JSON nesting limit: the parser itself does not recurse, but what
 *   reads the parsed value (validators, JSON Schema, CEL, the database
 *   driver) may, so a body nested deeper than MAX_JSON_DEPTH is refused
 *   before anything reads it; and no NUL characters (U+0000) in bodies or
 *   URLs, which PostgreSQL cannot store (found by the fuzz tests as 500s).
 * - security headers (helmet) for the API and the editor SPA: a strict
 *   Content-Security-Policy (scripts and styles from this origin only, no
 *   inline script, no framing), no MIME sniffing, no referrer, and
 *   `Cache-Control: no-store` on API answers (they carry personal data).
 */
import { Router, type RequestHandler } from 'express';
import { rateLimit, ipKeyGenerator } from 'express-rate-limit';
import helmet from 'helmet';
import { ApiError } from './errors';
import { STRICT_ROUTING } from './strict-routing';

export interface RateLimits {
  /** `POST /v1/workflows/:id/runs` per caller per minute; 0 turns the limit off. */
  triggersPerMinute: number;
  /** `POST /v1/events` per caller per minute; 0 turns the limit off. */
  eventsPerMinute: number;
  /**
   * Failed `POST /v1/auth/login` per client IP per minute (password
   * guessing); successful sign-ins are not counted. Default 10; 0 turns it off.
   */
  loginFailuresPerMinute?: number;
  /** The window the counts are over; a minute unless a test shortens it. */
  windowMs?: number;
}

/** Failed sign-ins allowed per client IP per minute unless RateLimits says otherwise. */
export const DEFAULT_LOGIN_FAILURES_PER_MINUTE = 10;

export const DEFAULT_RATE_LIMITS: RateLimits = { triggersPerMinute: 600, eventsPerMinute: 3000 };

/** Deeper JSON bodies are refused (400 json_too_deep). */
export const MAX_JSON_DEPTH = 64;

/** RATE_LIMIT_TRIGGERS_PER_MIN and RATE_LIMIT_EVENTS_PER_MIN, over the defaults. */
export function rateLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): RateLimits {
  const read = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number of requests per minute (0 = no limit), got "${raw}"`);
    return value;
  };
  return {
    triggersPerMinute: read('RATE_LIMIT_TRIGGERS_PER_MIN', DEFAULT_RATE_LIMITS.triggersPerMinute),
    eventsPerMinute: read('RATE_LIMIT_EVENTS_PER_MIN', DEFAULT_RATE_LIMITS.eventsPerMinute),
  };
}

interface PrincipalLike {
  kind?: string;
  id?: string;
}

/** The caller a count belongs to: the principal when the auth layer found one, else the client's IP (IPv6 by /56). */
function callerKey(req: Parameters<RequestHandler>[0], res: Parameters<RequestHandler>[1]): string {
  const principal = res.locals.principal as PrincipalLike | undefined;
  if (principal?.id) return `${principal.kind ?? 'principal'}:${principal.id}`;
  return `ip:${clientIp(req)}`;
}

/** The client's address as the limits count it (IPv6 by /56). */
function clientIp(req: Parameters<RequestHandler>[0]): string {
  return ipKeyGenerator(req.ip ?? req.socket.remoteAddress ?? 'unknown');
}

interface LimiterSpec {
  perWindow: number;
  windowMs: number;
  /** Whose count a request adds to. */
  keyGenerator: (req: Parameters<RequestHandler>[0], res: Parameters<RequestHandler>[1]) => string;
  /** Count only requests that fail (4xx/5xx). */
  failuresOnly?: boolean;
  /** The 429's message, before "retry after N s". */
  tooMany: (per: string) => string;
}

function limiter(spec: LimiterSpec): RequestHandler {
  const seconds = Math.round(spec.windowMs / 1000);
  const per = `at most ${spec.perWindow} per ${seconds === 60 ? 'minute' : `${seconds} s`}`;
  return rateLimit({
    windowMs: spec.windowMs,
    limit: spec.perWindow,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    skipSuccessfulRequests: spec.failuresOnly ?? false,
    keyGenerator: spec.keyGenerator,
    handler: (_req, res) => {
      res.status(429).json({
        error: { code: 'rate_limited', message: `${spec.tooMany(per)}; retry after ${res.getHeader('retry-after')} s`, details: [] },
      });
    },
  });
}

/** A count per caller on one kind of request. */
function callerLimiter(what: string, perWindow: number, windowMs: number): RequestHandler {
  return limiter({ perWindow, windowMs, keyGenerator: callerKey, tooMany: (per) => `too many ${what}: ${per} for each API key` });
}

/**
 * The rate-limited routes. Mount after the auth middleware (so the
 * principal is known) and before the routes themselves.
 */
export function rateLimitRoutes(limits: RateLimits = DEFAULT_RATE_LIMITS): Router {
  const router = Router(STRICT_ROUTING);
  const windowMs = limits.windowMs ?? 60_000;
  if (limits.triggersPerMinute > 0) router.post('/v1/workflows/:id/runs', callerLimiter('run triggers', limits.triggersPerMinute, windowMs));
  if (limits.eventsPerMinute > 0) router.post('/v1/events', callerLimiter('events', limits.eventsPerMinute, windowMs));
  const logins = limits.loginFailuresPerMinute ?? DEFAULT_LOGIN_FAILURES_PER_MINUTE;
  if (logins > 0) router.post('/v1/auth/login', loginLimiter(logins, windowMs));
  return router;
}

/** Failed sign-ins per client IP: a refused one answers 429 before the password is checked. */
function loginLimiter(perWindow: number, windowMs: number): RequestHandler {
  return limiter({
    perWindow,
    windowMs,
    failuresOnly: true,
    keyGenerator: (req) => `login:${clientIp(req)}`,
    tooMany: (per) => `too many failed sign-ins from this address: ${per}`,
  });
}

export type JsonProblem = { path: string; problem: 'too_deep' | 'nul_character' };

/**
 * The first problem in a parsed JSON value: a value nested deeper than
 * `maxDepth`, or a string or key holding U+0000, which PostgreSQL text
 * and jsonb cannot store (it would fail the write with a 500).
 */
export function jsonProblem(value: unknown, maxDepth: number): JsonProblem | undefined {
  interface Entry {
    value: unknown;
    depth: number;
    key?: string | number;
    parent?: Entry;
  }
  const pointer = (entry: Entry, extra?: string): string => {
    const path: (string | number)[] = extra === undefined ? [] : [extra];
    for (let e: Entry | undefined = entry; e?.parent; e = e.parent) path.unshift(e.key!);
    return '/' + path.map((p) => String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
  };
  // Iterative on purpose: a recursive walk is what a deep body would break.
  const stack: Entry[] = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const entry = stack.pop()!;
    const v = entry.value;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return { path: pointer(entry), problem: 'nul_character' };
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    const depth = entry.depth + 1;
    if (depth > maxDepth) return { path: pointer(entry), problem: 'too_deep' };
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], depth, key: i, parent: entry });
    } else {
      const keys = Object.keys(v);
      for (let i = keys.length - 1; i >= 0; i--) {
        if (keys[i].includes('\u0000')) return { path: pointer(entry, keys[i]), problem: 'nul_character' };
        stack.push({ value: (v as Record<string, unknown>)[keys[i]], depth, key: keys[i], parent: entry });
      }
    }
  }
  return undefined;
}

/** The JSON Pointer of the first value nested deeper than `max`, or undefined. */
export function tooDeepAt(value: unknown, max: number): string | undefined {
  const found = jsonProblem(value, max);
  return found?.problem === 'too_deep' ? found.path : undefined;
}

/**
 * Refuses, before anything reads them: a parsed JSON body nested deeper
 * than `maxDepth` (400 json_too_deep), and U+0000 in the body's strings or
 * in the URL (400 nul_character).
 */
export function inputLimits(maxDepth: number = MAX_JSON_DEPTH): RequestHandler {
  return (req, _res, next) => {
    if (/%00/.test(req.originalUrl)) {
      return next(new ApiError(400, 'nul_character', 'the URL holds a NUL character (%00)', [{ path: '/', message: 'remove %00 from the path and query' }]));
    }
    const found = jsonProblem(req.body, maxDepth);
    if (found === undefined) return next();
    if (found.problem === 'too_deep') {
      return next(
        new ApiError(400, 'json_too_deep', `the JSON body is nested more than ${maxDepth} levels deep`, [
          { path: found.path, message: `nested more than ${maxDepth} levels deep (objects and arrays); flatten the structure` },
        ]),
      );
    }
    next(new ApiError(400, 'nul_character', 'the JSON body holds a NUL character (\\u0000), which cannot be stored', [{ path: found.path, message: 'remove the \\u0000 character' }]));
  };
}

/**
 * Security headers for every answer: the API's JSON and the editor's files
 * alike. (The hosted inquiry page sets a stricter policy of its own: no
 * script at all.)
 */
export function securityHeaders(): RequestHandler[] {
  const headers = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        'default-src': ["'self'"],
        'base-uri': ["'self'"],
        // The editor's bundle only: no inline script, no eval.
        'script-src': ["'self'"],
        'script-src-attr': ["'none'"],
        // Style sheets from this origin; style attributes set from script (React) are not governed by this.
        'style-src': ["'self'"],
        'img-src': ["'self'", 'data:'],
        'font-src': ["'self'", 'data:'],
        // The editor talks to /v1 on its own origin.
        'connect-src': ["'self'"],
        'object-src': ["'none'"],
        'frame-src': ["'none'"],
        'frame-ancestors': ["'none'"],
        'form-action': ["'self'"],
      },
    },
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  });
  const noStore: RequestHandler = (req, res, next) => {
    if (req.path.startsWith('/v1/')) res.setHeader('Cache-Control', 'no-store');
    next();
  };
  return [headers, noStore];
}
