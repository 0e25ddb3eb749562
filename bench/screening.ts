/**
 * The cost of one watchlist screen against a 10,000-entry list: the first
 * 10,000 entries of the real OFAC SDN list when /work/shared/data/ofac/sdn.csv
 * (or SDN_CSV) is there, otherwise 10,000 generated ones in the same format.
 * The list is imported into an embedded PostgreSQL (PGlite, in memory), and
 * each screen goes through the screener as the action and the API call it:
 * the list-generation check, the in-memory index, scoring and evidence.
 * Queries mix names on the list (exact, reordered with a typo) with names
 * that are not; the first screen (which builds the index) and warm-up
 * screens are reported apart. `npx tsx bench/screening.ts` runs it alone.
 */
import { existsSync, readFileSync } from 'node:fs';
import { importWatchlist, WatchlistScreener } from '../src/screening';
import { readCsv } from '../src/screening/csv';
import { openPglite } from '../src/store/db';
import { migrate } from '../src/store/migrations';

const LIST_SIZE = 10_000;
const SCREENS = 500;
const WARMUP = 50;
const REAL_SDN = process.env.SDN_CSV ?? '/work/shared/data/ofac/sdn.csv';

export interface ScreeningBenchResult {
  /** Entries in the list. */
  listSize: number;
  /** Names in the index (primary names, aliases and their spellings). */
  names: number;
  data: 'ofac_sdn' | 'generated';
  screens: number;
  medianMs: number;
  p99Ms: number;
  maxMs: number;
  /** The first screen, which loads the list and builds its index. */
  firstScreenMs: number;
  importMs: number;
  matchedScreens: number;
  /** The slowest screens, to see what costs most (common names reach many candidates). */
  slowest: { name: string; ms: number }[];
}

/** A small deterministic generator, so every run screens the same names. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const SYLLABLES = ['al', 'ba', 'ka', 'ri', 'mo', 'ha', 'na', 'sa', 'li', 'ta', 'ro', 'vi', 'ch', 'en', 'ko', 'ma', 'de', 'zu', 'fa', 'ne', 'lo', 'gu', 'si', 'ya'];

function generatedName(next: () => number, syllables: number): string {
  let name = '';
  for (let i = 0; i < syllables; i++) name += SYLLABLES[Math.floor(next() * SYLLABLES.length)];
  return name.toUpperCase();
}

/** 10,000 SDN.CSV rows: individuals "LAST, First Middle" with dates of birth, some with a.k.a.s. */
function generatedSdn(next: () => number): string {
  const rows: string[] = [];
  for (let i = 0; i < LIST_SIZE; i++) {
    const last = generatedName(next, 3);
    const first = generatedName(next, 2);
    const middle = next() < 0.4 ? ` ${generatedName(next, 2)}` : '';
    const year = 1940 + Math.floor(next() * 60);
    const aka = next() < 0.2 ? `; a.k.a. '${generatedName(next, 3)}'` : '';
    rows.push(`${100000 + i},"${last}, ${first}${middle}","individual","SDGT",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,"DOB ${year}${aka}."`);
  }
  return rows.join('\r\n');
}

function typo(word: string, next: () => number): string {
  if (word.length < 4) return word;
  const i = 1 + Math.floor(next() * (word.length - 2));
  return word.slice(0, i) + word[i + 1] + word[i] + word.slice(i + 2);
}

function toCsv(rows: string[][]): string {
  return rows.map((fields) => fields.map((f) => `"${f.replace(/"/g, '""')}"`).join(',')).join('\r\n');
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export async function screeningBench(): Promise<ScreeningBenchResult> {
  const next = random(42);
  const real = existsSync(REAL_SDN);
  // Records are cut by the CSV reader, not by lines: a quoted field may hold a line break.
  const csv = real ? toCsv(readCsv(readFileSync(REAL_SDN, 'utf8'), 'the SDN file').slice(0, LIST_SIZE).map((r) => r.fields)) : generatedSdn(next);

  const db = await openPglite();
  try {
    await migrate(db);
    const importStarted = performance.now();
    const imported = await importWatchlist(db, { source: 'ofac_sdn', list: 'sanctions', csv });
    const importMs = performance.now() - importStarted;

    const listed = readCsv(csv, 'the list').map((r) => r.fields[1]);
    const queries: { name: string; birthdate?: string }[] = [];
    for (let i = 0; i < SCREENS + WARMUP; i++) {
      const kind = i % 3;
      const name = listed[Math.floor(next() * listed.length)];
      if (kind === 0) queries.push({ name });
      else if (kind === 1) {
        // "LAST, First" as a person would type it, with a typo in the longest word.
        const words = name.replace(',', '').split(/\s+/);
        const longest = words.reduce((a, b) => (b.length > a.length ? b : a));
        queries.push({ name: [...words.slice(1), words[0]].map((w) => (w === longest ? typo(w, next) : w)).join(' '), birthdate: '1970-01-01' });
      } else queries.push({ name: `${generatedName(next, 2)} ${generatedName(next, 3)}`.toLowerCase() });
    }

    const screener = WatchlistScreener.for(db);
    const firstStarted = performance.now();
    await screener.screen({ name: 'first screen', list: 'sanctions' });
    const firstScreenMs = performance.now() - firstStarted;

    const samples: number[] = [];
    const timed: { name: string; ms: number }[] = [];
    let matchedScreens = 0;
    for (let i = 0; i < queries.length; i++) {
      const t0 = performance.now();
      const result = await screener.screen({ ...queries[i], list: 'sanctions' });
      const ms = performance.now() - t0;
      if (i < WARMUP) continue;
      samples.push(ms);
      timed.push({ name: queries[i].name, ms: Math.round(ms * 100) / 100 });
      if (result.matches.length > 0) matchedScreens++;
    }
    samples.sort((a, b) => a - b);
    const { index } = await screener.index('sanctions');
    const round = (n: number) => Math.round(n * 100) / 100;
    return {
      listSize: imported.entries,
      names: index.nameCount,
      data: real ? 'ofac_sdn' : 'generated',
      screens: samples.length,
      medianMs: round(percentile(samples, 50)),
      p99Ms: round(percentile(samples, 99)),
      maxMs: round(samples[samples.length - 1]),
      firstScreenMs: round(firstScreenMs),
      importMs: round(importMs),
      matchedScreens,
      slowest: timed.sort((a, b) => b.ms - a.ms).slice(0, 5),
    };
  } finally {
    await db.close();
  }
}

if (require.main === module) {
  screeningBench().then(
    (result) => console.log(JSON.stringify(result, null, 2)),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
