/**
 * Faults under load, the short form of `npm run chaos`: 60 runs (API- and
 * event-triggered; a case, a ticket on a loopback desk that deduplicates by
 * Idempotency-Key, an email over SMTP, waits for events, parallel branches)
 * while the worker process is killed with SIGKILL, the API restarted, the
 * Temporal dev server restarted on its SQLite file and PostgreSQL stopped
 * for 6 s. Its own PostgreSQL cluster and dev server: the shared ones
 * other test files use are never touched.
 *
 * Then: every run completed once, no step ran twice, every posted event was
 * stored and reached its run, one case, one ticket and one email (one
 * Message-ID) per run.
 */
import { formatReport, runChaos, type ChaosReport } from './support/chaos/chaos';

const RUNS = 60;
let report: ChaosReport;
const lines: string[] = [];

beforeAll(async () => {
  const bundlePath = process.env.TEST_WORKFLOW_BUNDLE;
  if (!bundlePath) throw new Error('run through jest: global setup bundles the workflow code');
  try {
    report = await runChaos({ runs: RUNS, pgOutageMs: 6_000, faultGapMs: 4_000, bundlePath, settleTimeoutMs: 150_000, log: (line) => lines.push(line) });
  } catch (err) {
    // The log says how far it got.
    process.stderr.write(`chaos log:\n${lines.slice(-60).join('\n')}\n`);
    throw err;
  }
  process.stdout.write(`\nchaos, ${RUNS} runs:\n${formatReport(report)}\n`);
}, 300_000);

const reviews = RUNS - Math.floor(RUNS / 5);

it('injected every fault while runs were in flight', () => {
  expect(report.faults.map((f) => f.fault)).toEqual([
    'worker killed (SIGKILL), new worker started',
    'API restarted (server, router, webhook dispatcher, pool)',
    'Temporal dev server restarted on its SQLite file',
    'PostgreSQL stopped for 6 s',
  ]);
  for (const f of report.faults) expect(f.runsInFlight).toBeGreaterThan(0);
});

it('completes every run, once, with no step run twice', () => {
  expect(report.problems).toEqual([]);
  expect(report.runs).toMatchObject({ started: RUNS, completed: RUNS, failed: 0, lost: 0, duplicated: 0, stepsRunTwice: 0 });
});

it('loses no event: every posted event is stored and reached its run', () => {
  // A trigger event per event-started run, a decision per run.
  expect(report.events).toMatchObject({ posted: RUNS + (RUNS - reviews), lost: 0, notDelivered: 0 });
  expect(report.events.stored).toBe(report.events.posted);
  expect(report.events.delivered).toBe(report.events.posted);
});

it('makes one case, one ticket and one email per run where the target deduplicates', () => {
  expect(report.sideEffects).toMatchObject({ cases: reviews, duplicateCases: 0, tickets: RUNS, duplicateTickets: 0, emailsDistinct: reviews, duplicateEmails: 0 });
});
