/**
 * Who is calling: set per request on `res.locals.principal` by the access
 * control middleware (src/auth/access-control.ts), read by routes that
 * need to know (auditing, "created by").
 */
import type { Response } from 'express';
import type { AuditActor } from '../audit/audit-log';

export interface Principal {
  kind: 'api_key' | 'user' | 'signed_event';
  id: string;
  scopes: string[];
  /** A key's name, a user's e-mail. */
  label: string;
}

export const principalOf = (res: Response): Principal | undefined => res.locals.principal as Principal | undefined;

export const actorOf = (p: Principal): AuditActor => ({ kind: p.kind, id: p.id, label: p.label });

/** Audit entries written without a request principal (a failed login, say) name what was presented. */
export const anonymous = (label: string): AuditActor => ({ kind: 'anonymous', id: 'anonymous', label });
