/**
 * Reading the CSV files lists are published as: records with the line each
 * started on (for "skipped line 42: ..."), and file bytes decoded the way
 * the publishers write them (UTF-8, or Latin-1 in older OFAC files).
 */
import { parse } from 'csv-parse/sync';
import { importFormatError } from './errors';

export interface CsvRecord {
  fields: string[];
  line: number;
}

export function readCsv(text: string, what: string): CsvRecord[] {
  try {
    const rows = parse(text, {
      bom: true,
      relax_column_count: true,
      skip_empty_lines: true,
      info: true,
    }) as unknown as { record: string[]; info: { lines: number } }[];
    return rows
      .map((row) => ({ fields: row.record, line: row.info.lines }))
      // OFAC files end with a DOS end-of-file character (0x1A) on a line of its own.
      .filter((row) => !(row.fields.length === 1 && row.fields[0].replace(/\u001a/g, '').trim() === ''));
  } catch (err) {
    throw importFormatError(`${what} is not valid CSV: ${(err as Error).message}`);
  }
}

/** UTF-8 when the bytes are valid UTF-8, otherwise Latin-1 (what older OFAC files used). */
export function decodeListFile(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder('latin1').decode(bytes);
  }
}

/** Values split on a separator, trimmed, empties and repeats dropped. */
export function splitValues(text: string | undefined, separator: string | RegExp = ';'): string[] {
  if (!text) return [];
  return [...new Set(text.split(separator).map((v) => v.trim()).filter((v) => v.length > 0))];
}
