/**
 * `npm run chaos`: faults under load (see test/support/chaos/chaos.ts).
 * 500 runs in flight while the worker is killed, the API restarted, the
 * Temporal dev server restarted and PostgreSQL stopped for 20 seconds; then
 * a table of the counts, and JSON under bench/results/chaos-*.json.
 * Exits 1 when anything was lost or done twice.
 *
 *   npm run chaos
 *   npm run chaos -- --runs=200 --pg-outage=10s --gap=8s
 *   npm run chaos -- --verbose          every log line (router and webhook retries, restarts)
 *
 * Needs the PostgreSQL server binaries (initdb, pg_ctl; Debian's
 * /usr/lib/postgresql/<version>/bin, or PG_BIN) to run a cluster of its own;
 * the server at DATABASE_URL is not touched.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ms from 'ms';
import { bundleWorkflows } from '../src/worker/bundle';
import { formatReport, runChaos } from '../test/support/chaos/chaos';

function parseArgs(argv: string[]): { runs: number; pgOutageMs: number; faultGapMs: number; verbose: boolean } {
  const args = { runs: 500, pgOutageMs: 20_000, faultGapMs: 12_000, verbose: false };
  const duration = (flag: string, value: string): number => {
    const parsed = ms(value as ms.StringValue);
    if (typeof parsed !== 'number' || !(parsed > 0)) throw new Error(`${flag}: not a duration: ${value}`);
    return parsed;
  };
  for (const arg of argv) {
    const [flag, value = ''] = arg.split(/=(.*)/s);
    if (flag === '--runs') {
      args.runs = Number(value);
      if (!Number.isInteger(args.runs) || args.runs < 1) throw new Error(`--runs: a whole number, got ${value}`);
    } else if (flag === '--pg-outage') args.pgOutageMs = duration(flag, value);
    else if (flag === '--gap') args.faultGapMs = duration(flag, value);
    else if (flag === '--verbose') args.verbose = true;
    else throw new Error(`unknown option ${arg} (options: --runs=N --pg-outage=20s --gap=12s --verbose)`);
  }
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const log = (line: string) => {
    const quiet = line.startsWith('[api]') || line.startsWith('[worker]');
    if (args.verbose || !quiet) console.log(`[chaos +${((Date.now() - started) / 1000).toFixed(1)}s] ${line}`);
  };
  log(`bundling workflow code; ${args.runs} runs, PostgreSQL down for ${args.pgOutageMs / 1000} s, ${args.faultGapMs / 1000} s between faults`);
  const bundlePath = join(tmpdir(), `idw-chaos-bundle-${process.pid}.js`);
  writeFileSync(bundlePath, (await bundleWorkflows()).code);
  try {
    const report = await runChaos({ runs: args.runs, pgOutageMs: args.pgOutageMs, faultGapMs: args.faultGapMs, bundlePath, log });
    console.log(`\n${formatReport(report)}\n`);
    const dir = join(__dirname, '..', 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `chaos-${report.startedAt.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify(report, null, 2));
    console.log(`written to ${file}`);
    if (report.problems.length > 0) {
      console.log(`\n${report.problems.length} problems:\n${report.problems.slice(0, 50).join('\n')}`);
      process.exitCode = 1;
    }
  } finally {
    rmSync(bundlePath, { force: true });
  }
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
