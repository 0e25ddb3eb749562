/**
 * Email risk: is the address well-formed, is its domain a disposable-mail
 * service (the disposable-email-domains-js list, subdomains included), and
 * is it on any of the given lists (the object store's lists, matched as
 * their items were stored). Each finding is a signal with a risk score; a
 * report with any signal has a match.
 */
import { domainToASCII } from 'node:url';
import { disposableEmailBlocklistSet } from 'disposable-email-domains-js';
import { checkLists } from '../objects';
import type { Queryable } from '../store/db';

export interface RiskSignal extends Record<string, unknown> {
  signal: string;
  /** How much this finding alone says the value is risky, in [0, 1]. */
  score: number;
}

export interface RiskAssessment {
  matches: RiskSignal[];
  details: Record<string, unknown>;
}

export type EmailSyntax = { valid: true; local: string; domain: string } | { valid: false; reason: string };

const LOCAL_CHARS = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$/;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** The address's syntax, as mail systems accept it (RFC 5321 sizes, the usual dot-atom local part, an IDN domain). */
export function checkEmailSyntax(raw: string): EmailSyntax {
  const email = raw.trim();
  if (email.length > 254) return { valid: false, reason: 'longer than 254 characters' };
  const at = email.lastIndexOf('@');
  if (at < 0) return { valid: false, reason: 'no @' };
  const local = email.slice(0, at);
  const domainText = email.slice(at + 1);
  if (local.length === 0) return { valid: false, reason: 'nothing before the @' };
  if (local.length > 64) return { valid: false, reason: 'the part before the @ is longer than 64 characters' };
  if (!LOCAL_CHARS.test(local)) return { valid: false, reason: 'the part before the @ has characters an address cannot have' };
  if (local.startsWith('.') || local.endsWith('.') || local.includes('..')) return { valid: false, reason: 'the part before the @ has a misplaced dot' };
  // Internationalised domains are compared in their ASCII (punycode) form, as the disposable list writes them.
  const domain = domainToASCII(domainText.toLowerCase());
  if (!domain) return { valid: false, reason: 'the domain is not a valid domain name' };
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l))) return { valid: false, reason: 'the domain is not a valid domain name' };
  const tld = labels[labels.length - 1];
  if (!/^([a-z]{2,63}|xn--[a-z0-9-]{1,59})$/.test(tld)) return { valid: false, reason: 'the domain has no valid top-level domain' };
  return { valid: true, local, domain };
}

let disposable: Set<string> | undefined;

/** The disposable-mail domain this domain is or belongs to (mailinator.com for x.mailinator.com). */
export function disposableDomainOf(domain: string): string | undefined {
  disposable ??= disposableEmailBlocklistSet();
  const labels = domain.toLowerCase().split('.');
  for (let i = 0; i < labels.length - 1; i++) {
    const candidate = labels.slice(i).join('.');
    if (disposable.has(candidate)) return candidate;
  }
  return undefined;
}

/** Assess one address; `listIds` are object-store lists to look it up in. */
export async function assessEmail(q: Queryable, email: string, listIds: string[]): Promise<RiskAssessment> {
  const syntax = checkEmailSyntax(email);
  if (!syntax.valid) {
    return {
      matches: [{ signal: 'invalid_syntax', score: 1, reason: syntax.reason }],
      details: { valid: false, reason: syntax.reason, domain: null, disposable: null, listsChecked: 0, riskScore: 1 },
    };
  }
  const matches: RiskSignal[] = [];
  const disposableDomain = disposableDomainOf(syntax.domain);
  if (disposableDomain) matches.push({ signal: 'disposable_domain', score: 0.9, domain: disposableDomain });
  const lists = listIds.length > 0 ? await checkLists(q, listIds, { email: `${syntax.local}@${syntax.domain}` }, false) : undefined;
  for (const hit of lists?.matches ?? []) matches.push({ signal: 'list_membership', score: 1, listId: hit.listId, listName: hit.listName });
  return {
    matches,
    details: {
      valid: true,
      domain: syntax.domain,
      disposable: disposableDomain !== undefined,
      listsChecked: listIds.length,
      riskScore: Math.max(0, ...matches.map((m) => m.score)),
    },
  };
}
