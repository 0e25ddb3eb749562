/**
 * Watchlists against the real PostgreSQL, through the HTTP API: importing
 * the OFAC SDN and OpenSanctions sample files (counts, aliases, dates of
 * birth, countries, skipped rows), re-importing (unchanged files change
 * nothing, a new release replaces the old whole, a bad file changes
 * nothing), screening with birthdate and country evidence and a tunable
 * threshold, the index following imports made through another connection,
 * and, where the real SDN list is present, importing it and screening a
 * name from it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GENERATION_RECHECK_MS, WatchlistScreener } from '../src/screening';
import { connectPostgres } from '../src/store/db';
import { importWatchlist } from '../src/screening/importer';
import { api, createHarness, TEST_DATABASE_URL, type Harness } from './support/harness';

const fixture = (name: string) => readFileSync(join(__dirname, 'fixtures', 'screening', name), 'utf8');
const SDN = fixture('sdn-sample.csv');
const ALT = fixture('alt-sample.csv');
const ADD = fixture('add-sample.csv');
const OPEN_SANCTIONS = fixture('opensanctions-sample.csv');
const PEPS = fixture('opensanctions-peps-sample.csv');

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ worker: false });
});
afterAll(async () => {
  await h?.close();
});

async function entry(source: string, externalId: string): Promise<any> {
  const { rows } = await h.db.query('SELECT * FROM watchlist_entries WHERE source = $1 AND external_id = $2', [source, externalId]);
  return rows[0];
}

async function screen(body: Record<string, unknown>): Promise<any> {
  const res = await api(h, 'POST', '/v1/watchlists/screen', body);
  if (res.status !== 200) throw new Error(`screen: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function postCsv(path: string, csv: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${h.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'text/csv', authorization: `Bearer ${h.apiKey}` }, body: csv });
  return { status: res.status, body: await res.json() };
}

describe('before anything is imported', () => {
  it('a screen is a 409, not an empty (clean-looking) result', async () => {
    const res = await api(h, 'POST', '/v1/watchlists/screen', { name: 'Rustam Karimov' });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('watchlist_not_loaded');
  });
});

describe('importing', () => {
  it('imports the OFAC SDN sample with its ALT and ADD files', async () => {
    const res = await api(h, 'POST', '/v1/watchlists/import', { source: 'ofac_sdn', list: 'sanctions', csv: SDN, altCsv: ALT, addCsv: ADD });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ source: 'ofac_sdn', list: 'sanctions', entries: 22, aliases: 10, skipped: 3, unchanged: false });
    expect(res.body.skippedRows).toEqual([
      { line: 23, reason: 'expected 12 columns, found 3' },
      { line: 24, reason: 'ent_num 9001 appears twice' },
      { line: 6, reason: 'ALT: no SDN entry 9999' },
    ]);

    expect(await entry('ofac_sdn', '9002')).toMatchObject({
      list: 'sanctions',
      entity_type: 'individual',
      primary_name: 'AL-MASRI, Khalid Abd al-Rahman',
      // ABU-'ISA is in ALT.CSV (strong) as well as in Remarks (weak): it counts once, as strong.
      aliases: ['AL MASRI, Khalid', "ABU-'ISA"],
      weak_aliases: ['THE BANKER'],
      birth_dates: ['1971', '1972'],
      countries: ['EG'],
      programs: ['SDGT'],
    });
    expect(await entry('ofac_sdn', '9007')).toMatchObject({ birth_dates: ['1969', '1970'], countries: ['LB'], programs: ['SDGT', 'IRGC'] });
    expect(await entry('ofac_sdn', '9005')).toMatchObject({ birth_dates: ['~1960'], countries: ['RS'] });
    expect(await entry('ofac_sdn', '9006')).toMatchObject({ birth_dates: ['1958', '1959', '1960'], countries: ['KP'] });
    expect(await entry('ofac_sdn', '9004')).toMatchObject({ birth_dates: ['1980-10'], countries: ['MX'] });
    expect(await entry('ofac_sdn', '9010')).toMatchObject({ entity_type: 'vessel', countries: ['PA'] });
    expect(await entry('ofac_sdn', '9011')).toMatchObject({ entity_type: 'aircraft' });
    // ADD.CSV contributes the countries of addresses.
    expect(await entry('ofac_sdn', '9009')).toMatchObject({ entity_type: 'entity', countries: ['AE'] });
    expect(await entry('ofac_sdn', '9003')).toMatchObject({ aliases: ['MÜLLER, Hans Jürgen'], birth_dates: ['1975-02-02'], countries: ['DE'] });
  });

  it('imports the OpenSanctions exports into the sanctions and the PEP list', async () => {
    const sanctions = await api(h, 'POST', '/v1/watchlists/import', { source: 'opensanctions', list: 'sanctions', csv: OPEN_SANCTIONS });
    expect(sanctions.body).toMatchObject({ entries: 9, skipped: 1, skippedRows: [{ line: 10, reason: 'no name' }] });
    expect(await entry('opensanctions', 'os-ru-sidorov')).toMatchObject({
      primary_name: 'Владимир Сидоров',
      aliases: ['Vladimir Sidorov', 'Wladimir Sidorow'],
      birth_dates: ['1961-05-07'],
      countries: ['RU'],
      programs: ['EU Council Decision 2022/0001 - Russia'],
    });
    expect(await entry('opensanctions', 'os-by-kowalczyk')).toMatchObject({ countries: ['BY', 'RU'] });
    expect(await entry('opensanctions', 'os-kp-vessel')).toMatchObject({ entity_type: 'vessel' });
    expect(await entry('opensanctions', 'os-aircraft')).toMatchObject({ entity_type: 'aircraft' });
    // An unreadable date and a code with no alpha-2 equivalent (the Soviet Union) are left out.
    expect(await entry('opensanctions', 'os-soviet')).toMatchObject({ birth_dates: ['1950-01-01'], countries: ['RU'] });

    const peps = await api(h, 'POST', '/v1/watchlists/import', { source: 'opensanctions', list: 'pep', csv: PEPS });
    expect(peps.body).toMatchObject({ list: 'pep', entries: 6, skipped: 0 });

    const listed = await api(h, 'GET', '/v1/watchlists');
    expect(listed.body.lists).toEqual({ sanctions: { entries: 31, sources: ['ofac_sdn', 'opensanctions'] }, pep: { entries: 6, sources: ['opensanctions'] } });
    expect(listed.body.sources.map((s: any) => [s.list, s.source, s.entries])).toEqual([
      ['pep', 'opensanctions', 6],
      ['sanctions', 'ofac_sdn', 22],
      ['sanctions', 'opensanctions', 9],
    ]);
  });

  it('re-importing the same files changes nothing', async () => {
    const before = (await api(h, 'GET', '/v1/watchlists')).body.sources.find((s: any) => s.source === 'ofac_sdn');
    const again = await api(h, 'POST', '/v1/watchlists/import', { source: 'ofac_sdn', list: 'sanctions', csv: SDN, altCsv: ALT, addCsv: ADD });
    expect(again.body).toMatchObject({ entries: 22, unchanged: true, generation: before.generation });
    const { rows } = await h.db.query<{ n: string }>(`SELECT count(*) AS n FROM watchlist_entries WHERE source = 'ofac_sdn'`);
    expect(Number(rows[0].n)).toBe(22);
  });

  it('rejects files that are not in the source format, changing nothing', async () => {
    const notSdn = await api(h, 'POST', '/v1/watchlists/import', { source: 'ofac_sdn', list: 'sanctions', csv: 'name,dob\nJohn,1970\n' });
    expect(notSdn.status).toBe(400);
    expect(notSdn.body.error).toMatchObject({ code: 'invalid_csv', details: [{ path: '/csv' }] });
    expect(notSdn.body.error.message).toMatch(/expected 12 columns/);

    const noHeader = await api(h, 'POST', '/v1/watchlists/import', { source: 'opensanctions', list: 'sanctions', csv: 'a,b,c\n1,2,3\n' });
    expect(noHeader.status).toBe(400);
    expect(noHeader.body.error.message).toMatch(/no id, schema, name columns/);

    const unclosed = await api(h, 'POST', '/v1/watchlists/import', { source: 'ofac_sdn', list: 'sanctions', csv: '1,"AN UNCLOSED QUOTE,-0- \n' });
    expect(unclosed.status).toBe(400);
    expect(unclosed.body.error.message).toMatch(/not valid CSV/);

    const headerOnly = await api(h, 'POST', '/v1/watchlists/import', { source: 'opensanctions', list: 'sanctions', csv: 'id,schema,name\n' });
    expect(headerOnly.status).toBe(400);
    expect(headerOnly.body.error.message).toMatch(/no entries/);

    const badBody = await api(h, 'POST', '/v1/watchlists/import', { source: 'un', list: 'sanctions', csv: SDN });
    expect(badBody.status).toBe(400);
    expect(badBody.body.error.details.map((d: any) => d.path)).toEqual(['/source']);

    const altForOpenSanctions = await api(h, 'POST', '/v1/watchlists/import', { source: 'opensanctions', list: 'sanctions', csv: OPEN_SANCTIONS, altCsv: ALT });
    expect(altForOpenSanctions.status).toBe(400);

    expect((await api(h, 'GET', '/v1/watchlists')).body.lists.sanctions.entries).toBe(31);
  });
});

describe('screening', () => {
  it.each([
    // [case, body, expected entryId, expected score bounds, expected evidence]
    ['exact', { name: 'KARIMOV, Rustam Alievich' }, 'ofac_sdn:9001', [1, 1], []],
    ['reordered, missing patronymic', { name: 'Rustam Karimov' }, 'ofac_sdn:9001', [0.95, 1], []],
    ['birthdate on the list', { name: 'Rustam Karimov', birthdate: '1968-03-14' }, 'ofac_sdn:9001', [1, 1], ['birthdate_match']],
    ['birth year on the list', { name: 'Khalid al-Masri', birthdate: '1972-06-01' }, 'ofac_sdn:9002', [1, 1], ['birth_year_match']],
    ['missing middle names', { name: 'Khalid al Masri' }, 'ofac_sdn:9002', [0.95, 1], []],
    ['umlaut against Mueller', { name: 'Hans Jürgen Müller' }, 'ofac_sdn:9003', [1, 1], []],
    ['Mueller against the umlaut alias', { name: 'Hans Juergen Mueller' }, 'ofac_sdn:9003', [1, 1], []],
    ['typo', { name: 'Petr Novack' }, 'ofac_sdn:9005', [0.9, 0.99], []],
    ['approximate birth year nearby', { name: 'Petr Novak', birthdate: '1961-02-02' }, 'ofac_sdn:9005', [1, 1], ['birth_year_close']],
    ['country matches', { name: 'Hiroshi Tanaka', country: 'JP' }, 'ofac_sdn:9012', [1, 1], ['country_match']],
    ['country by name', { name: 'Hiroshi Tanaka', country: 'Japan' }, 'ofac_sdn:9012', [1, 1], ['country_match']],
    ['another country lowers a little', { name: 'Hiroshi Tanaka', country: 'FR' }, 'ofac_sdn:9012', [0.95, 0.95], ['country_mismatch']],
    ['Cyrillic listed name', { name: 'Vladimir Sidorov' }, 'opensanctions:os-ru-sidorov', [1, 1], []],
    ['Cyrillic alias, German spelling', { name: 'Andrej Kowaltschuk', country: 'BY' }, 'opensanctions:os-by-kowalczyk', [1, 1], ['country_match']],
    ['Chinese listed name', { name: 'Chen Wei' }, 'opensanctions:os-cn-chen', [1, 1], []],
    ['company with legal form', { name: 'Cedar Holdings SAL' }, 'ofac_sdn:9008', [1, 1], []],
    ['vessel', { name: 'Ocean Pearl' }, 'ofac_sdn:9010', [1, 1], []],
  ])('%s', async (_, body, entryId, [min, max], evidence) => {
    const result = await screen(body);
    expect(result.matches[0]).toMatchObject({ entryId, evidence });
    expect(result.matches[0].score).toBeGreaterThanOrEqual(min);
    expect(result.matches[0].score).toBeLessThanOrEqual(max);
  });

  it('reports which name matched: a strong alias, or a weak one at a lower score', async () => {
    const strong = await screen({ name: "Abu 'Isa" });
    expect(strong.matches[0]).toMatchObject({ entryId: 'ofac_sdn:9002', matchedName: "ABU-'ISA", matchedAlias: true, weakAlias: false, score: 1 });
    const weak = await screen({ name: 'The Banker' });
    expect(weak.matches[0]).toMatchObject({ entryId: 'ofac_sdn:9002', name: 'AL-MASRI, Khalid Abd al-Rahman', matchedName: 'THE BANKER', matchedAlias: true, weakAlias: true, score: 0.95 });
  });

  it('a birth year far from every one on the list lowers the score below the threshold', async () => {
    const byName = await screen({ name: 'John Robert Smith' });
    expect(byName.matches[0]).toMatchObject({ entryId: 'ofac_sdn:9019', score: 1 });
    const youngerMan = await screen({ name: 'John Robert Smith', birthdate: '1995-04-04', threshold: 0.5 });
    expect(youngerMan.matches[0]).toMatchObject({ entryId: 'ofac_sdn:9019', nameScore: 1, score: 0.85, evidence: ['birth_year_mismatch'] });
    expect((await screen({ name: 'John Robert Smith', birthdate: '1995-04-04' })).matches).toEqual([]);
  });

  it.each([['Peter Fischer'], ['Maria Garcia'], ['John Smithson Jones'], ['Ocean Breeze'], ['Tanaka']])('no match: %s', async (name) => {
    expect((await screen({ name })).matches).toEqual([]);
  });

  it('the threshold is tunable', async () => {
    expect((await screen({ name: 'Petr Novack', threshold: 0.99 })).matches).toEqual([]);
    expect((await screen({ name: 'Petr Novack', threshold: 0.9 })).matches.map((m: any) => m.entryId)).toEqual(['ofac_sdn:9005']);
  });

  it('screens one list, and may narrow it by source and entity type', async () => {
    const pep = await screen({ name: 'Jose Martinez Nunez', list: 'pep' });
    expect(pep).toMatchObject({ list: 'pep', entriesScreened: 6, matches: [{ entryId: 'opensanctions:pep-es-martinez', score: 1 }] });
    expect((await screen({ name: 'Jose Martinez Nunez' })).matches).toEqual([]);
    expect((await screen({ name: 'Ocean Pearl', entityTypes: ['individual'] })).matches).toEqual([]);
    const onlyOpenSanctions = await screen({ name: 'Rustam Karimov', sources: ['opensanctions'] });
    expect(onlyOpenSanctions).toMatchObject({ entriesScreened: 9, matches: [] });
  });

  it('answers 400 for an unreadable birthdate or country, naming the field', async () => {
    const badDate = await api(h, 'POST', '/v1/watchlists/screen', { name: 'Rustam Karimov', birthdate: '14/03/1968' });
    expect(badDate.status).toBe(400);
    expect(badDate.body.error.details[0].path).toBe('/birthdate');
    const badCountry = await api(h, 'POST', '/v1/watchlists/screen', { name: 'Rustam Karimov', country: 'Atlantis' });
    expect(badCountry.body.error.details[0].path).toBe('/country');
    const noName = await api(h, 'POST', '/v1/watchlists/screen', { threshold: 2 });
    expect(noName.body.error.details.map((d: any) => d.path)).toEqual(['/name', '/threshold']);
  });

  it('a new release replaces the old one whole, and screens follow it at once', async () => {
    const withoutKarimov = SDN.split('\r\n').filter((line) => !line.startsWith('9001,')).join('\r\n');
    const res = await postCsv('/v1/watchlists/import?source=ofac_sdn&list=sanctions', withoutKarimov);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ entries: 21, unchanged: false });
    expect(await entry('ofac_sdn', '9001')).toBeUndefined();
    // Without the ALT file, aliases from it are gone too.
    expect(await entry('ofac_sdn', '9003')).toMatchObject({ aliases: [] });
    expect((await screen({ name: 'Rustam Karimov' })).matches).toEqual([]);
    expect((await screen({ name: 'Hiroshi Tanaka' })).matches[0].entryId).toBe('ofac_sdn:9012');
  });

  it('an index in another process notices an import by the list generation', async () => {
    // A second connection stands for a worker process with an index of its own.
    const other = await connectPostgres({ url: TEST_DATABASE_URL, schema: h.schema, max: 2 });
    try {
      const screener = WatchlistScreener.for(other);
      const before = await screener.screen({ name: 'Hiroshi Tanaka', list: 'sanctions' });
      expect(before.matches.map((m) => m.entryId)).toEqual(['ofac_sdn:9012']);
      await importWatchlist(h.db, { source: 'ofac_sdn', list: 'sanctions', csv: SDN.split('\r\n').filter((line) => !line.startsWith('9012,')).join('\r\n') });
      // Within the recheck interval the other index may still answer from the list it has.
      await new Promise((resolve) => setTimeout(resolve, GENERATION_RECHECK_MS + 50));
      const after = await screener.screen({ name: 'Hiroshi Tanaka', list: 'sanctions' });
      expect(after.generation).not.toBe(before.generation);
      expect(after.matches).toEqual([]);
    } finally {
      await other.close();
    }
  });
});

const REAL_SDN = '/work/shared/data/ofac/sdn.csv';

// The real list is shared data of this machine, not part of the repository: where it is, import all of it.
if (existsSync(REAL_SDN)) {
  describe('the real OFAC SDN list', () => {
    it('imports every entry and finds a listed person by name and birthdate', async () => {
      const csv = readFileSync(REAL_SDN, 'utf8');
      const lines = csv.split('\n').filter((line) => /^\d+,/.test(line));
      // A listed individual from the file itself, with its first date of birth.
      const row = lines.find((line) => line.startsWith('2686,'))!;
      expect(row).toContain('"NASRALLAH, Hasan"');
      // How fast the import and the screen are is measured by `npm run bench`, not here.
      const res = await postCsv('/v1/watchlists/import?source=ofac_sdn&list=sanctions', csv);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ entries: lines.length, skipped: 0 });

      const result = await screen({ name: 'Hassan Nasrallah', birthdate: '1960-08-31', country: 'LB', sources: ['ofac_sdn'] });
      expect(result.entriesScreened).toBe(lines.length);
      expect(result.matches[0]).toMatchObject({ entryId: 'ofac_sdn:2686', name: 'NASRALLAH, Hasan', evidence: ['birthdate_match', 'country_match'], score: 1 });
    });
  });
}
