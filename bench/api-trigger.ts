/**
 * API trigger throughput: runs started per second through
 * `POST /v1/workflows/:id/runs` (API key, JSON Schema validation of the
 * body, a run of the live version started) against runs of the same
 * version started with the Temporal client directly (the same input, so the
 * same payload). `concurrency` requests in flight; variants alternate per
 * repetition. The runs themselves are one `end` step, so the worker's share
 * is small and the same for both.
 */
import { RUN_WORKFLOW_TYPE, runStart, type RunMemo } from '../src/workflows/run-contract';
import type { Stack } from './stack';
import { pool, spread, type Spread } from './stats';

export interface ApiTriggerOptions {
  starts: number;
  concurrency: number;
  reps: number;
  warmup: number;
}

export interface ApiTriggerResult {
  starts: number;
  concurrency: number;
  api: Spread;
  client: Spread;
  /** api / client, from medians. */
  ratio: number;
}

const DEFINITION = {
  trigger: {
    type: 'api',
    inputSchema: {
      type: 'object',
      required: ['inquiryId', 'riskScore'],
      properties: {
        inquiryId: { type: 'string', pattern: '^inq_' },
        riskScore: { type: 'integer', minimum: 0, maximum: 100 },
        email: { type: 'string', format: 'email' },
        tags: { type: 'array', items: { type: 'string' }, maxItems: 10 },
      },
      additionalProperties: false,
    },
  },
  steps: [{ id: 'done', type: 'end', outcome: 'succeeded', reason: 'started' }],
};

const payload = (i: number) => ({ inquiryId: `inq_${i}`, riskScore: i % 100, email: `person${i}@example.com`, tags: ['bench'] });

let serial = 0;

export async function apiTriggerSection(stack: Stack, o: ApiTriggerOptions): Promise<ApiTriggerResult> {
  const { client, service } = stack;
  const workflowId = 'bench_api_trigger';
  await service.publish(workflowId, DEFINITION);
  const template = await service.runInput(workflowId, 'template', {});
  const viaApi = async (i: number) => {
    await service.post(`/v1/workflows/${workflowId}/runs`, payload(i));
  };
  const viaClient = async (i: number) => {
    const runId = `run_bench_direct_${Date.now().toString(36)}_${serial++}`;
    const memo: RunMemo = { workflowId, version: template.version, triggerType: 'api', startedAt: new Date().toISOString() };
    await client.workflow.start(RUN_WORKFLOW_TYPE, {
      taskQueue: service.taskQueue,
      ...runStart({ ...template, runId, trigger: { type: 'api', payload: payload(i) } }, memo),
      staticSummary: `${workflowId} v${template.version} (api)`,
    });
  };
  const variants = { api: viaApi, client: viaClient };
  for (const start of Object.values(variants)) await pool(o.warmup, o.concurrency, start);
  const rates: Record<keyof typeof variants, number[]> = { api: [], client: [] };
  for (let r = 0; r < o.reps; r++) {
    const order = (r % 2 === 0 ? ['api', 'client'] : ['client', 'api']) as (keyof typeof variants)[];
    for (const v of order) {
      const t0 = performance.now();
      await pool(o.starts, o.concurrency, variants[v]);
      rates[v].push(o.starts / ((performance.now() - t0) / 1000));
    }
  }
  const api = spread(rates.api);
  const direct = spread(rates.client);
  return { starts: o.starts, concurrency: o.concurrency, api, client: direct, ratio: api.median / direct.median };
}
