/**
 * `npm run watchlists:import -- --source ofac_sdn --list sanctions --file SDN.CSV [--alt ALT.CSV] [--add ADD.CSV]`
 * `npm run watchlists:import -- --source opensanctions --list pep --file targets.simple.csv`
 *
 * Imports a published list file straight into the database the service
 * uses (DATABASE_URL, or the embedded PGlite under DATA_DIR). The embedded
 * database belongs to one process at a time: with `npm start` running on
 * it, import through `POST /v1/watchlists/import` instead.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabase } from '../store/db';
import { migrate } from '../store/migrations';
import { decodeListFile } from './csv';
import { watchlistListSchema, watchlistSourceSchema } from './entries';
import { ScreeningError } from './errors';
import { importWatchlist } from './importer';

const USAGE = 'usage: npm run watchlists:import -- --source ofac_sdn|opensanctions --list sanctions|pep --file PATH [--alt ALT.CSV] [--add ADD.CSV]';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { source: { type: 'string' }, list: { type: 'string' }, file: { type: 'string' }, alt: { type: 'string' }, add: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const source = watchlistSourceSchema.safeParse(values.source);
  const list = watchlistListSchema.safeParse(values.list);
  if (!source.success || !list.success || !values.file) {
    console.error(USAGE);
    return 2;
  }
  const read = (path: string) => decodeListFile(readFileSync(resolve(path)));
  const db = await openDatabase({ url: process.env.DATABASE_URL || undefined, dataDir: join(resolve(process.env.DATA_DIR ?? '.data'), 'pg'), log: (line) => console.log(line) });
  try {
    await migrate(db, (line) => console.log(line));
    const started = performance.now();
    const result = await importWatchlist(db, {
      source: source.data,
      list: list.data,
      csv: read(values.file),
      altCsv: values.alt ? read(values.alt) : undefined,
      addCsv: values.add ? read(values.add) : undefined,
    });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(
      result.unchanged
        ? `${result.source} -> ${result.list}: unchanged (these files were imported already): ${result.entries} entries`
        : `${result.source} -> ${result.list}: ${result.entries} entries, ${result.aliases} aliases, ${result.skipped} rows skipped, in ${seconds} s`,
    );
    for (const row of result.skippedRows) console.log(`  skipped line ${row.line}: ${row.reason}`);
    return 0;
  } catch (err) {
    if (err instanceof ScreeningError) {
      console.error(`import failed: ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    await db.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
