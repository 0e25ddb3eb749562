/**
 * The OpenSanctions "simple" CSV export (targets.simple.csv): a header row,
 * then id, schema, name, aliases, birth_date, countries, addresses,
 * identifiers, sanctions, phones, emails, dataset, first_seen, last_seen,
 * last_change; several values in one field are separated by ";". Columns
 * are found by their header name, so added or reordered columns do not
 * break an import. The same format carries the sanctions collections and
 * the PEP collection; which list an import fills is the importer's choice.
 */
import { countryCode } from './countries';
import { readCsv, splitValues } from './csv';
import { parseIsoPartialDate } from './dates';
import type { EntityType, ParsedWatchlist, SkippedRow, WatchlistEntryInput } from './entries';
import { importFormatError } from './errors';

const REQUIRED = ['id', 'schema', 'name'] as const;

/** FollowTheMoney schemata to our entity types. */
const SCHEMA_TYPES: Record<string, EntityType> = {
  person: 'individual',
  organization: 'entity',
  company: 'entity',
  legalentity: 'entity',
  publicbody: 'entity',
  vessel: 'vessel',
  airplane: 'aircraft',
};

export function parseOpenSanctions(csv: string): ParsedWatchlist {
  const rows = readCsv(csv, 'the OpenSanctions file');
  const header = rows.shift();
  if (!header) return { entries: [], skipped: [] };
  const columns = new Map(header.fields.map((name, i) => [name.trim().toLowerCase(), i]));
  const missing = REQUIRED.filter((c) => !columns.has(c));
  if (missing.length > 0) {
    throw importFormatError(`the OpenSanctions file has no ${missing.join(', ')} column${missing.length > 1 ? 's' : ''} in its header (expected the targets.simple.csv columns: id,schema,name,aliases,birth_date,countries,...)`);
  }
  const get = (fields: string[], column: string): string | undefined => {
    const i = columns.get(column);
    const v = i === undefined ? undefined : fields[i]?.trim();
    return v ? v : undefined;
  };

  const skipped: SkippedRow[] = [];
  const seen = new Set<string>();
  const entries: WatchlistEntryInput[] = [];
  for (const { fields, line } of rows) {
    const id = get(fields, 'id');
    const name = get(fields, 'name');
    if (!id || !name) {
      skipped.push({ line, reason: id ? 'no name' : 'no id' });
      continue;
    }
    if (seen.has(id)) {
      skipped.push({ line, reason: `id ${id} appears twice` });
      continue;
    }
    seen.add(id);
    const datasets = splitValues(get(fields, 'dataset'));
    const identifiers = splitValues(get(fields, 'identifiers'));
    entries.push({
      externalId: id,
      entityType: SCHEMA_TYPES[(get(fields, 'schema') ?? '').toLowerCase()] ?? 'unknown',
      primaryName: name,
      aliases: splitValues(get(fields, 'aliases')).filter((a) => a !== name),
      weakAliases: [],
      birthDates: unique(splitValues(get(fields, 'birth_date')).map(parseIsoPartialDate).filter((d): d is string => d !== undefined)),
      // Codes like "suhh" (the Soviet Union) have no alpha-2 equivalent and are left out.
      countries: unique(splitValues(get(fields, 'countries')).map(countryCode).filter((c): c is string => c !== undefined)),
      programs: splitValues(get(fields, 'sanctions')).slice(0, 50),
      remarks: [datasets.length ? `datasets: ${datasets.join(', ')}` : '', identifiers.length ? `identifiers: ${identifiers.join(', ')}` : ''].filter(Boolean).join('; ') || null,
    });
  }
  return { entries, skipped };
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
