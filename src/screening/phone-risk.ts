/**
 * Phone risk, with libphonenumber-js's full metadata: is the number valid,
 * what kind of line it is (mobile, fixed line, VoIP, premium rate...), which
 * country it belongs to, whether that is the subject's country, and whether
 * it is on any of the given lists. Each finding is a signal with a risk
 * score; a report with any signal has a match.
 */
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { checkLists } from '../objects';
import type { Queryable } from '../store/db';
import type { RiskAssessment, RiskSignal } from './email-risk';

/** Line types used for fraud more than others, with how much they say alone. */
const RISKY_LINE_TYPES: Record<string, number> = {
  VOIP: 0.7,
  PREMIUM_RATE: 0.8,
  TOLL_FREE: 0.5,
  SHARED_COST: 0.5,
  PERSONAL_NUMBER: 0.6,
  PAGER: 0.5,
  UAN: 0.4,
  VOICEMAIL: 0.5,
};

export interface PhoneFacts {
  valid: boolean;
  /** ISO alpha-2 of the number, when its prefix says. */
  country: string | null;
  /** mobile, fixed_line, fixed_line_or_mobile, voip, toll_free, premium_rate, ...; null when unknown. */
  lineType: string | null;
  countryCallingCode: string | null;
  e164: string | null;
}

/** `defaultCountry` reads numbers written without a + as that country's. */
export function readPhone(raw: string, defaultCountry?: string): PhoneFacts {
  const number = parsePhoneNumberFromString(raw.trim(), defaultCountry ? { defaultCountry: defaultCountry as CountryCode } : undefined);
  if (!number) return { valid: false, country: null, lineType: null, countryCallingCode: null, e164: null };
  return {
    valid: number.isValid(),
    country: number.country ?? null,
    lineType: number.getType()?.toLowerCase() ?? null,
    countryCallingCode: number.countryCallingCode,
    e164: number.number,
  };
}

/** Assess one number; `subjectCountry` (alpha-2) is where the subject is said to be; `listIds` are object-store lists. */
export async function assessPhone(q: Queryable, phone: string, subjectCountry: string | undefined, listIds: string[]): Promise<RiskAssessment> {
  const facts = readPhone(phone, subjectCountry);
  const matches: RiskSignal[] = [];
  if (!facts.valid) matches.push({ signal: 'invalid_number', score: 1 });
  const typeRisk = facts.lineType ? RISKY_LINE_TYPES[facts.lineType.toUpperCase()] : undefined;
  if (facts.valid && typeRisk !== undefined) matches.push({ signal: 'risky_line_type', score: typeRisk, lineType: facts.lineType });
  if (facts.valid && subjectCountry && facts.country && facts.country !== subjectCountry) {
    matches.push({ signal: 'country_mismatch', score: 0.4, phoneCountry: facts.country, subjectCountry });
  }
  if (listIds.length > 0) {
    const lists = await checkLists(q, listIds, { phone: facts.e164 ?? phone }, false);
    for (const hit of lists.matches) matches.push({ signal: 'list_membership', score: 1, listId: hit.listId, listName: hit.listName });
  }
  return {
    matches,
    // Not the number itself: reports are not redacted with the person, so they keep only what was found.
    details: {
      valid: facts.valid,
      country: facts.country,
      lineType: facts.lineType,
      countryCallingCode: facts.countryCallingCode,
      listsChecked: listIds.length,
      riskScore: Math.max(0, ...matches.map((m) => m.score)),
    },
  };
}
