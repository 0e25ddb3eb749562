/**
 * Step metrics and logs from the activity side: each activity attempt is
 * timed into `idw_step_duration_seconds{action,outcome}` and logged with
 * its run id and step id; a registered wait is counted. Parameters and
 * results are not logged (PII).
 */
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { Metrics } from './metrics';

interface StepArgument {
  step?: { id?: unknown; attempt?: unknown };
  waitKey?: unknown;
}

export function stepObservability(deps: { metrics?: Metrics; logger?: Logger }): ActivityInterceptorsFactory {
  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        const info = ctx.info;
        const action = info.activityType;
        const arg = (input.args[0] ?? {}) as StepArgument;
        const stepId = typeof arg.step?.id === 'string' ? arg.step.id : undefined;
        const fields = {
          runId: info.workflowExecution?.workflowId,
          temporalRunId: info.workflowExecution?.runId,
          ...(stepId ? { stepId } : {}),
          action,
          activityId: info.activityId,
          attempt: typeof arg.step?.attempt === 'number' ? arg.step.attempt : info.attempt,
        };
        const log = deps.logger?.child(fields);
        const started = process.hrtime.bigint();
        const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
        log?.debug('step attempt started');
        try {
          const result = await next(input);
          const duration = seconds();
          deps.metrics?.stepDuration.observe({ action, outcome: 'succeeded' }, duration);
          if (action === 'registerWait') {
            deps.metrics?.waitsRegistered.inc({ kind: typeof arg.waitKey === 'string' && arg.waitKey.startsWith('cancelOn#') ? 'cancel_on' : 'event' });
          }
          log?.info({ durationMs: Math.round(duration * 1000), outcome: 'succeeded' }, 'step attempt succeeded');
          return result;
        } catch (err) {
          const duration = seconds();
          deps.metrics?.stepDuration.observe({ action, outcome: 'failed' }, duration);
          const e = err as { name?: string; type?: string; message?: string };
          log?.warn({ durationMs: Math.round(duration * 1000), outcome: 'failed', errorType: e.type ?? e.name, error: e.message }, 'step attempt failed');
          throw err;
        }
      },
    },
  });
}
