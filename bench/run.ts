/**
 * `npm run bench`: every benchmark on one machine in one go, against the same
 * dev server and worker; one table printed, and JSON under bench/results/
 * (ignored by git). BENCH_RUNS, BENCH_EVENTS and BENCH_WARMUP set the sizes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { evaluateCodeBench } from './evaluate-code';
import { eventLatency } from './event-latency';
import { screeningBench } from './screening';
import { startStack } from './stack';
import { benchNoop, tenStepRuns } from './ten-step-run';

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 200);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 5);

const ms = (n: number) => n.toFixed(1).padStart(8);

async function main(): Promise<void> {
  console.log(`cores: ${cpus().length}; warm-up: ${WARMUP}; 10-step runs per shape: ${RUNS}; events: ${EVENTS}`);
  const stack = await startStack([benchNoop]);
  try {
    const tenStep = await tenStepRuns(stack, RUNS, WARMUP);
    const events = await eventLatency(stack, EVENTS, WARMUP);
    const code = await evaluateCodeBench();
    const screening = await screeningBench();
    console.log('\nbenchmark                                   n      min   median      p99      max  (ms)');
    for (const [name, r] of Object.entries(tenStep)) {
      console.log(`10-step run, ${name.padEnd(18)} ${String(r.runs).padStart(9)} ${ms(r.min)} ${ms(r.median)} ${ms(r.p99)} ${ms(r.max)}   history events: ${r.historyEvents}`);
    }
    console.log(`POST /v1/events -> waiting run's next step ${String(events.runs).padStart(5)} ${ms(events.min)} ${ms(events.median)} ${ms(events.p99)} ${ms(events.max)}   sequential: ${events.eventsPerSecondSequential.toFixed(1)} events/s`);
    console.log(`evaluate_code per call (QuickJS)         ${String(code.calls).padStart(7)}        - ${ms(code.warmMedianMs)} ${ms(code.warmP99Ms)}        -   cold: ${code.coldMs.toFixed(1)} ms; node vm (fresh context) median ${code.vmMedianMs.toFixed(3)} ms`);
    console.log(`watchlist screen, ${String(screening.listSize).padStart(6)} ${screening.data.padEnd(12)} ${String(screening.screens).padStart(9)}        - ${ms(screening.medianMs)} ${ms(screening.p99Ms)} ${ms(screening.maxMs)}   first screen (index build): ${screening.firstScreenMs} ms`);
    const out = join(__dirname, 'results');
    mkdirSync(out, { recursive: true });
    const file = join(out, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify({ cores: cpus().length, warmup: WARMUP, tenStep, events, evaluateCode: code, screening }, null, 2));
    console.log(`\nwritten to ${file}`);
  } finally {
    await stack.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
