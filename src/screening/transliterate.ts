/**
 * Transliteration of any script to ASCII (any-ascii), so "Владимир Путин",
 * "Müller" and "習近平" compare with the Latin spellings lists publish.
 *
 * German umlauts have two accepted Latin spellings (ü -> u and ü -> ue;
 * "Müller" is also written "Mueller"), so a name holding one is compared
 * under both; any-ascii alone gives only the first.
 */
import { pathToFileURL } from 'node:url';

export type Transliterate = (text: string) => string;

let loading: Promise<Transliterate> | undefined;

/*
 * any-ascii ships as an ES module only. Compiled to CommonJS (as the test
 * runner compiles this project), a plain `import()` becomes `require()`,
 * which cannot load it there; an import expression created at run time
 * stays a real dynamic import under tsx, node and jest alike. Its source is
 * made unique because V8 caches compiled functions by source, and a cached
 * one would import on behalf of whichever context compiled it first (under
 * jest, a test file already torn down). The path is resolved first so it
 * does not depend on the working directory.
 */
let imports = 0;
function dynamicImport(specifier: string): Promise<{ default: Transliterate }> {
  const load = new Function('specifier', `return import(specifier); // ${++imports}:${Date.now()}`) as (specifier: string) => Promise<{ default: Transliterate }>;
  return load(specifier);
}

/** any-ascii's transliteration, loaded once (per module instance: once per process outside tests). */
export function loadTransliteration(): Promise<Transliterate> {
  loading ??= dynamicImport(pathToFileURL(require.resolve('any-ascii')).href).then((module) => module.default);
  return loading;
}

const GERMAN: Record<string, string> = { ä: 'ae', ö: 'oe', ü: 'ue', Ä: 'Ae', Ö: 'Oe', Ü: 'Ue', ß: 'ss', ẞ: 'SS' };
const HAS_GERMAN = /[äöüÄÖÜßẞ]/;

/** The German spelling of umlauts, or undefined when the text has none. */
export function germanSpelling(text: string): string | undefined {
  return HAS_GERMAN.test(text) ? text.replace(/[äöüÄÖÜßẞ]/g, (c) => GERMAN[c]) : undefined;
}
