/**
 * Every router of the app matches paths exactly: `/v1/API-KEYS` and
 * `/v1/api-keys/` are not `/v1/api-keys`. The access guard refuses to start
 * an app with a router made without these options (src/auth/access-control.ts).
 */
import type { RouterOptions } from 'express';

export const STRICT_ROUTING: RouterOptions = { caseSensitive: true, strict: true };
