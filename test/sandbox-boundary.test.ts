/**
 * The line DESIGN.md draws: src/interpreter and src/workflows (and the
 * schedule workflows in src/schedules/workflows.ts) are
 * deterministic, sandbox-safe code. They import no Node built-ins, no I/O
 * libraries, and no activity, API, store or worker code; and they read no
 * clock or randomness except through Temporal's deterministic versions.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import * as ts from 'typescript';

const root = join(__dirname, '..');
const guarded = ['src/interpreter', 'src/workflows'];
/** Workflow code that lives beside the feature it serves (schedules) and its contract. */
const guardedFiles = ['src/schedules/workflows.ts', 'src/schedules/contract.ts'];
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const forbiddenPackages = ['pg', '@electric-sql/pglite', 'express', '@temporalio/activity', '@temporalio/worker', '@temporalio/client', '@temporalio/testing'];
const forbiddenLocal = /(^|\/)(activities|api|store|runs|worker|main|config)(\/|$)/;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const sources = [...guarded.flatMap((d) => files(join(root, d))), ...guardedFiles.map((f) => join(root, f))];

it('finds the guarded sources', () => {
  expect(sources.length).toBeGreaterThan(10);
});

describe.each(sources.map((f) => [relative(root, f), f]))('%s', (_name, file) => {
  const text = readFileSync(file, 'utf8');
  const imports = ts.preProcessFile(text, true, true).importedFiles.map((i) => i.fileName);

  it('imports nothing outside the sandbox', () => {
    const bad = imports.filter(
      (spec) => builtins.has(spec) || forbiddenPackages.includes(spec) || (spec.startsWith('.') && forbiddenLocal.test(spec.replace(/^(\.\.?\/)+/, ''))),
    );
    expect(bad).toEqual([]);
  });

  it('reads no wall clock or randomness directly', () => {
    const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    // Date.now() and new Date() are deterministic inside the workflow sandbox, but
    // the interpreter is pure: it takes time as an argument.
    const forbidden = file.includes('/interpreter/') ? [/Math\.random\(/, /Date\.now\(/, /new Date\(\)/, /performance\.now\(/, /setTimeout\(/] : [/Math\.random\(/, /performance\.now\(/, /setTimeout\(/, /setInterval\(/];
    expect(forbidden.filter((re) => re.test(code)).map(String)).toEqual([]);
  });
});
