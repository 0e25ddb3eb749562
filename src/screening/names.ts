/**
 * Name normalisation: how a name on a list and a name being screened are
 * brought to the same form before they are compared. Unicode compatibility
 * forms are folded, every script is transliterated to ASCII, case and
 * punctuation go, apostrophes and dotted abbreviations join ("GAMA'AT" =
 * "gamaat", "S.A." = "sa"), and honorifics, titles and legal forms are
 * dropped ("Dr.", "Shaykh", "LTD"). What remains is a list of lowercase
 * tokens; their order does not matter to matching.
 */
import { germanSpelling, loadTransliteration, type Transliterate } from './transliterate';

/** Titles and honorifics: they say nothing about who someone is. */
const HONORIFICS = new Set([
  'mr', 'mrs', 'ms', 'miss', 'mx', 'dr', 'prof', 'professor', 'sir', 'dame', 'lord', 'lady', 'madam', 'mme', 'mlle', 'herr', 'frau',
  'sheikh', 'shaykh', 'shaikh', 'sheik', 'cheikh', 'haji', 'hajji', 'hadji', 'alhaj', 'alhajj', 'mullah', 'mulla', 'maulana', 'maulvi',
  'mawlawi', 'mufti', 'ayatollah', 'general', 'gen', 'lt', 'col', 'colonel', 'maj', 'major', 'capt', 'captain', 'cmdr', 'commander',
  'brig', 'brigadier', 'adm', 'admiral', 'sgt', 'sergeant', 'president', 'minister', 'senator', 'hon', 'honorable', 'honourable',
  'rev', 'reverend', 'fr', 'pastor', 'bishop', 'jr', 'sr', 'ii', 'iii', 'iv', 'esq', 'phd', 'engr',
]);

/** Legal forms of companies: "ACME LTD" and "Acme Limited" are one name. */
const LEGAL_FORMS = new Set([
  'ltd', 'limited', 'llc', 'inc', 'incorporated', 'corp', 'corporation', 'co', 'company', 'plc', 'gmbh', 'ag', 'sa', 'sas', 'sarl',
  'srl', 'spa', 'bv', 'nv', 'oy', 'ab', 'kg', 'ooo', 'oao', 'zao', 'pao', 'ojsc', 'cjsc', 'jsc', 'pjsc', 'llp', 'lp', 'sdn', 'bhd',
  'pte', 'pty', 'kft', 'doo', 'fze', 'fzco', 'fzc', 'fzllc', 'cv', 'sal',
]);

/**
 * Particles: parts of a name ("al", "bin", "van", "de") that are kept but
 * carry little identity, so a match on a particle alone is no evidence.
 */
export const PARTICLES = new Set(['al', 'el', 'ul', 'bin', 'ibn', 'bint', 'de', 'da', 'del', 'della', 'der', 'den', 'di', 'du', 'la', 'le', 'van', 'von', 'dos', 'das', 'do', 'y', 'st']);

/** Names are cut to this many tokens: enough for any person, and for the long names of organisations. */
export const MAX_TOKENS = 24;

export class NameNormaliser {
  constructor(private readonly transliterate: Transliterate) {}

  static async load(): Promise<NameNormaliser> {
    return new NameNormaliser(await loadTransliteration());
  }

  /**
   * The token lists a name is compared under: usually one; two when it has
   * German umlauts (both spellings). Empty when nothing name-like is left.
   */
  variants(raw: string): string[][] {
    const text = raw.normalize('NFKC');
    const out: string[][] = [];
    const seen = new Set<string>();
    for (const spelling of [text, germanSpelling(text)]) {
      if (spelling === undefined) continue;
      const tokens = this.tokens(spelling);
      const key = tokens.join(' ');
      if (tokens.length > 0 && !seen.has(key)) {
        seen.add(key);
        out.push(tokens);
      }
    }
    return out;
  }

  /** One spelling's tokens (no German variant). */
  tokens(raw: string): string[] {
    const ascii = this.transliterate(raw.normalize('NFKC')).toLowerCase();
    const tokens = ascii
      // Apostrophes sit inside transliterated Arabic names: ABU-'UMAR, GAMA'AT; joining keeps the word whole.
      .replace(/['`\u00b4]/g, '')
      // Dotted abbreviations are one word: S.A. is "sa", M.R.O. is "mro" (a lone initial "J." stays a letter).
      .replace(/\b(?:[a-z]\.){2,}/g, (abbreviation) => abbreviation.replace(/\./g, '') + ' ')
      .replace(/[^a-z0-9]+/g, ' ')
      .trim()
      .split(' ')
      .filter((t) => t.length > 0);
    return dropNoise(tokens).slice(0, MAX_TOKENS);
  }
}

/** Honorifics and legal forms go, unless nothing else would be left ("Doctor" as someone's whole alias). */
function dropNoise(tokens: string[]): string[] {
  const kept = tokens.filter((t) => !HONORIFICS.has(t) && !LEGAL_FORMS.has(t));
  return kept.length > 0 ? kept : tokens;
}

/** How much a token counts in a name: longer tokens are more distinctive; particles hardly count. */
export function tokenWeight(token: string): number {
  if (PARTICLES.has(token)) return 1;
  return Math.min(Math.max(token.length, 2), 10);
}
