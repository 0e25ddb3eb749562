/**
 * `npm run bench`: every benchmark on one machine in one go, against one
 * Temporal dev server and one service process with the same worker options;
 * one table printed, and JSON under bench/results/ (ignored by git).
 *
 *   npm run bench                       everything (about 10-15 minutes)
 *   npm run bench -- --quick            smaller sizes, to check it works (about 3 minutes)
 *   npm run bench -- overhead events    only these sections (overhead, api, events, code, long, cached, screening)
 *   npm run bench -- --shapes=sequential,wait       only these shapes in the overhead section
 *   npm run bench -- --worker-options='{"maxCachedWorkflows":500}'   extra worker options for the service
 *   npm run bench -- pollers            compare worker poller settings (not part of the default run)
 *   npm run bench -- --server-config=history.transferProcessorMaxPollRPS=20     dev server dynamic config over temporal/dev-server.ts defaults (20 = the server default, the "before")
 *
 * BENCH_TEMPORAL_ADDRESS uses a running Temporal server instead of starting a dev server.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import type { WorkerOptions } from '@temporalio/worker';
import { apiTriggerSection } from './api-trigger';
import { cachedRunsSection } from './cached-runs';
import { evaluateCodeBench } from './evaluate-code';
import { eventPacedSection, eventTriggerSection, eventWakeSection } from './event-path';
import { longRunSection } from './long-run';
import { overheadSection } from './overhead';
import { pollerSection } from './pollers';
import { screeningBench } from './screening';
import { SHAPES } from './shapes';
import { startStack, type Stack } from './stack';
import { Table } from './table';

const SECTIONS = ['overhead', 'api', 'events', 'code', 'long', 'cached', 'screening'] as const;
const OPT_IN = ['pollers'] as const;
type Section = (typeof SECTIONS)[number] | (typeof OPT_IN)[number];

interface Args {
  quick: boolean;
  sections: Section[];
  shapes: string[];
  workerOptions: Partial<WorkerOptions>;
  serverConfig: Record<string, unknown>;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, sections: [], shapes: Object.keys(SHAPES), workerOptions: {}, serverConfig: {} };
  for (const arg of argv) {
    const [flag, value] = arg.split(/=(.*)/s);
    if (flag === '--quick') args.quick = true;
    else if (flag === '--shapes') args.shapes = value.split(',').filter(Boolean);
    else if (flag === '--worker-options') args.workerOptions = JSON.parse(value) as Partial<WorkerOptions>;
    else if (flag === '--server-config') {
      for (const pair of value.split(',').filter(Boolean)) {
        const [key, raw] = pair.split('=');
        args.serverConfig[key] = JSON.parse(raw);
      }
    } else if (flag === '--only') args.sections.push(...(value.split(',') as Section[]));
    else if (!flag.startsWith('-')) args.sections.push(flag as Section);
    else throw new Error(`unknown option ${arg}`);
  }
  for (const s of args.sections) if (![...SECTIONS, ...OPT_IN].includes(s)) throw new Error(`unknown section ${s}; sections: ${[...SECTIONS, ...OPT_IN].join(', ')}`);
  for (const s of args.shapes) if (!SHAPES[s]) throw new Error(`unknown shape ${s}; shapes: ${Object.keys(SHAPES).join(', ')}`);
  if (args.sections.length === 0) args.sections = [...SECTIONS];
  return args;
}

function sizes(quick: boolean) {
  return quick
    ? {
        overhead: { warmup: 2, latencyRuns: 5, saturationRuns: 40, concurrency: 20, reps: 2 },
        api: { starts: 100, concurrency: 10, reps: 2, warmup: 5 },
        events: { sequential: 20, sustained: 100, concurrency: 8, reps: 2, warmup: 3 },
        paced: { rate: 50, events: 250, waiting: 100 },
        code: 200,
        long: { steps: 600, continueAsNewAfterEvents: 500 },
        cached: { runs: 200, reps: 1 },
      }
    : {
        overhead: { warmup: 5, latencyRuns: 25, saturationRuns: 150, concurrency: 50, reps: 3 },
        api: { starts: 500, concurrency: 20, reps: 3, warmup: 20 },
        events: { sequential: 100, sustained: 1000, concurrency: 16, reps: 4, warmup: 10 },
        paced: { rate: 50, events: 1000, waiting: 100 },
        code: 2000,
        long: { steps: 5000 },
        cached: { runs: 1000, reps: 3 },
      };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const size = sizes(args.quick);
  const machine = { cores: cpus().length, cpu: cpus()[0]?.model, memoryGb: Math.round(totalmem() / 2 ** 30), loadAverage: loadavg(), node: process.version };
  console.log(`cores: ${machine.cores} (${machine.cpu}); load average ${machine.loadAverage.map((l) => l.toFixed(2)).join(' ')}; ${args.quick ? 'quick' : 'full'} run; sections: ${args.sections.join(', ')}`);
  const log = (line: string) => console.log(line);
  const results: Record<string, unknown> = {};
  const table = new Table();
  const needsStack = args.sections.some((s) => s !== 'code' && s !== 'screening');
  let stack: Stack | undefined;
  const started = performance.now();
  try {
    if (needsStack) {
      stack = await startStack(args.workerOptions, args.serverConfig);
      console.log(`dev server dynamic config ${JSON.stringify(args.serverConfig)}; service: worker options ${JSON.stringify(args.workerOptions)}, maxCachedWorkflows ${stack.service.maxCachedWorkflows}`);
    }
    for (const section of args.sections) {
      const t0 = performance.now();
      console.log(`\n== ${section}`);
      switch (section) {
        case 'overhead': {
          const r = await overheadSection(stack!, { shapes: args.shapes, ...size.overhead }, log);
          results.overhead = { options: size.overhead, shapes: r };
          table.overhead(r, size.overhead);
          break;
        }
        case 'api': {
          const r = await apiTriggerSection(stack!, size.api);
          results.apiTrigger = r;
          table.apiTrigger(r);
          break;
        }
        case 'events': {
          const triggered = await eventTriggerSection(stack!, size.events);
          const woken = await eventWakeSection(stack!, size.events);
          const paced = await eventPacedSection(stack!, size.paced);
          results.events = { options: size.events, triggered, woken, paced };
          table.events(triggered, woken, size.events);
          table.eventsPaced(paced);
          break;
        }
        case 'code': {
          const r = await evaluateCodeBench(size.code);
          results.evaluateCode = r;
          table.evaluateCode(r);
          break;
        }
        case 'long': {
          const r = await longRunSection(stack!, size.long);
          results.longRun = r;
          table.longRun(r);
          break;
        }
        case 'cached': {
          const r = await cachedRunsSection(stack!, size.cached);
          results.cachedRuns = r;
          table.cachedRuns(r);
          break;
        }
        case 'screening': {
          const r = await screeningBench();
          results.screening = r;
          table.screening(r);
          break;
        }
        case 'pollers': {
          const r = await pollerSection(stack!, { shapes: args.shapes, ...size.overhead }, log);
          results.pollers = r;
          table.pollers(r);
          break;
        }
      }
      console.log(`   (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    }
  } finally {
    await stack?.close();
  }
  console.log(`\n${table.render()}`);
  const out = join(__dirname, 'results');
  mkdirSync(out, { recursive: true });
  const file = join(out, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ machine, quick: args.quick, workerOptions: args.workerOptions, serverConfig: args.serverConfig, seconds: (performance.now() - started) / 1000, ...results }, null, 2));
  console.log(`\nwritten to ${file} (${((performance.now() - started) / 1000).toFixed(0)} s in all)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
