/**
 * Screening a name (with a birthdate and a country when known) against a
 * list held in the database. Each list's name index is built in memory on
 * first use and kept. An import in this process drops it at once; imports
 * in other processes are noticed by the list's generation (one small
 * query), read again when the last read is more than a second old, and the
 * index is rebuilt when it changed. One screener per database handle, so
 * the API and the worker in one process share the index.
 *
 * The score of an entry is its best name's similarity, moved by evidence:
 * the same birthdate or birth year raises it, a birth year far from the
 * subject's lowers it; likewise, more gently, for the country. An entry
 * matches at or above the threshold.
 */
import type { Db } from '../store/db';
import { compareCountries, countryCode, COUNTRY_ADJUSTMENT } from './countries';
import { BIRTHDATE_ADJUSTMENT, compareBirthdates, isSubjectBirthdate } from './dates';
import type { EntityType, WatchlistList, WatchlistSource } from './entries';
import { ScreeningError, ScreeningFailureType } from './errors';
import { NameIndex } from './name-index';
import { NameNormaliser } from './names';
import { listGeneration, loadWatchlist } from './watchlist-store';

export const DEFAULT_THRESHOLD = 0.88;
export const DEFAULT_LIMIT = 10;
export const MAX_LIMIT = 100;

/** The most evidence can add; names this much below the threshold can still reach it. */
const MAX_RAISE = Math.max(...Object.values(BIRTHDATE_ADJUSTMENT)) + Math.max(...Object.values(COUNTRY_ADJUSTMENT));

export interface ScreenQuery {
  name: string;
  /** YYYY-MM-DD or YYYY. */
  birthdate?: string;
  /** ISO alpha-2 code or an English country name. */
  country?: string;
  list: WatchlistList;
  threshold?: number;
  limit?: number;
  sources?: readonly WatchlistSource[];
  entityTypes?: readonly EntityType[];
}

export interface WatchlistMatch {
  /** `<source>:<the source's id>`: stable across imports. */
  entryId: string;
  source: WatchlistSource;
  list: WatchlistList;
  externalId: string;
  entityType: EntityType;
  /** The entry's primary name as the list publishes it. */
  name: string;
  /** The name (primary or alias) that matched. */
  matchedName: string;
  matchedAlias: boolean;
  /** The alias that matched is one the list itself calls weak (a nickname). */
  weakAlias: boolean;
  /** The final score, in [0, 1]. */
  score: number;
  /** The names' similarity before birthdate and country evidence. */
  nameScore: number;
  /** What moved the score: birthdate_match, birth_year_match, birth_year_close, birth_year_mismatch, country_match, country_mismatch. */
  evidence: string[];
  birthDates: string[];
  countries: string[];
  programs: string[];
}

export interface ScreenResult {
  list: WatchlistList;
  threshold: number;
  /** Entries in the list (of the sources screened). */
  entriesScreened: number;
  /** Changes with every import into the list: which version of the list this result is against. */
  generation: string;
  matches: WatchlistMatch[];
}

interface LoadedList {
  generation: string;
  index: NameIndex;
  /** When the generation was last read from the database (performance.now()). */
  checkedAt: number;
}

/**
 * How long a list's generation read stays good. Imports in this process
 * drop the index at once; one in another process is seen within this time.
 * Reading it for every screen would add a round trip to each.
 */
export const GENERATION_RECHECK_MS = 1000;

/** Generations come from one sequence: the highest in a key orders keys. */
const maxGeneration = (key: string): string => key.split(',').reduce((max, part) => {
  const g = part.slice(part.lastIndexOf(':') + 1);
  return BigInt(g) > BigInt(max) ? g : max;
}, '0');

const round = (n: number) => Math.round(n * 1000) / 1000;

const screeners = new WeakMap<Db, WatchlistScreener>();

export class WatchlistScreener {
  private readonly loaded = new Map<WatchlistList, LoadedList>();
  private readonly loading = new Map<WatchlistList, { generation: string; built: Promise<LoadedList> }>();
  private normaliser?: Promise<NameNormaliser>;

  constructor(private readonly db: Db) {}

  /** The screener of this database handle (one per handle, shared by everything using it). */
  static for(db: Db): WatchlistScreener {
    let screener = screeners.get(db);
    if (!screener) screeners.set(db, (screener = new WatchlistScreener(db)));
    return screener;
  }

  private names(): Promise<NameNormaliser> {
    this.normaliser ??= NameNormaliser.load();
    return this.normaliser;
  }

  /** Drop a list's index now (an import in this process); other processes notice by the generation. */
  invalidate(list: WatchlistList): void {
    this.loaded.delete(list);
  }

  /** The current index of a list, rebuilt if an import changed the list since it was built. */
  async index(list: WatchlistList): Promise<LoadedList> {
    const current = this.loaded.get(list);
    if (current && performance.now() - current.checkedAt < GENERATION_RECHECK_MS) return current;
    const generation = await listGeneration(this.db, list);
    if (generation === '') {
      throw new ScreeningError(ScreeningFailureType.NotLoaded, `no watchlist is loaded into the ${list} list; import one first (POST /v1/watchlists/import)`);
    }
    if (current?.generation === generation) {
      current.checkedAt = performance.now();
      return current;
    }
    // Concurrent screens after an import share one rebuild; a rebuild begun before a newer import is not waited for.
    const pending = this.loading.get(list);
    if (pending?.generation === generation) return pending.built;
    const built = this.build(list).finally(() => {
      if (this.loading.get(list)?.built === built) this.loading.delete(list);
    });
    this.loading.set(list, { generation, built });
    return built;
  }

  private async build(list: WatchlistList): Promise<LoadedList> {
    const [normaliser, { generation, entries }] = await Promise.all([this.names(), loadWatchlist(this.db, list)]);
    const loaded = { generation, index: NameIndex.build(entries, normaliser), checkedAt: performance.now() };
    // A slower build of an older generation must not replace a newer one.
    const current = this.loaded.get(list);
    if (!current || BigInt(maxGeneration(current.generation)) <= BigInt(maxGeneration(generation))) this.loaded.set(list, loaded);
    return loaded;
  }

  async screen(query: ScreenQuery): Promise<ScreenResult> {
    const threshold = query.threshold ?? DEFAULT_THRESHOLD;
    const limit = Math.min(query.limit ?? DEFAULT_LIMIT, MAX_LIMIT);
    const birthdate = query.birthdate?.trim() || undefined;
    if (birthdate !== undefined && !isSubjectBirthdate(birthdate)) {
      throw new ScreeningError(ScreeningFailureType.SubjectInvalid, `birthdate "${birthdate}" is not a date (YYYY-MM-DD) or a year (YYYY)`, '/birthdate');
    }
    const countryText = query.country?.trim() || undefined;
    const country = countryText === undefined ? undefined : countryCode(countryText);
    if (countryText !== undefined && country === undefined) {
      throw new ScreeningError(ScreeningFailureType.SubjectInvalid, `country "${countryText}" is not an ISO 3166-1 alpha-2 code or a known country name`, '/country');
    }
    const variants = (await this.names()).variants(query.name);
    if (variants.length === 0) throw new ScreeningError(ScreeningFailureType.SubjectInvalid, 'the name has no letters or digits to match', '/name');

    const { generation, index } = await this.index(query.list);
    const raise = (birthdate ? BIRTHDATE_ADJUSTMENT.birthdate_match : 0) + (country ? COUNTRY_ADJUSTMENT.country_match : 0);
    const hits = index.search({ variants, minScore: Math.max(0, threshold - Math.min(raise, MAX_RAISE)), sources: query.sources, entityTypes: query.entityTypes });

    const matches: WatchlistMatch[] = [];
    for (const hit of hits) {
      const evidence: string[] = [];
      let score = hit.nameScore;
      const born = birthdate ? compareBirthdates(birthdate, hit.entry.birthDates) : undefined;
      if (born) {
        evidence.push(born);
        score += BIRTHDATE_ADJUSTMENT[born];
      }
      const from = country ? compareCountries(country, hit.entry.countries) : undefined;
      if (from) {
        evidence.push(from);
        score += COUNTRY_ADJUSTMENT[from];
      }
      score = Math.min(1, Math.max(0, score));
      if (score < threshold) continue;
      const e = hit.entry;
      matches.push({
        entryId: `${e.source}:${e.externalId}`,
        source: e.source,
        list: e.list,
        externalId: e.externalId,
        entityType: e.entityType,
        name: e.primaryName,
        matchedName: hit.matchedName,
        matchedAlias: !hit.isPrimary,
        weakAlias: hit.weak,
        score: round(score),
        nameScore: round(hit.nameScore),
        evidence,
        birthDates: e.birthDates,
        countries: e.countries,
        programs: e.programs,
      });
    }
    matches.sort((a, b) => b.score - a.score || b.nameScore - a.nameScore || a.name.localeCompare(b.name));
    const sources = query.sources ? new Set(query.sources) : undefined;
    return {
      list: query.list,
      threshold,
      entriesScreened: sources ? index.entries.filter((e) => sources.has(e.source)).length : index.entries.length,
      generation,
      matches: matches.slice(0, limit),
    };
  }
}
