/**
 * What one Evaluate Code call costs, outside Temporal: cold (the first call
 * in the process, loading the QuickJS WASM module), warm (median and p99 of
 * later calls, each on a fresh runtime and context), and the same function
 * run with node's `vm` module, with a fresh context per call (the same
 * isolation between calls) and with one reused context (no isolation, the
 * floor). Inputs go in and the result comes out as JSON in every case.
 *
 *   npx tsx bench/evaluate-code.ts      (BENCH_CODE_CALLS sets the count, default 2000)
 */
import { createContext, Script } from 'node:vm';
import { CodeSandbox } from '../src/sandbox/quickjs-sandbox';

/** Median and p99 (nearest rank), as bench/stack.ts computes them; not imported so this file loads nothing of the service. */
function stats(samples: number[]): { median: number; p99: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  return { median: at(0.5), p99: at(0.99) };
}

const CODE = `
  const score = inputs.signals.reduce((sum, s) => sum + s.weight, 0);
  return { score, band: score >= 50 ? 'high' : 'low', flagged: inputs.signals.filter((s) => s.weight > 20).map((s) => s.name) };
`;

const inputsFor = (i: number) => ({
  signals: [
    { name: 'email_risk', weight: i % 40 },
    { name: 'phone_risk', weight: 12 },
    { name: 'ip_country_mismatch', weight: 25 },
  ],
});

export interface EvaluateCodeBench {
  calls: number;
  coldMs: number;
  warmMedianMs: number;
  warmP99Ms: number;
  vmMedianMs: number;
  vmReusedContextMedianMs: number;
}

export async function evaluateCodeBench(calls = Number(process.env.BENCH_CODE_CALLS ?? 2000)): Promise<EvaluateCodeBench> {
  const sandbox = new CodeSandbox();
  let started = performance.now();
  await sandbox.evaluate(CODE, inputsFor(0));
  const coldMs = performance.now() - started;

  const warmup = Math.min(100, calls);
  for (let i = 0; i < warmup; i++) await sandbox.evaluate(CODE, inputsFor(i));
  const warm: number[] = [];
  for (let i = 0; i < calls; i++) {
    started = performance.now();
    await sandbox.evaluate(CODE, inputsFor(i));
    warm.push(performance.now() - started);
  }

  // The same wrapper the sandbox uses: the body of function (inputs), JSON in and out.
  const wrapper = new Script(`(function (inputsJson) { return JSON.stringify((function (inputs) {${CODE}})(JSON.parse(inputsJson))); })`);
  const viaVm = (context: object, i: number): unknown => JSON.parse((wrapper.runInContext(context) as (json: string) => string)(JSON.stringify(inputsFor(i))));
  for (let i = 0; i < warmup; i++) viaVm(createContext({}), i);
  const vmFresh: number[] = [];
  for (let i = 0; i < calls; i++) {
    started = performance.now();
    viaVm(createContext({}), i);
    vmFresh.push(performance.now() - started);
  }
  const shared = createContext({});
  const vmShared: number[] = [];
  for (let i = 0; i < calls; i++) {
    started = performance.now();
    viaVm(shared, i);
    vmShared.push(performance.now() - started);
  }
  sandbox.dispose();

  const w = stats(warm);
  return {
    calls,
    coldMs,
    warmMedianMs: w.median,
    warmP99Ms: w.p99,
    vmMedianMs: stats(vmFresh).median,
    vmReusedContextMedianMs: stats(vmShared).median,
  };
}

if (require.main === module) {
  evaluateCodeBench()
    .then((r) => {
      const ms = (n: number) => `${n.toFixed(3)} ms`;
      console.log(`Evaluate Code, ${r.calls} calls of a small scoring snippet`);
      console.log(`  QuickJS cold (first call, loads the WASM module)   ${ms(r.coldMs)}`);
      console.log(`  QuickJS warm, fresh runtime + context per call     median ${ms(r.warmMedianMs)}, p99 ${ms(r.warmP99Ms)}`);
      console.log(`  node vm, fresh context per call                    median ${ms(r.vmMedianMs)}`);
      console.log(`  node vm, one reused context (no isolation)         median ${ms(r.vmReusedContextMedianMs)}`);
    })
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
