/**
 * Screening without a database: name normalisation and transliteration,
 * the OFAC remark and date readers, country names, and the matching
 * quality table (through the in-memory index, as screens use it), each as
 * a table of inputs and expected results.
 */
import { compareBirthdates, countryCode, NameIndex, NameNormaliser, nameSimilarity, parseIsoPartialDate, parseOfacDob, readRemarks, tokenSimilarity, type WatchlistEntry } from '../src/screening';

let names: NameNormaliser;
beforeAll(async () => {
  names = await NameNormaliser.load();
});

describe('normalisation', () => {
  it.each([
    ['NASRALLAH, Hasan', [['nasrallah', 'hasan']]],
    ['AL ZAWAHIRI, Dr. Ayman', [['al', 'zawahiri', 'ayman']]],
    ["Shaykh Umar Abd AL RAHMAN", [['umar', 'abd', 'al', 'rahman']]],
    ["ABU-'UMAR", [['abu', 'umar']]],
    ["ISLAMIC GAMA'AT", [['islamic', 'gamaat']]],
    ['ANGLO-CARIBBEAN CO., LTD.', [['anglo', 'caribbean']]],
    ['Mr. José  Martínez-Núñez Jr.', [['jose', 'martinez', 'nunez']]],
    ['Владимир Путин', [['vladimir', 'putin']]],
    ['陈伟', [['chenwei']]],
    ['Ａｈｍｅｄ', [['ahmed']]],
    // Both spellings of an umlaut are kept: Müller is also written Mueller.
    ['Hans Müller', [['hans', 'muller'], ['hans', 'mueller']]],
    ['Straße', [['strasse']]],
    // A title alone is kept rather than leaving nothing.
    ['Doctor', [['doctor']]],
    ['Dr.', [['dr']]],
    ['CEDAR HOLDINGS S.A.L.', [['cedar', 'holdings']]],
    ["a.k.a. DOCTOR M.R.O.", [['aka', 'doctor', 'mro']]],
    ['!!!', []],
  ])('%s', (raw, expected) => {
    expect(names.variants(raw)).toEqual(expected);
  });
});

describe('token similarity', () => {
  it.each([
    ['nasrallah', 'nasrallah', 1, 1],
    ['nasralah', 'nasrallah', 0.95, 1],
    ['mohammed', 'muhammad', 0.84, 0.9],
    ['j', 'john', 0.8, 0.8],
    ['ali', 'aliaf', 0, 0.83],
    ['zafar1', 'zafar2', 0, 0],
    ['smith', 'jones', 0, 0.5],
  ])('%s ~ %s', (a, b, min, max) => {
    const sim = tokenSimilarity(a, b);
    expect(sim).toBeGreaterThanOrEqual(min);
    expect(sim).toBeLessThanOrEqual(max);
    expect(tokenSimilarity(b, a)).toBeCloseTo(sim, 10);
  });

  it('scores the same names in any token order alike', () => {
    expect(nameSimilarity(['hasan', 'nasrallah'], ['nasrallah', 'hasan'])).toBe(1);
    expect(nameSimilarity(['a', 'b', 'cde'], ['cde', 'a', 'b'])).toBe(1);
  });
});

describe('OFAC remarks and dates', () => {
  it.each([
    ['10 Dec 1948', ['1948-12-10']],
    ['1946', ['1946']],
    ['Dec 1948', ['1948-12']],
    ['circa 1955', ['~1955']],
    ['1960 to 1962', ['1960', '1961', '1962']],
    ['01 Jan 1960 to 31 Dec 1961', ['1960', '1961']],
    ['circa 1955-1957', ['~1955', '~1956', '~1957']],
    ['31 Feb 1960', []],
    ['1900 to 1990', []],
    ['unknown', []],
  ])('DOB %s', (text, expected) => {
    expect(parseOfacDob(text)).toEqual(expected);
  });

  it('reads dates of birth, countries and weak aliases out of Remarks', () => {
    const facts = readRemarks(
      "DOB 31 Aug 1960; alt. DOB 1953; POB Najf Al Ashraf (Najaf), Iraq; nationality Korea, North; citizen Burma; Passport 042833 (Lebanon); a.k.a. 'ABU-'UMAR'; a.k.a. ''THE CHESS PLAYER''; a.k.a. ''ABD-AL-'IZ'.",
    );
    expect(facts).toEqual({ aliases: ["ABU-'UMAR", 'THE CHESS PLAYER', "'ABD-AL-'IZ"], birthDates: ['1960-08-31', '1953'], countries: ['IQ', 'KP', 'MM'] });
  });

  it.each([
    ['1952-10-07', '1952-10-07'],
    ['1952-10', '1952-10'],
    ['1952', '1952'],
    ['1952-10-07T00:00:00', '1952-10-07'],
    ['1952-13', undefined],
    ['07.10.1952', undefined],
  ])('ISO partial date %s', (text, expected) => {
    expect(parseIsoPartialDate(text)).toBe(expected);
  });

  it.each([
    ['1960-08-31', ['1960-08-31', '1953'], 'birthdate_match'],
    ['1960-01-01', ['1960-08-31'], 'birth_year_match'],
    ['1960', ['1960-08-31'], 'birth_year_match'],
    ['1961-05-05', ['1960-08-31'], 'birth_year_close'],
    ['1957-05-05', ['~1955'], 'birth_year_close'],
    ['1990-05-05', ['1960-08-31', '1953'], 'birth_year_mismatch'],
    ['1990-05-05', [], undefined],
  ])('birthdate %s against %j', (subject, entry, expected) => {
    expect(compareBirthdates(subject, entry)).toBe(expected);
  });
});

describe('countries', () => {
  it.each([
    ['Korea, North', 'KP'],
    ['North Korea', 'KP'],
    ['Burma', 'MM'],
    ['Congo, Democratic Republic of the', 'CD'],
    ['Russia', 'RU'],
    ['Iran', 'IR'],
    ['Turkey', 'TR'],
    ['Türkiye', 'TR'],
    ['Saint Kitts and Nevis', 'KN'],
    ['Bosnia and Herzegovina', 'BA'],
    ['The Gambia', 'GM'],
    ['Palestinian', 'PS'],
    ['de', 'DE'],
    ['GB', 'GB'],
    ['UK', 'GB'],
    ['Atlantis', undefined],
    ['ZZ', undefined],
  ])('%s -> %s', (name, code) => {
    expect(countryCode(name)).toBe(code);
  });
});

describe('matching quality (through the index)', () => {
  const entry = (externalId: string, primaryName: string, extra: Partial<WatchlistEntry> = {}): WatchlistEntry => ({
    source: 'ofac_sdn',
    list: 'sanctions',
    externalId,
    entityType: 'individual',
    primaryName,
    aliases: [],
    weakAliases: [],
    birthDates: [],
    countries: [],
    programs: [],
    remarks: null,
    ...extra,
  });
  const entries = [
    entry('1', 'NASRALLAH, Hasan'),
    entry('2', 'AL ZAWAHIRI, Dr. Ayman'),
    entry('3', 'RODRIGUEZ OREJUELA, Miguel Angel', { weakAliases: ['EL SENOR'] }),
    entry('4', 'MUELLER, Hans'),
    entry('5', 'Владимир Сидоров'),
    entry('6', 'QADHAFI, Muammar'),
    entry('7', 'SMITH, John Robert'),
    entry('8', 'BANCO NACIONAL DE CUBA', { entityType: 'entity', aliases: ['BNC'] }),
    entry('9', 'BIN LADIN, Usama', { aliases: ['BIN LADEN, Osama'] }),
    entry('10', '陈伟'),
  ];
  let index: NameIndex;
  beforeAll(() => {
    index = NameIndex.build(entries, names);
  });
  const best = (query: string) => {
    const hits = index.search({ variants: names.variants(query), minScore: 0.5 });
    return hits[0] ? { id: hits[0].entry.externalId, score: hits[0].nameScore } : undefined;
  };

  it.each([
    // [query, expected entry, lowest score, highest score]
    ['exact', 'Hasan Nasrallah', '1', 1, 1],
    ['list order', 'NASRALLAH, Hasan', '1', 1, 1],
    ['reordered tokens', 'Ayman al-Zawahiri', '2', 1, 1],
    ['run together', 'Ayman Alzawahiri', '2', 1, 1],
    ['particle missing', 'Ayman Zawahiri', '2', 0.95, 1],
    ['missing middle name', 'Miguel Rodriguez Orejuela', '3', 0.9, 0.99],
    ['missing second surname', 'Miguel Angel Rodriguez', '3', 0.9, 0.99],
    ['umlaut against its German spelling', 'Hans Müller', '4', 1, 1],
    ['umlaut-less spelling', 'Hans Muller', '4', 0.92, 0.99],
    ['Cyrillic on the list', 'Vladimir Sidorov', '5', 1, 1],
    ['Cyrillic query', 'Владимир Сидоров', '5', 1, 1],
    ['Chinese on the list', 'Chen Wei', '10', 1, 1],
    ['one-letter typo', 'Hasan Nasralah', '1', 0.95, 0.999],
    ['transposition', 'Hasan Nasrlalah', '1', 0.9, 0.999],
    ['other transliteration', 'Muammar Gaddafi', '6', 0.88, 0.97],
    ['initial', 'J. Robert Smith', '7', 0.88, 0.99],
    ['alias', 'Osama bin Laden', '9', 1, 1],
    ['weak alias counts less', 'El Senor', '3', 0.95, 0.95],
    ['entity with legal form dropped', 'Banco Nacional de Cuba S.A.', '8', 1, 1],
  ])('%s: %s', (_, query, id, min, max) => {
    const hit = best(query);
    expect(hit?.id).toBe(id);
    expect(hit!.score).toBeGreaterThanOrEqual(min);
    expect(hit!.score).toBeLessThanOrEqual(max);
  });

  it.each([
    ['different first name', 'Jane Smith'],
    ['surname alone against a full name', 'Zawahiri'],
    ['a shared first name only', 'Hasan Karimov'],
    ['unrelated', 'Peter Fischer'],
    ['prefix of a longer token', 'Han Muel'],
  ])('no match at the default threshold: %s (%s)', (_, query) => {
    const hit = best(query);
    expect(hit === undefined || hit.score < 0.88).toBe(true);
  });

  it('orders by score and keeps one hit per entry (its best name)', () => {
    const hits = index.search({ variants: names.variants('Usama bin Ladin'), minScore: 0.5 });
    expect(hits.filter((h) => h.entry.externalId === '9')).toHaveLength(1);
    expect(hits[0]).toMatchObject({ matchedName: 'BIN LADIN, Usama', isPrimary: true, nameScore: 1 });
  });

  it('filters by source and entity type', () => {
    expect(index.search({ variants: names.variants('Banco Nacional de Cuba'), minScore: 0.88, entityTypes: ['individual'] })).toEqual([]);
    expect(index.search({ variants: names.variants('Hasan Nasrallah'), minScore: 0.88, sources: ['opensanctions'] })).toEqual([]);
  });
});
