/**
 * Screening: watchlist and PEP lists held in the database (importers for
 * the OFAC SDN and OpenSanctions CSV files, fuzzy name matching against an
 * in-memory index per list), and the email, phone and adverse media checks
 * behind the run_report action.
 */
export * from './adverse-media';
export * from './countries';
export * from './dates';
export * from './email-risk';
export * from './entries';
export * from './errors';
export * from './importer';
export { NameIndex, type NameHit } from './name-index';
export { NameNormaliser } from './names';
export * from './ofac-sdn';
export * from './opensanctions';
export * from './phone-risk';
export * from './screener';
export { nameSimilarity, tokenSimilarity } from './similarity';
export { listWatchlists, type ImportResult, type WatchlistSummary } from './watchlist-store';
