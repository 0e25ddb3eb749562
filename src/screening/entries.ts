/**
 * A watchlist entry: one sanctioned or politically exposed person, company,
 * vessel or aircraft, as the importers produce it and the database holds it.
 * Birth dates are ISO dates or partial dates ("1948-12-10", "1948-12",
 * "1948"); a leading "~" marks one the list gives as approximate ("circa").
 * Countries are ISO 3166-1 alpha-2 codes.
 */
import { z } from 'zod';

export const WATCHLIST_SOURCES = ['ofac_sdn', 'opensanctions'] as const;
export type WatchlistSource = (typeof WATCHLIST_SOURCES)[number];

/** sanctions: watchlist reports screen these; pep: politically exposed person reports. */
export const WATCHLIST_LISTS = ['sanctions', 'pep'] as const;
export type WatchlistList = (typeof WATCHLIST_LISTS)[number];

export const ENTITY_TYPES = ['individual', 'entity', 'vessel', 'aircraft', 'unknown'] as const;
export type EntityType = (typeof ENTITY_TYPES)[number];

export const watchlistSourceSchema = z.enum(WATCHLIST_SOURCES);
export const watchlistListSchema = z.enum(WATCHLIST_LISTS);
export const entityTypeSchema = z.enum(ENTITY_TYPES);

/** An entry as parsed from a source's file. */
export interface WatchlistEntryInput {
  /** The source's own id (OFAC ent_num, OpenSanctions id): stable across the source's releases. */
  externalId: string;
  entityType: EntityType;
  primaryName: string;
  /** Other names the list gives for the same party. */
  aliases: string[];
  /**
   * Nicknames and other names the source itself calls weak (OFAC's a.k.a.s
   * inside Remarks); they still match, a little lower.
   */
  weakAliases: string[];
  birthDates: string[];
  countries: string[];
  programs: string[];
  remarks: string | null;
}

export interface WatchlistEntry extends WatchlistEntryInput {
  source: WatchlistSource;
  list: WatchlistList;
}

/** What an import could not take, with the line it was on. */
export interface SkippedRow {
  line: number;
  reason: string;
}

export interface ParsedWatchlist {
  entries: WatchlistEntryInput[];
  skipped: SkippedRow[];
}
