/**
 * An in-memory index of every name on one list (primary names and aliases),
 * built once per list and reused until the list is imported again, so a
 * screen costs milliseconds against tens of thousands of names.
 *
 * Candidate retrieval works on the vocabulary, not on the names: each
 * distinct token (and each pair of adjacent tokens run together) is indexed
 * by its character trigrams. A query token looks up the vocabulary tokens
 * sharing enough trigrams with it (one for tokens of up to four letters,
 * two up to nine, three beyond; tokens sharing fewer are not taken for
 * spellings of one name, whatever Jaro-Winkler says), scores only those
 * with Jaro-Winkler, and follows each one at or above the
 * token floor to the names holding it. Only names reached that way are
 * aligned and scored in full, from the similarities already computed.
 * Particles ("al", "bin") and initials retrieve nothing (they would reach
 * half the list and never make a match alone); they are compared when a
 * name found through its other tokens is scored.
 */
import type { EntityType, WatchlistEntry, WatchlistSource } from './entries';
import { PARTICLES, type NameNormaliser } from './names';
import { prepareName, scoreAlignment, TOKEN_FLOOR, tokenSimilarity, type PreparedName, type UnitPair } from './similarity';

/** A weak alias (a nickname) that matches counts a little less than a real name. */
export const WEAK_ALIAS_FACTOR = 0.95;

/** Units per name fit in 6 bits of a posting (MAX_TOKENS 24 -> at most 47 units). */
const UNIT_BITS = 6;
const UNIT_MASK = (1 << UNIT_BITS) - 1;
/** Query tokens whose similar vocabulary is remembered per index (cleared when full). */
const SIMILAR_CACHE_SIZE = 20_000;

interface IndexedName {
  entry: number;
  /** The name as the list publishes it. */
  display: string;
  weak: boolean;
  prepared: PreparedName;
}

export interface NameHit {
  entry: WatchlistEntry;
  /** The list's name (primary or alias) that matched best. */
  matchedName: string;
  isPrimary: boolean;
  weak: boolean;
  /** Similarity of the names alone, in [0, 1]. */
  nameScore: number;
}

export interface NameSearch {
  /** The query's token variants (see NameNormaliser.variants). */
  variants: string[][];
  /** Names scoring below this are not returned. */
  minScore: number;
  sources?: readonly WatchlistSource[];
  entityTypes?: readonly EntityType[];
}

export class NameIndex {
  private readonly names: IndexedName[] = [];
  private readonly vocab: string[] = [];
  private readonly vocabIds = new Map<string, number>();
  /** vocabulary id -> postings (name index << UNIT_BITS | unit index). */
  private readonly postings: number[][] = [];
  /** trigram -> vocabulary ids, for single tokens and for run-together pairs apart. */
  private readonly singleGrams = new Map<string, number[]>();
  private readonly pairGrams = new Map<string, number[]>();
  private readonly inSingles: boolean[] = [];
  private readonly inPairs: boolean[] = [];
  /** Scratch space, reused: a search runs synchronously from start to end, so searches never share it. */
  private counts = new Int32Array(0);
  private scratch = new PairScratch(0);
  private readonly similarCache = new Map<string, [number, number][]>();

  private constructor(readonly entries: WatchlistEntry[]) {}

  static build(entries: WatchlistEntry[], normaliser: NameNormaliser): NameIndex {
    const index = new NameIndex(entries);
    entries.forEach((entry, e) => {
      const names: [string, boolean][] = [[entry.primaryName, false], ...entry.aliases.map((a): [string, boolean] => [a, false]), ...entry.weakAliases.map((a): [string, boolean] => [a, true])];
      const seen = new Set<string>();
      for (const [display, weak] of names) {
        for (const tokens of normaliser.variants(display)) {
          const key = tokens.join(' ');
          // The same name twice on one entry (an alias equal to the primary name) adds nothing.
          if (seen.has(key)) continue;
          seen.add(key);
          index.addName({ entry: e, display, weak, prepared: prepareName(tokens) });
        }
      }
    });
    index.counts = new Int32Array(index.vocab.length);
    index.scratch = new PairScratch(index.names.length);
    return index;
  }

  get nameCount(): number {
    return this.names.length;
  }

  get vocabularySize(): number {
    return this.vocab.length;
  }

  private addName(name: IndexedName): void {
    const n = this.names.length;
    this.names.push(name);
    const singles = name.prepared.tokens.length;
    name.prepared.units.forEach((unit, u) => {
      if (unit.text.length === 1) return; // initials are compared when a name is scored, not retrieved
      const id = this.vocabIdOf(unit.text);
      this.postings[id].push((n << UNIT_BITS) | u);
      const [seen, grams] = u < singles ? [this.inSingles, this.singleGrams] : [this.inPairs, this.pairGrams];
      if (!seen[id]) {
        seen[id] = true;
        for (const gram of trigramsOf(unit.text)) push(grams, gram, id);
      }
    });
  }

  private vocabIdOf(text: string): number {
    let id = this.vocabIds.get(text);
    if (id !== undefined) return id;
    id = this.vocab.length;
    this.vocab.push(text);
    this.vocabIds.set(text, id);
    this.postings.push([]);
    this.inSingles.push(false);
    this.inPairs.push(false);
    return id;
  }

  /**
   * Vocabulary tokens at or above the token floor for this query unit, with
   * their similarity. A query token looks among the list's tokens, and when
   * long enough to be two run together, among its run-together pairs; a
   * query pair looks among the list's tokens only (pair against pair adds
   * nothing the two tokens did not).
   */
  private similarVocabulary(text: string, isPair: boolean): [number, number][] {
    const grams = trigramsOf(text);
    // A one-letter typo leaves all but three trigrams; transliteration variants (mohammed / muhammad) share two or three.
    const needed = text.length <= 4 ? 1 : text.length <= 9 ? 2 : 3;
    const touched: number[] = [];
    const counts = this.counts;
    const count = (index: Map<string, number[]>) => {
      for (const gram of grams) {
        const ids = index.get(gram);
        if (!ids) continue;
        for (const id of ids) if (counts[id]++ === 0) touched.push(id);
      }
    };
    count(this.singleGrams);
    if (!isPair && text.length >= 6) count(this.pairGrams);
    const out: [number, number][] = [];
    for (const id of touched) {
      const other = this.vocab[id];
      // Below half the length, even equal prefixes stay under the floor (see tokenSimilarity): skip the comparison.
      if (counts[id] >= needed && other.length * 2 > text.length && text.length * 2 > other.length) {
        const sim = tokenSimilarity(text, other);
        if (sim >= TOKEN_FLOOR) out.push([id, sim]);
      }
      counts[id] = 0;
    }
    return out;
  }

  /** The best-matching name of every entry scoring at least minScore, best first. */
  search(search: NameSearch): NameHit[] {
    const best = new Map<number, { name: IndexedName; score: number }>();
    const sources = search.sources ? new Set(search.sources) : undefined;
    const types = search.entityTypes ? new Set(search.entityTypes) : undefined;
    const scratch = this.scratch;
    for (const tokens of search.variants) {
      const query = prepareName(tokens);
      const touched = this.collectPairs(query);
      for (const n of touched) {
        const name = this.names[n];
        const entry = this.entries[name.entry];
        if (sources && !sources.has(entry.source)) continue;
        if (types && !types.has(entry.entityType)) continue;
        const factor = name.weak ? WEAK_ALIAS_FACTOR : 1;
        if (upperBound(query, name.prepared, scratch, scratch.head[n]) * factor < search.minScore) continue;
        const pairs: UnitPair[] = [];
        for (let i = scratch.head[n]; i >= 0; i = scratch.next[i]) pairs.push({ q: scratch.q[i], n: scratch.n[i], sim: scratch.sim[i] });
        addUnretrievedPairs(query, name.prepared, pairs);
        const score = scoreAlignment(query, name.prepared, pairs) * factor;
        const current = best.get(name.entry);
        if (score >= search.minScore && (!current || score > current.score)) best.set(name.entry, { name, score });
      }
    }
    return [...best.entries()]
      .map(([e, { name, score }]) => ({
        entry: this.entries[e],
        matchedName: name.display,
        isPrimary: name.display === this.entries[e].primaryName,
        weak: name.weak,
        nameScore: score,
      }))
      .sort((a, b) => b.nameScore - a.nameScore || a.entry.primaryName.localeCompare(b.entry.primaryName));
  }

  /**
   * Follow each query unit's similar vocabulary to the names holding it,
   * recording the pairs per name as linked lists in the scratch arrays
   * (thousands of pairs for common names: no object per pair). Returns the
   * names reached.
   */
  private collectPairs(query: PreparedName): number[] {
    const scratch = this.scratch;
    const stamp = ++scratch.stamp;
    const touched: number[] = [];
    let count = 0;
    const singles = query.tokens.length;
    query.units.forEach((unit, q) => {
      if (unit.text.length === 1 || PARTICLES.has(unit.text)) return;
      for (const [id, sim] of this.similarVocabularyCached(unit.text, q >= singles)) {
        for (const posting of this.postings[id]) {
          const n = posting >>> UNIT_BITS;
          if (scratch.seen[n] !== stamp) {
            scratch.seen[n] = stamp;
            scratch.head[n] = -1;
            touched.push(n);
          }
          if (count === scratch.q.length) scratch.grow();
          scratch.q[count] = q;
          scratch.n[count] = posting & UNIT_MASK;
          scratch.sim[count] = sim;
          scratch.next[count] = scratch.head[n];
          scratch.head[n] = count++;
        }
      }
    });
    return touched;
  }

  /** Common tokens (mohammed, ali, bank) come back screen after screen: their similar vocabulary is kept. */
  private similarVocabularyCached(text: string, isPair: boolean): [number, number][] {
    const key = isPair ? `+${text}` : text;
    let similar = this.similarCache.get(key);
    if (!similar) {
      if (this.similarCache.size >= SIMILAR_CACHE_SIZE) this.similarCache.clear();
      similar = this.similarVocabulary(text, isPair);
      this.similarCache.set(key, similar);
    }
    return similar;
  }
}

/** Pair storage for one search: parallel arrays, a linked list per name (head -> next). */
class PairScratch {
  stamp = 0;
  seen: Int32Array;
  head: Int32Array;
  q = new Uint8Array(4096);
  n = new Uint8Array(4096);
  sim = new Float64Array(4096);
  next = new Int32Array(4096);
  /** Per-token best similarities while bounding one name. */
  best = new Float64Array(64);

  constructor(names: number) {
    this.seen = new Int32Array(names);
    this.head = new Int32Array(names);
  }

  grow(): void {
    const size = this.q.length * 2;
    const copy = <T extends Uint8Array | Float64Array | Int32Array>(from: T, to: T): T => {
      to.set(from);
      return to;
    };
    this.q = copy(this.q, new Uint8Array(size));
    this.n = copy(this.n, new Uint8Array(size));
    this.sim = copy(this.sim, new Float64Array(size));
    this.next = copy(this.next, new Int32Array(size));
  }
}

/** Pairs retrieval skips: query particles and initials against the name's tokens, and the name's initials against the query's. */
function addUnretrievedPairs(query: PreparedName, name: PreparedName, pairs: UnitPair[]): void {
  query.tokens.forEach((qt, q) => {
    const queryUnretrieved = qt.length === 1 || PARTICLES.has(qt);
    name.tokens.forEach((nt, n) => {
      if (!queryUnretrieved && nt.length !== 1) return;
      const sim = tokenSimilarity(qt, nt);
      if (sim >= TOKEN_FLOOR) pairs.push({ q, n, sim });
    });
  });
}

/**
 * The most an alignment from these pairs could score (every token of the
 * shorter side at its best pair, particles and initials at 1): names that
 * cannot reach the minimum are not aligned at all.
 */
function upperBound(query: PreparedName, name: PreparedName, scratch: PairScratch, head: number): number {
  const queryIsShorter = query.realTokens <= name.realTokens;
  const shorter = queryIsShorter ? query : name;
  const best = scratch.best;
  shorter.tokens.forEach((t, i) => {
    best[i] = t.length === 1 || PARTICLES.has(t) ? 1 : 0;
  });
  for (let p = head; p >= 0; p = scratch.next[p]) {
    const mask = queryIsShorter ? query.units[scratch.q[p]].mask : name.units[scratch.n[p]].mask;
    const sim = scratch.sim[p];
    for (let i = 0; i < shorter.tokens.length; i++) if (mask & (1 << i) && sim > best[i]) best[i] = sim;
  }
  let covered = 0;
  shorter.weights.forEach((w, i) => (covered += w * best[i]));
  return covered / shorter.total;
}

/** Character trigrams with the token's ends marked: "ali" -> "$al", "ali", "li$". */
export function trigramsOf(text: string): string[] {
  const padded = `$${text}$`;
  const out = new Set<string>();
  for (let i = 0; i + 3 <= padded.length; i++) out.add(padded.slice(i, i + 3));
  return [...out];
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
