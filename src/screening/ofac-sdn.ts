/**
 * The OFAC Specially Designated Nationals list in its legacy CSV format:
 * SDN.CSV (no header; ent_num, SDN_Name, SDN_Type, Program, Title,
 * Call_Sign, Vess_type, Tonnage, GRT, Vess_flag, Vess_owner, Remarks; "-0-"
 * for empty), and when given ALT.CSV (ent_num, alt_num, alt_type, alt_name,
 * alt_remarks) and ADD.CSV (ent_num, add_num, address, city, country,
 * add_remarks), keyed by ent_num.
 *
 * Remarks hold much of what matters: "DOB 10 Dec 1948; alt. DOB 1946; POB
 * Giza, Egypt; nationality Egypt; a.k.a. 'ABU-'UMAR'." Dates of birth,
 * nationality, citizenship and place of birth are read from it; a.k.a.s
 * there are OFAC's weak aliases (nicknames), the ones in ALT.CSV its strong ones.
 */
import { countryCode } from './countries';
import { readCsv, splitValues } from './csv';
import { parseOfacDob } from './dates';
import type { EntityType, ParsedWatchlist, SkippedRow, WatchlistEntryInput } from './entries';
import { importFormatError } from './errors';

export interface OfacSdnFiles {
  /** SDN.CSV */
  sdn: string;
  /** ALT.CSV: aliases. */
  alt?: string;
  /** ADD.CSV: addresses (their countries are used). */
  add?: string;
}

const SDN_COLUMNS = 12;

/** OFAC writes empty fields as "-0-" (often followed by a space). */
function value(field: string | undefined): string | undefined {
  const v = field?.trim();
  return v && v !== '-0-' ? v : undefined;
}

const ENTITY_TYPES: Record<string, EntityType> = { individual: 'individual', vessel: 'vessel', aircraft: 'aircraft' };

export function parseOfacSdn(files: OfacSdnFiles): ParsedWatchlist {
  const rows = readCsv(files.sdn, 'the SDN file');
  const first = rows[0];
  if (first && first.fields[0]?.trim().toLowerCase() === 'ent_num') rows.shift();
  if (rows.length > 0 && (rows[0].fields.length !== SDN_COLUMNS || !/^\d+$/.test(rows[0].fields[0].trim()))) {
    throw importFormatError(
      `the SDN file does not look like OFAC's SDN.CSV: expected ${SDN_COLUMNS} columns starting with a numeric ent_num (line ${rows[0].line} has ${rows[0].fields.length})`,
    );
  }
  const skipped: SkippedRow[] = [];
  const byId = new Map<string, WatchlistEntryInput>();
  for (const { fields, line } of rows) {
    if (fields.length !== SDN_COLUMNS) {
      skipped.push({ line, reason: `expected ${SDN_COLUMNS} columns, found ${fields.length}` });
      continue;
    }
    const id = fields[0].trim();
    const name = value(fields[1]);
    if (!/^\d+$/.test(id)) {
      skipped.push({ line, reason: `ent_num "${id}" is not a number` });
      continue;
    }
    if (!name) {
      skipped.push({ line, reason: 'no name' });
      continue;
    }
    if (byId.has(id)) {
      skipped.push({ line, reason: `ent_num ${id} appears twice` });
      continue;
    }
    const remarks = value(fields[11]);
    const facts = readRemarks(remarks ?? '');
    const flag = value(fields[9]);
    const flagCode = flag ? countryCode(flag) : undefined;
    const title = value(fields[4]);
    byId.set(id, {
      externalId: id,
      entityType: ENTITY_TYPES[value(fields[2])?.toLowerCase() ?? ''] ?? 'entity',
      primaryName: name,
      aliases: [],
      weakAliases: facts.aliases.filter((a) => a !== name),
      birthDates: facts.birthDates,
      countries: unique([...facts.countries, ...(flagCode ? [flagCode] : [])]),
      // Several programs are written "SDGT] [SYRIA" (the outer brackets of "[SDGT] [SYRIA]" stripped).
      programs: splitValues(value(fields[3]), /\]\s*\[/).map((p) => p.replace(/^\[|\]$/g, '')),
      remarks: [title && !remarks?.includes(title) ? `Title: ${title}` : undefined, remarks].filter(Boolean).join('; ') || null,
    });
  }
  if (files.alt) addAliases(byId, files.alt, skipped);
  if (files.add) addAddressCountries(byId, files.add, skipped);
  return { entries: [...byId.values()], skipped };
}

interface RemarkFacts {
  aliases: string[];
  birthDates: string[];
  countries: string[];
}

/** Dates of birth, countries and weak aliases from a Remarks field (clauses separated by "; "). */
export function readRemarks(remarks: string): RemarkFacts {
  const aliases: string[] = [];
  const birthDates: string[] = [];
  const countries: string[] = [];
  const text = remarks.trim().replace(/\.$/, '');
  for (const raw of text.split(/;\s*/)) {
    const clause = raw.trim();
    const aka = /^[afn]\.k\.a\.\s+'(.+)'\.?$/i.exec(clause);
    if (aka) {
      // A quoted nickname inside the quotes (a.k.a. ''THE BANKER'') loses its inner quotes too; a leading apostrophe alone ('ABD) is part of the name.
      aliases.push(aka[1].trim().replace(/^'(.*)'$/, '$1'));
      continue;
    }
    const dob = /^(?:alt\.\s+)?DOB\s+(.+)$/i.exec(clause);
    if (dob) {
      birthDates.push(...parseOfacDob(dob[1]));
      continue;
    }
    const nationality = /^(?:alt\.\s+)?(?:nationality|citizen|nationality of registration)\s+(.+)$/i.exec(clause);
    if (nationality) {
      const code = countryCode(nationality[1]);
      if (code) countries.push(code);
      continue;
    }
    const pob = /^(?:alt\.\s+)?POB\s+(.+)$/i.exec(clause);
    if (pob) {
      // "Najf Al Ashraf (Najaf), Iraq": the country is the last part.
      const parts = pob[1].split(',');
      const code = countryCode(parts[parts.length - 1]);
      if (code) countries.push(code);
    }
  }
  return { aliases: unique(aliases), birthDates: unique(birthDates), countries: unique(countries) };
}

function addAliases(byId: Map<string, WatchlistEntryInput>, text: string, skipped: SkippedRow[]): void {
  for (const { fields, line } of withoutHeader(readCsv(text, 'the ALT file'), 'ent_num')) {
    const entry = byId.get(fields[0]?.trim() ?? '');
    const name = value(fields[3]);
    if (!entry || !name) {
      skipped.push({ line: line, reason: `ALT: ${entry ? 'no alias name' : `no SDN entry ${fields[0]?.trim()}`}` });
      continue;
    }
    if (name !== entry.primaryName && !entry.aliases.includes(name)) entry.aliases.push(name);
    // A strong alias that was also listed as weak counts once, as strong.
    entry.weakAliases = entry.weakAliases.filter((a) => a !== name);
  }
}

function addAddressCountries(byId: Map<string, WatchlistEntryInput>, text: string, skipped: SkippedRow[]): void {
  for (const { fields, line } of withoutHeader(readCsv(text, 'the ADD file'), 'ent_num')) {
    const entry = byId.get(fields[0]?.trim() ?? '');
    if (!entry) {
      skipped.push({ line, reason: `ADD: no SDN entry ${fields[0]?.trim()}` });
      continue;
    }
    const country = value(fields[4]);
    const code = country ? countryCode(country) : undefined;
    if (code && !entry.countries.includes(code)) entry.countries.push(code);
  }
}

function withoutHeader<T extends { fields: string[] }>(rows: T[], firstColumn: string): T[] {
  return rows[0]?.fields[0]?.trim().toLowerCase() === firstColumn ? rows.slice(1) : rows;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
