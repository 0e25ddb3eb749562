/**
 * Importing a published list file into a watchlist: parse it in its
 * source's format, then replace that source's entries in the list in one
 * transaction. Importing the same files again changes nothing (they are
 * recognised by their hash); a new release replaces the old one whole, so
 * a party delisted upstream is gone after the import.
 */
import { createHash } from 'node:crypto';
import type { Db } from '../store/db';
import type { WatchlistList, WatchlistSource } from './entries';
import { importFormatError, ScreeningError, ScreeningFailureType } from './errors';
import { parseOfacSdn } from './ofac-sdn';
import { parseOpenSanctions } from './opensanctions';
import { WatchlistScreener } from './screener';
import { replaceWatchlist, type ImportResult } from './watchlist-store';

/** Part of the content hash: after a parser change, the same files import again. */
const IMPORTER_VERSION = 1;

export interface ImportRequest {
  source: WatchlistSource;
  list: WatchlistList;
  /** The main file: OFAC's SDN.CSV, or OpenSanctions' targets.simple.csv. */
  csv: string;
  /** OFAC only: ALT.CSV (aliases). */
  altCsv?: string;
  /** OFAC only: ADD.CSV (addresses). */
  addCsv?: string;
}

export async function importWatchlist(db: Db, request: ImportRequest): Promise<ImportResult> {
  if (request.source !== 'ofac_sdn' && (request.altCsv !== undefined || request.addCsv !== undefined)) {
    throw new ScreeningError(ScreeningFailureType.ImportFormat, 'altCsv and addCsv belong to the OFAC SDN files only', request.altCsv !== undefined ? '/altCsv' : '/addCsv');
  }
  const parsed = request.source === 'ofac_sdn' ? parseOfacSdn({ sdn: request.csv, alt: request.altCsv, add: request.addCsv }) : parseOpenSanctions(request.csv);
  // An empty or unreadable file must not wipe a loaded list.
  if (parsed.entries.length === 0) {
    const why = parsed.skipped.length > 0 ? `; ${parsed.skipped.length} rows were skipped, the first (line ${parsed.skipped[0].line}): ${parsed.skipped[0].reason}` : '';
    throw importFormatError(`the file has no entries to import${why}`);
  }
  const hash = createHash('sha256')
    .update(JSON.stringify([IMPORTER_VERSION, request.source, request.csv, request.altCsv ?? null, request.addCsv ?? null]))
    .digest('hex');
  const result = await replaceWatchlist(db, request.source, request.list, parsed, hash);
  WatchlistScreener.for(db).invalidate(request.list);
  return result;
}
