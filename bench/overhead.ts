/**
 * Interpreter overhead: each shape of bench/shapes.ts run by the interpreter
 * (`workflowRun` with the published definition) and by its hand-written
 * twin, both started with the Temporal client directly (the API is not
 * measured here), on the same worker. Variants alternate within every
 * repetition so a noisy neighbour hurts both alike.
 *
 * - latency: one run at a time, start to result;
 * - saturation: `concurrency` runs in flight until `runs` have finished,
 *   per repetition: runs/s and the service process's CPU time per step;
 * - history events per run (median of three runs).
 */
import type { Client } from '@temporalio/client';
import { RUN_WORKFLOW_TYPE, SearchAttributes, runStart, type RunInput, type RunMemo } from '../src/workflows/run-contract';
import { SHAPES, type Shape } from './shapes';
import type { Service, Stack } from './stack';
import { distribution, pool, spread, type Distribution, type Spread } from './stats';

export interface OverheadOptions {
  shapes: string[];
  warmup: number;
  latencyRuns: number;
  saturationRuns: number;
  concurrency: number;
  reps: number;
}

export interface VariantResult {
  latencyMs: Distribution;
  runsPerSecond: Spread;
  cpuMsPerStep: Spread;
  historyEvents: number;
}

export interface ShapeResult {
  shape: string;
  name: string;
  steps: number;
  interpreter: VariantResult;
  handWritten: VariantResult;
  /** interpreter / hand-written, from medians. */
  ratio: { runsPerSecond: number; latencyMedian: number; cpuPerStep: number; historyEvents: number };
}

type Variant = 'interpreter' | 'handWritten';

let serial = 0;
const uniq = () => `${Date.now().toString(36)}${(serial++).toString(36)}`;

interface Runner {
  prepare(i: number): Promise<Record<string, unknown>>;
  run(variant: Variant, input: Record<string, unknown>, i: number): Promise<string>;
}

export function shapeRunner(client: Client, service: Service, key: string, shape: Shape, template: RunInput): Runner {
  const workflowId = `bench_${key}`;
  const start = async (variant: Variant, input: Record<string, unknown>): Promise<string> => {
    const runId = `run_bench_${key}_${variant === 'interpreter' ? 'i' : 'h'}_${uniq()}`;
    if (variant === 'interpreter') {
      const runInput: RunInput = { ...template, runId, trigger: { type: 'api', payload: input } };
      const memo: RunMemo = { workflowId, version: template.version, triggerType: 'api', startedAt: new Date().toISOString() };
      await client.workflow.start(RUN_WORKFLOW_TYPE, { taskQueue: service.taskQueue, ...runStart(runInput, memo) });
    } else {
      // The same memo and search attributes, so the server does the same indexing work for both.
      await client.workflow.start(shape.handWritten, {
        taskQueue: service.taskQueue,
        workflowId: runId,
        args: [input],
        memo: { workflowId: `${workflowId}_hand`, version: 1, triggerType: 'api', startedAt: new Date().toISOString() },
        typedSearchAttributes: [
          { key: SearchAttributes.workflowId, value: `${workflowId}_hand` },
          { key: SearchAttributes.version, value: 1 },
          { key: SearchAttributes.triggerType, value: 'api' },
        ],
      });
    }
    return runId;
  };
  return {
    prepare: async (i) => ({ ...shape.input(i), ...(shape.prepare ? await shape.prepare(i, service.post) : {}) }),
    async run(variant, input, i) {
      const runId = await start(variant, input);
      const handle = client.workflow.getHandle(runId);
      if (shape.event) await handle.signal('deliverEvent', shape.event(input, i));
      await handle.result();
      return runId;
    },
  };
}

async function historyLength(client: Client, runId: string): Promise<number> {
  return (await client.workflow.getHandle(runId).fetchHistory()).events?.length ?? 0;
}

export async function overheadSection(stack: Stack, o: OverheadOptions, log: (line: string) => void): Promise<ShapeResult[]> {
  const { client, service } = stack;
  const results: ShapeResult[] = [];
  for (const key of o.shapes) {
    const shape = SHAPES[key];
    const workflowId = `bench_${key}`;
    await service.publish(workflowId, shape.definition);
    const template = await service.runInput(workflowId, 'template', {});
    const runner = shapeRunner(client, service, key, shape, template);
    const variants: Variant[] = ['interpreter', 'handWritten'];
    let i = 0;
    // Warm-up (not counted): the worker's caches, the server's task queues, JIT.
    for (let w = 0; w < o.warmup; w++) for (const v of variants) await runner.run(v, await runner.prepare(i), i++);

    const latency: Record<Variant, number[]> = { interpreter: [], handWritten: [] };
    for (let n = 0; n < o.latencyRuns; n++) {
      for (const v of n % 2 === 0 ? variants : [...variants].reverse()) {
        const input = await runner.prepare(i);
        const t0 = performance.now();
        await runner.run(v, input, i++);
        latency[v].push(performance.now() - t0);
      }
    }

    const rate: Record<Variant, number[]> = { interpreter: [], handWritten: [] };
    const cpu: Record<Variant, number[]> = { interpreter: [], handWritten: [] };
    const sampleRuns: Record<Variant, string[]> = { interpreter: [], handWritten: [] };
    for (let r = 0; r < o.reps; r++) {
      for (const v of r % 2 === 0 ? variants : [...variants].reverse()) {
        const inputs: Record<string, unknown>[] = [];
        for (let k = 0; k < o.saturationRuns; k++) inputs.push(await runner.prepare(i + k));
        const base = i;
        i += o.saturationRuns;
        const before = await service.usage();
        const t0 = performance.now();
        await pool(o.saturationRuns, o.concurrency, async (k) => {
          const runId = await runner.run(v, inputs[k], base + k);
          if (sampleRuns[v].length < 3) sampleRuns[v].push(runId);
        });
        const seconds = (performance.now() - t0) / 1000;
        const after = await service.usage();
        rate[v].push(o.saturationRuns / seconds);
        cpu[v].push((after.cpuMicros - before.cpuMicros) / 1000 / (o.saturationRuns * shape.steps));
      }
    }
    const history = async (v: Variant) => distribution(await Promise.all(sampleRuns[v].map((id) => historyLength(client, id)))).median;
    const variant = async (v: Variant): Promise<VariantResult> => ({
      latencyMs: distribution(latency[v]),
      runsPerSecond: spread(rate[v]),
      cpuMsPerStep: spread(cpu[v]),
      historyEvents: await history(v),
    });
    const interpreter = await variant('interpreter');
    const handWritten = await variant('handWritten');
    const result: ShapeResult = {
      shape: key,
      name: shape.name,
      steps: shape.steps,
      interpreter,
      handWritten,
      ratio: {
        runsPerSecond: interpreter.runsPerSecond.median / handWritten.runsPerSecond.median,
        latencyMedian: interpreter.latencyMs.median / handWritten.latencyMs.median,
        cpuPerStep: interpreter.cpuMsPerStep.median / handWritten.cpuMsPerStep.median,
        historyEvents: interpreter.historyEvents / handWritten.historyEvents,
      },
    };
    log(
      `  ${key}: runs/s ${interpreter.runsPerSecond.median.toFixed(1)} vs ${handWritten.runsPerSecond.median.toFixed(1)} (x${result.ratio.runsPerSecond.toFixed(2)}), ` +
        `latency ${interpreter.latencyMs.median.toFixed(0)} vs ${handWritten.latencyMs.median.toFixed(0)} ms, history ${interpreter.historyEvents} vs ${handWritten.historyEvents}`,
    );
    results.push(result);
  }
  return results;
}
