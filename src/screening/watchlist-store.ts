/**
 * Watchlists in PostgreSQL: replacing one source's entries in a list
 * atomically (readers see the old entries or the new, never a mix), what
 * is loaded, and reading a whole list for the screening index.
 */
import type { Db, Queryable } from '../store/db';
import type { EntityType, ParsedWatchlist, SkippedRow, WatchlistEntry, WatchlistList, WatchlistSource } from './entries';

/** Rows per INSERT: large enough to be quick, small enough for one parameter. */
const BATCH = 1000;
/** How many skipped rows an import reports by line (the count is always whole). */
const SKIPPED_SHOWN = 50;

export interface ImportResult {
  source: WatchlistSource;
  list: WatchlistList;
  entries: number;
  aliases: number;
  skipped: number;
  /** The first skipped rows, with their line and why. */
  skippedRows: SkippedRow[];
  /** True when the same files were imported before: nothing was rewritten. */
  unchanged: boolean;
  generation: string;
  importedAt: string;
}

export interface WatchlistSummary {
  source: WatchlistSource;
  list: WatchlistList;
  entries: number;
  aliases: number;
  skipped: number;
  generation: string;
  contentSha256: string;
  importedAt: string;
}

interface ImportRow {
  source: WatchlistSource;
  list: WatchlistList;
  generation: string | number;
  entry_count: number;
  alias_count: number;
  skipped_count: number;
  content_sha256: string;
  imported_at: Date | string;
}

const iso = (v: Date | string) => new Date(v).toISOString();

function summary(row: ImportRow): WatchlistSummary {
  return {
    source: row.source,
    list: row.list,
    entries: Number(row.entry_count),
    aliases: Number(row.alias_count),
    skipped: Number(row.skipped_count),
    generation: String(row.generation),
    contentSha256: row.content_sha256,
    importedAt: iso(row.imported_at),
  };
}

export async function replaceWatchlist(db: Db, source: WatchlistSource, list: WatchlistList, parsed: ParsedWatchlist, contentSha256: string): Promise<ImportResult> {
  return db.transaction(async (tx) => {
    // Two imports of one source at once would interleave their deletes and inserts; the second waits.
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`watchlist:${source}:${list}`]);
    const current = await tx.query<ImportRow>('SELECT * FROM watchlist_imports WHERE source = $1 AND list = $2', [source, list]);
    if (current.rows[0]?.content_sha256 === contentSha256) {
      const s = summary(current.rows[0]);
      return { source, list, entries: s.entries, aliases: s.aliases, skipped: s.skipped, skippedRows: parsed.skipped.slice(0, SKIPPED_SHOWN), unchanged: true, generation: s.generation, importedAt: s.importedAt };
    }
    await tx.query('DELETE FROM watchlist_entries WHERE list = $1 AND source = $2', [list, source]);
    for (let i = 0; i < parsed.entries.length; i += BATCH) {
      const rows = parsed.entries.slice(i, i + BATCH).map((e) => ({
        external_id: e.externalId,
        entity_type: e.entityType,
        primary_name: e.primaryName,
        aliases: e.aliases,
        weak_aliases: e.weakAliases,
        birth_dates: e.birthDates,
        countries: e.countries,
        programs: e.programs,
        remarks: e.remarks,
      }));
      await tx.query(
        `INSERT INTO watchlist_entries (list, source, external_id, entity_type, primary_name, aliases, weak_aliases, birth_dates, countries, programs, remarks)
         SELECT $1, $2, x.external_id, x.entity_type, x.primary_name, x.aliases, x.weak_aliases, x.birth_dates, x.countries, x.programs, x.remarks
         FROM jsonb_to_recordset($3::jsonb) AS x(external_id text, entity_type text, primary_name text, aliases text[], weak_aliases text[],
                                                birth_dates text[], countries text[], programs text[], remarks text)`,
        [list, source, JSON.stringify(rows)],
      );
    }
    const aliases = parsed.entries.reduce((n, e) => n + e.aliases.length + e.weakAliases.length, 0);
    const { rows } = await tx.query<ImportRow>(
      `INSERT INTO watchlist_imports (source, list, generation, entry_count, alias_count, skipped_count, content_sha256, imported_at)
       VALUES ($1, $2, nextval('watchlist_generation'), $3, $4, $5, $6, now())
       ON CONFLICT (source, list) DO UPDATE SET generation = EXCLUDED.generation, entry_count = EXCLUDED.entry_count, alias_count = EXCLUDED.alias_count,
         skipped_count = EXCLUDED.skipped_count, content_sha256 = EXCLUDED.content_sha256, imported_at = EXCLUDED.imported_at
       RETURNING *`,
      [source, list, parsed.entries.length, aliases, parsed.skipped.length, contentSha256],
    );
    const s = summary(rows[0]);
    return { source, list, entries: s.entries, aliases: s.aliases, skipped: s.skipped, skippedRows: parsed.skipped.slice(0, SKIPPED_SHOWN), unchanged: false, generation: s.generation, importedAt: s.importedAt };
  });
}

export async function listWatchlists(q: Queryable): Promise<WatchlistSummary[]> {
  const { rows } = await q.query<ImportRow>('SELECT * FROM watchlist_imports ORDER BY list, source');
  return rows.map(summary);
}

/** A key that changes whenever any source of the list is imported with a change ("" when nothing is loaded). */
export async function listGeneration(q: Queryable, list: WatchlistList): Promise<string> {
  const { rows } = await q.query<{ source: string; generation: string | number }>('SELECT source, generation FROM watchlist_imports WHERE list = $1 ORDER BY source', [list]);
  return rows.map((r) => `${r.source}:${r.generation}`).join(',');
}

interface EntryRow {
  list: WatchlistList;
  source: WatchlistSource;
  external_id: string;
  entity_type: EntityType;
  primary_name: string;
  aliases: string[];
  weak_aliases: string[];
  birth_dates: string[];
  countries: string[];
  programs: string[];
  remarks: string | null;
}

/** Every entry of a list with the generation they belong to, read from one snapshot. */
export async function loadWatchlist(db: Db, list: WatchlistList): Promise<{ generation: string; entries: WatchlistEntry[] }> {
  return db.transaction(async (tx) => {
    // One snapshot for both reads, so the generation read is the one of the entries read.
    await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    const generation = await listGeneration(tx, list);
    const { rows } = await tx.query<EntryRow>('SELECT * FROM watchlist_entries WHERE list = $1 ORDER BY source, external_id', [list]);
    const entries = rows.map((r) => ({
      list: r.list,
      source: r.source,
      externalId: r.external_id,
      entityType: r.entity_type,
      primaryName: r.primary_name,
      aliases: r.aliases,
      weakAliases: r.weak_aliases,
      birthDates: r.birth_dates,
      countries: r.countries,
      programs: r.programs,
      remarks: r.remarks,
    }));
    return { generation, entries };
  });
}
