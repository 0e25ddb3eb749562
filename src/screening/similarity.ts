/**
 * How alike two names are, as a score in [0, 1], independent of token order.
 *
 * Tokens compare by Jaro-Winkler (talisman), damped when their lengths are
 * far apart, and exactly for numbers (vessel "1" is not vessel "2"). An
 * initial matches a token it begins.
 *
 * Names compare by the best one-to-one alignment of their tokens, where a
 * token may also align with two adjacent tokens run together (al-Zawahiri /
 * Alzawahiri, Xi Jinping / XiJinPing). The score is how well the side with
 * fewer tokens is covered, weighted by token length, lightly lowered for what
 * the other side has beyond it (a missing middle name still matches), and
 * lowered more when only one real token matches (a shared surname alone is
 * weak evidence).
 */
import { similarity as jaroWinkler } from 'talisman/metrics/jaro-winkler';
import { PARTICLES, tokenWeight } from './names';

/** Below this, two tokens are treated as unrelated. */
export const TOKEN_FLOOR = 0.78;
/** A single letter against a token it begins: "J" and "John". */
export const INITIAL_SIMILARITY = 0.8;
/** How much what the longer name has beyond the shorter one lowers the score. */
const EXTRA_PENALTY = 0.12;
/** The factor for a match resting on one real token when either name has more. */
const SINGLE_TOKEN_FACTOR = 0.85;

const HAS_DIGIT = /[0-9]/;

export function tokenSimilarity(a: string, b: string): number {
  if (a === b) return 1;
  // Numbers identify (vessel numbers, years in company names): near is not the same.
  if (HAS_DIGIT.test(a) || HAS_DIGIT.test(b)) return 0;
  if (a.length === 1 || b.length === 1) return a[0] === b[0] ? INITIAL_SIMILARITY : 0;
  const jw = jaroWinkler(a, b);
  // Jaro-Winkler rewards a shared prefix even when one token is much longer ("ali" / "aliaf"); lengths far apart are not one name.
  const ratio = Math.min(a.length, b.length) / Math.max(a.length, b.length);
  return ratio >= 0.8 ? jw : jw * (0.6 + 0.5 * ratio);
}

/**
 * A unit of a name for alignment: one token, or two adjacent tokens run
 * together. `mask` says which token positions it covers.
 */
export interface NameUnit {
  text: string;
  mask: number;
  weight: number;
}

/** A name's tokens with their weights, ready to compare many times. */
export interface PreparedName {
  tokens: string[];
  weights: number[];
  total: number;
  /** Tokens that are not particles: what "more than one token" counts. */
  realTokens: number;
  units: NameUnit[];
}

export function prepareName(tokens: string[]): PreparedName {
  const weights = tokens.map(tokenWeight);
  const units: NameUnit[] = tokens.map((text, i) => ({ text, mask: 1 << i, weight: weights[i] }));
  for (let i = 0; i + 1 < tokens.length; i++) {
    units.push({ text: tokens[i] + tokens[i + 1], mask: 3 << i, weight: weights[i] + weights[i + 1] });
  }
  return {
    tokens,
    weights,
    total: weights.reduce((a, b) => a + b, 0),
    realTokens: tokens.filter((t) => !PARTICLES.has(t)).length,
    units,
  };
}

/** One candidate pairing of a query unit and a name unit, with its similarity. */
export interface UnitPair {
  q: number;
  n: number;
  sim: number;
}

/**
 * Score an alignment given the pairs worth considering (similarity at or
 * above TOKEN_FLOOR). Greedy by similarity, then by weight: with names of a
 * few tokens it finds the best one-to-one alignment or one within a hair of it.
 */
export function scoreAlignment(query: PreparedName, name: PreparedName, pairs: UnitPair[]): number {
  if (pairs.length === 0) return 0;
  pairs.sort((x, y) => y.sim - x.sim || query.units[y.q].weight + name.units[y.n].weight - (query.units[x.q].weight + name.units[x.n].weight));
  let qUsed = 0;
  let nUsed = 0;
  let qCovered = 0;
  let nCovered = 0;
  for (const pair of pairs) {
    const qu = query.units[pair.q];
    const nu = name.units[pair.n];
    if (qUsed & qu.mask || nUsed & nu.mask) continue;
    qUsed |= qu.mask;
    nUsed |= nu.mask;
    qCovered += pair.sim * qu.weight;
    nCovered += pair.sim * nu.weight;
  }
  const queryIsShorter = query.realTokens <= name.realTokens;
  const [shorter, longer, shorterCovered, longerUsed] = queryIsShorter ? [query, name, qCovered, nUsed] : [name, query, nCovered, qUsed];
  const coverage = shorterCovered / shorter.total;
  let longerCoveredWeight = 0;
  let longerCoveredReal = 0;
  longer.tokens.forEach((t, i) => {
    if (!(longerUsed & (1 << i))) return;
    longerCoveredWeight += longer.weights[i];
    if (!PARTICLES.has(t)) longerCoveredReal++;
  });
  const extra = 1 - longerCoveredWeight / longer.total;
  let score = coverage * (1 - EXTRA_PENALTY * extra);
  if (Math.max(query.realTokens, name.realTokens) >= 2 && longerCoveredReal < 2) score *= SINGLE_TOKEN_FACTOR;
  return Math.min(1, Math.max(0, score));
}

/** All unit pairs at or above the floor, computed directly (the index finds them from its vocabulary instead). */
export function directPairs(query: PreparedName, name: PreparedName): UnitPair[] {
  const pairs: UnitPair[] = [];
  query.units.forEach((qu, q) => {
    name.units.forEach((nu, n) => {
      const sim = tokenSimilarity(qu.text, nu.text);
      if (sim >= TOKEN_FLOOR) pairs.push({ q, n, sim });
    });
  });
  return pairs;
}

/** The similarity of two token lists, for tests, single comparisons and short texts. */
export function nameSimilarity(queryTokens: string[], nameTokens: string[]): number {
  const query = prepareName(queryTokens);
  const name = prepareName(nameTokens);
  return scoreAlignment(query, name, directPairs(query, name));
}

/**
 * How well a text mentions a name: the best coverage of the name's tokens
 * by any stretch of the text one word longer than the name, so tokens
 * scattered over an article do not add up to a mention.
 */
export function mentionScore(nameTokens: string[], textTokens: string[]): number {
  if (nameTokens.length === 0 || textTokens.length === 0) return 0;
  const weights = nameTokens.map(tokenWeight);
  const total = weights.reduce((a, b) => a + b, 0);
  const sims = nameTokens.map((q) => textTokens.map((t) => {
    const sim = tokenSimilarity(q, t);
    return sim >= TOKEN_FLOOR ? sim : 0;
  }));
  // Room for one word more than the name: a middle name the query left out, not a sentence apart.
  const window = Math.min(textTokens.length, nameTokens.length + 1);
  let best = 0;
  for (let start = 0; start + window <= textTokens.length; start++) {
    let covered = 0;
    nameTokens.forEach((_, q) => {
      let top = 0;
      for (let t = start; t < start + window; t++) if (sims[q][t] > top) top = sims[q][t];
      covered += weights[q] * top;
    });
    if (covered / total > best) best = covered / total;
  }
  return best;
}
