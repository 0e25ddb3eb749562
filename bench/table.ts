/** The one table `npm run bench` prints: a row per figure, a value, its baseline where there is one, and their ratio. */
import type { ApiTriggerResult } from './api-trigger';
import type { CachedRunsResult } from './cached-runs';
import type { EvaluateCodeBench } from './evaluate-code';
import type { EventPathOptions, EventPathResult, PacedResult } from './event-path';
import type { LongRunResult } from './long-run';
import type { OverheadOptions, ShapeResult } from './overhead';
import type { PollerResult } from './pollers';
import type { ScreeningBenchResult } from './screening';
import type { Distribution, Spread } from './stats';

const num = (n: number, digits = 1) => (Number.isFinite(n) ? (Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(digits)) : '-');
/** median [min-max] of repetitions. */
const sp = (s: Spread, digits = 1) => `${num(s.median, digits)} [${num(s.min, digits)}-${num(s.max, digits)}]`;
/** median / p99 of samples. */
const mp = (d: Distribution, digits = 1) => `${num(d.median, digits)} / ${num(d.p99, digits)}`;

export class Table {
  private readonly rows: [string, string, string, string][] = [];
  private readonly notes: string[] = [];

  private heading(text: string): void {
    this.rows.push([text, '', '', '']);
  }

  private row(figure: string, value: string, baseline = '', ratio = ''): void {
    this.rows.push([`  ${figure}`, value, baseline, ratio]);
  }

  overhead(shapes: ShapeResult[], o: Omit<OverheadOptions, 'shapes'>): void {
    this.notes.push(
      `interpreter vs hand-written: value = interpreter, baseline = hand-written Temporal workflow; runs/s with ${o.concurrency} runs in flight, ${o.saturationRuns} runs x ${o.reps} reps; latency over ${o.latencyRuns} runs one at a time; ${o.warmup} warm-up runs each excluded`,
    );
    for (const s of shapes) {
      this.heading(`1. ${s.name} (${s.steps} steps)`);
      this.row('runs/s at saturation, median [min-max]', sp(s.interpreter.runsPerSecond), sp(s.handWritten.runsPerSecond), num(s.ratio.runsPerSecond, 2));
      this.row('latency of one run, median / p99 ms', mp(s.interpreter.latencyMs, 0), mp(s.handWritten.latencyMs, 0), num(s.ratio.latencyMedian, 2));
      this.row('worker CPU per step, ms', sp(s.interpreter.cpuMsPerStep, 2), sp(s.handWritten.cpuMsPerStep, 2), num(s.ratio.cpuPerStep, 2));
      this.row('history events per run', String(s.interpreter.historyEvents), String(s.handWritten.historyEvents), num(s.ratio.historyEvents, 2));
    }
  }

  apiTrigger(r: ApiTriggerResult): void {
    this.heading(`2. API trigger: runs started/s, ${r.concurrency} requests in flight, ${r.starts} x ${r.api.reps} reps`);
    this.row('POST /v1/workflows/:id/runs (schema check) vs Temporal client', sp(r.api), sp(r.client), num(r.ratio, 2));
  }

  events(triggered: EventPathResult, woken: EventPathResult, o: EventPathOptions): void {
    this.heading(`3. Event path: POST /v1/events to the step, ms (median / p99)`);
    for (const [name, r] of [
      ['(a) to an event-triggered run\'s first step', triggered],
      ['(b) to a waiting run\'s next step', woken],
    ] as const) {
      this.row(`${name}, one at a time (n=${r.sequentialMs.n})`, mp(r.sequentialMs, 0));
      this.row(`${name}, sustained, ${o.concurrency} in flight (n=${r.sustainedMs.n})`, mp(r.sustainedMs, 0));
      this.row(`${name}, sustained events/s`, sp(r.eventsPerSecond));
    }
  }

  eventsPaced(r: PacedResult): void {
    const o = r.options;
    this.heading(`3c. ${o.rate} events/s open-loop (${num(r.postedPerSecond, 1)} achieved), ${o.events} events, at least ${o.waiting} runs waiting, ms (median / p99)`);
    this.row(`POST /v1/events -> waiting run's next step (n=${r.wakeMs.n})`, mp(r.wakeMs, 0));
    this.row(`router: event stored -> signals answered (n=${r.routerMs.n})`, mp(r.routerMs, 0));
  }

  evaluateCode(r: EvaluateCodeBench): void {
    this.heading(`4. Evaluate Code, ms per call (${r.calls} calls); baseline: node vm, fresh context`);
    this.row('QuickJS warm, median / p99', `${num(r.warmMedianMs, 3)} / ${num(r.warmP99Ms, 3)}`, num(r.vmMedianMs, 3), num(r.warmMedianMs / r.vmMedianMs, 2));
    this.row('QuickJS cold (first call)', num(r.coldMs, 1));
    this.row('node vm, one reused context (no isolation)', num(r.vmReusedContextMedianMs, 3));
  }

  longRun(r: LongRunResult): void {
    this.heading(`5. Long run: ${r.steps} steps (loop of wait_for_event, set_variables, condition)${r.continueAsNewAfterEvents ? `, continuing as new at ${r.continueAsNewAfterEvents} events (quick)` : ''}`);
    this.row('time, s', num(r.seconds));
    this.row('executions (continue-as-new)', String(r.executions));
    this.row('history events per execution, max (all < 10k?)', `${r.maxHistoryEvents} (${r.under10k ? 'yes' : 'NO'})`);
    this.row('worker RSS / heap after GC, MB: before -> after', `${num(r.memory.rssBeforeMb, 0)} -> ${num(r.memory.rssAfterMb, 0)} / ${num(r.memory.heapBeforeMb, 0)} -> ${num(r.memory.heapAfterMb, 0)}`);
  }

  cachedRuns(r: CachedRunsResult): void {
    this.heading(`6. Cached runs parked in a wait: worker memory per 1,000 runs (${r.runs} parked x ${r.interpreter.rssMbPer1000.reps} reps; cache ${r.maxCachedWorkflows})`);
    this.row('RSS MB per 1,000 (interpreter vs hand-written)', sp(r.interpreter.rssMbPer1000), sp(r.handWritten.rssMbPer1000), num(r.interpreter.rssMbPer1000.median / r.handWritten.rssMbPer1000.median, 2));
    this.row('V8 heap MB per 1,000', sp(r.interpreter.heapMbPer1000), sp(r.handWritten.heapMbPer1000), num(r.interpreter.heapMbPer1000.median / r.handWritten.heapMbPer1000.median, 2));
  }

  screening(r: ScreeningBenchResult): void {
    this.heading(`Watchlist screening: ${r.listSize} entries (${r.data}), ${r.screens} screens`);
    this.row('ms per screen, median / p99', `${num(r.medianMs, 2)} / ${num(r.p99Ms, 2)}`);
    this.row('first screen (builds the index), ms', num(r.firstScreenMs, 0));
  }

  pollers(results: PollerResult[]): void {
    for (const p of results) {
      this.heading(`Worker options: ${p.setting}`);
      for (const s of p.shapes) {
        this.row(`${s.shape}: runs/s`, sp(s.interpreter.runsPerSecond), sp(s.handWritten.runsPerSecond), num(s.ratio.runsPerSecond, 2));
        this.row(`${s.shape}: latency median / p99 ms`, mp(s.interpreter.latencyMs, 0), mp(s.handWritten.latencyMs, 0), num(s.ratio.latencyMedian, 2));
      }
    }
  }

  render(): string {
    const header: [string, string, string, string] = ['figure', 'value', 'baseline', 'ratio'];
    // Headings (a title alone) span the row and do not widen the first column.
    const isHeading = (r: string[]) => r[1] === '' && r[2] === '' && r[3] === '' && !r[0].startsWith(' ');
    const all = [header, ...this.rows.filter((r) => !isHeading(r))];
    const widths = [0, 1, 2, 3].map((c) => Math.max(...all.map((r) => r[c].length)));
    const line = (r: string[]) => (isHeading(r) ? r[0] : r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd());
    return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...this.rows.map(line), '', ...this.notes].join('\n');
  }
}
