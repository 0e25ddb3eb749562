/**
 * `npm run temporal:install`: obtains the Temporal CLI ahead of time (so the first test run or
 * `npm start` doesn't stall on a download or Go build) and reports which binary will be used.
 */
import { execFileSync } from 'node:child_process';
import { ensureTemporalCli } from './cli';

async function main(): Promise<void> {
  const cliPath = await ensureTemporalCli({ log: (line) => console.log(line) });
  console.log(`Temporal CLI: ${cliPath}`);
  console.log(execFileSync(cliPath, ['--version'], { encoding: 'utf8' }).trim());
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
