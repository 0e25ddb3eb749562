/**
 * Birth dates as lists give them, and how a subject's birthdate is weighed
 * against them. Lists publish whole dates, months, years, ranges ("1960 to
 * 1962") and approximations ("circa 1955"); entries keep them as ISO dates
 * or partial dates, "~" in front of an approximate one.
 */

const MONTHS: Record<string, string> = { jan: '01', feb: '02', mar: '03', apr: '04', may: '05', jun: '06', jul: '07', aug: '08', sep: '09', oct: '10', nov: '11', dec: '12' };

/** Ranges longer than this are too vague to say anything about a birth year. */
const MAX_RANGE_YEARS = 10;

/**
 * One OFAC date of birth (what follows "DOB "): "10 Dec 1948", "Dec 1948",
 * "1948", "circa 1955", "1960 to 1962", "01 Jan 1960 to 31 Dec 1962",
 * "circa 1955-1957". Unreadable text gives [].
 */
export function parseOfacDob(text: string): string[] {
  let t = text.trim().replace(/\s+/g, ' ');
  const approximate = /^circa\b/i.test(t);
  if (approximate) t = t.replace(/^circa\s*/i, '');
  const range = t.split(/\s+to\s+|(?<=\d{4})\s*-\s*(?=\d{4})/i);
  if (range.length === 2) {
    const from = yearOf(range[0]);
    const to = yearOf(range[1]);
    if (from === undefined || to === undefined || to < from || to - from > MAX_RANGE_YEARS) return [];
    const years: string[] = [];
    for (let y = from; y <= to; y++) years.push(`${approximate ? '~' : ''}${y}`);
    return years;
  }
  const date = ofacDate(t);
  return date ? [approximate ? `~${date.slice(0, 4)}` : date] : [];
}

function ofacDate(text: string): string | undefined {
  const full = /^(\d{1,2}) ([A-Za-z]{3})[a-z]* (\d{4})$/.exec(text);
  if (full && MONTHS[full[2].toLowerCase()]) return validDate(`${full[3]}-${MONTHS[full[2].toLowerCase()]}-${full[1].padStart(2, '0')}`);
  const month = /^([A-Za-z]{3})[a-z]* (\d{4})$/.exec(text);
  if (month && MONTHS[month[1].toLowerCase()]) return `${month[2]}-${MONTHS[month[1].toLowerCase()]}`;
  const year = /^(\d{4})$/.exec(text);
  return year ? year[1] : undefined;
}

function yearOf(text: string): number | undefined {
  const date = ofacDate(text.trim());
  return date ? Number(date.slice(0, 4)) : undefined;
}

function validDate(iso: string): string | undefined {
  const d = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === iso ? iso : undefined;
}

/** An ISO date or partial date as OpenSanctions gives it ("1952-10-07", "1952-10", "1952"); anything else is dropped. */
export function parseIsoPartialDate(text: string): string | undefined {
  const t = text.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(t)) return validDate(t);
  if (/^\d{4}-(0[1-9]|1[0-2])$/.test(t) || /^\d{4}$/.test(t)) return t;
  // Timestamps occasionally stand in for dates.
  const stamp = /^(\d{4}-\d{2}-\d{2})T/.exec(t);
  return stamp ? validDate(stamp[1]) : undefined;
}

/** A subject's birthdate: a whole ISO date or a year. */
export function isSubjectBirthdate(text: string): boolean {
  return /^\d{4}$/.test(text) || (/^\d{4}-\d{2}-\d{2}$/.test(text) && validDate(text) !== undefined);
}

export type BirthdateEvidence = 'birthdate_match' | 'birth_year_match' | 'birth_year_close' | 'birth_year_mismatch';

/** How a birthdate moves a name match's score. */
export const BIRTHDATE_ADJUSTMENT: Record<BirthdateEvidence, number> = {
  birthdate_match: 0.05,
  birth_year_match: 0.03,
  birth_year_close: 0,
  // Same name, born decades apart: most likely someone else, but names alone matched, so not ruled out.
  birth_year_mismatch: -0.15,
};

/**
 * Weigh the subject's birthdate ("1960-01-31" or "1960") against an entry's.
 * undefined when either side has none: no evidence either way.
 */
export function compareBirthdates(subject: string, entryDates: readonly string[]): BirthdateEvidence | undefined {
  if (entryDates.length === 0) return undefined;
  const year = Number(subject.slice(0, 4));
  let best: BirthdateEvidence = 'birth_year_mismatch';
  const rank: Record<BirthdateEvidence, number> = { birthdate_match: 3, birth_year_match: 2, birth_year_close: 1, birth_year_mismatch: 0 };
  const better = (e: BirthdateEvidence) => {
    if (rank[e] > rank[best]) best = e;
  };
  for (const raw of entryDates) {
    const approximate = raw.startsWith('~');
    const date = approximate ? raw.slice(1) : raw;
    const diff = Math.abs(Number(date.slice(0, 4)) - year);
    if (!approximate && subject.length === 10 && date === subject) better('birthdate_match');
    else if (diff === 0) better('birth_year_match');
    else if (diff <= (approximate ? 2 : 1)) better('birth_year_close');
  }
  return best;
}
