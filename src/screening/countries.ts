/**
 * Countries: names as lists write them ("Korea, North", "Burma",
 * "Congo, Democratic Republic of the") to ISO 3166-1 alpha-2 codes, and how
 * a subject's country is weighed against an entry's. English names come
 * from the ICU data Node ships (Intl.DisplayNames), plus the spellings
 * sanctions lists use that ICU does not.
 */

/** Codes ICU still names that are withdrawn or not countries; their names belong to current codes. */
const NOT_COUNTRIES = new Set(['AN', 'BU', 'CS', 'DD', 'DY', 'FX', 'HV', 'NH', 'RH', 'SU', 'TP', 'UK', 'VD', 'YD', 'YU', 'ZR', 'EU', 'EZ', 'UN', 'QO', 'XA', 'XB', 'ZZ']);

const LIST_SPELLINGS: Record<string, string> = {
  burma: 'MM',
  myanmar: 'MM',
  palestinian: 'PS',
  palestine: 'PS',
  gaza: 'PS',
  'region gaza': 'PS',
  'west bank': 'PS',
  'congo democratic republic': 'CD',
  'congo republic': 'CG',
  'north macedonia republic': 'MK',
  macedonia: 'MK',
  turkey: 'TR',
  'czech republic': 'CZ',
  'cabo verde': 'CV',
  'cote divoire': 'CI',
  'ivory coast': 'CI',
  'holy see': 'VA',
  vatican: 'VA',
  swaziland: 'SZ',
  'east timor': 'TL',
  macau: 'MO',
  macao: 'MO',
  'hong kong': 'HK',
  usa: 'US',
  'united states of america': 'US',
  uk: 'GB',
  'great britain': 'GB',
  britain: 'GB',
  'russian federation': 'RU',
  'iran islamic republic': 'IR',
  'syrian arab republic': 'SY',
  'lao pdr': 'LA',
  'viet nam': 'VN',
  'republic of korea': 'KR',
  'democratic peoples republic of korea': 'KP',
  dprk: 'KP',
  'brunei darussalam': 'BN',
  'micronesia federated states': 'FM',
  'virgin islands british': 'VG',
  crimea: 'UA',
  'region crimea': 'UA',
};

/** Lowercase ASCII words, sorted, without filler words: "Korea, North" and "North Korea" are one key. */
function countryKey(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/\bst\b\.?/g, 'saint')
    .replace(/['\u2019]/g, '')
    .replace(/[^a-z]+/g, ' ')
    .trim()
    .split(' ')
    .filter((w) => w && !['the', 'of', 'and', 'possibly', 'sar'].includes(w))
    .sort()
    .join(' ');
}

let byName: Map<string, string> | undefined;
let codes: Set<string> | undefined;

function tables(): { byName: Map<string, string>; codes: Set<string> } {
  if (byName && codes) return { byName, codes };
  const names = new Map<string, string>();
  const known = new Set<string>();
  const display = new Intl.DisplayNames(['en'], { type: 'region' });
  for (let a = 65; a <= 90; a++) {
    for (let b = 65; b <= 90; b++) {
      const code = String.fromCharCode(a, b);
      if (NOT_COUNTRIES.has(code)) continue;
      const name = display.of(code);
      if (!name || name === code) continue;
      known.add(code);
      names.set(countryKey(name), code);
      // "Myanmar (Burma)", "Congo - Kinshasa", "Hong Kong SAR China": also without the qualifier.
      const bare = name.replace(/\s*\(.*\)\s*/, ' ').replace(/\s+-\s+.*$/, '');
      if (bare !== name && !names.has(countryKey(bare))) names.set(countryKey(bare), code);
    }
  }
  for (const [spelling, code] of Object.entries(LIST_SPELLINGS)) names.set(countryKey(spelling), code);
  byName = names;
  codes = known;
  return { byName, codes };
}

/** An ISO alpha-2 code for a code or an English country name, or undefined. */
export function countryCode(text: string): string | undefined {
  const t = text.trim();
  const { byName, codes } = tables();
  if (/^[A-Za-z]{2}$/.test(t) && codes.has(t.toUpperCase())) return t.toUpperCase();
  return byName.get(countryKey(t));
}

export type CountryEvidence = 'country_match' | 'country_mismatch';

export const COUNTRY_ADJUSTMENT: Record<CountryEvidence, number> = {
  country_match: 0.02,
  // People move and hold several nationalities: a different country is weak evidence.
  country_mismatch: -0.05,
};

export function compareCountries(subject: string, entryCountries: readonly string[]): CountryEvidence | undefined {
  if (entryCountries.length === 0) return undefined;
  return entryCountries.includes(subject) ? 'country_match' : 'country_mismatch';
}
