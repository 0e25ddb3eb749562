/**
 * Bundle the workflow code once (webpack, a few seconds) without webpack's
 * chatter; errors still surface.
 */
import { bundleWorkflowCode } from '@temporalio/worker';

const noop = (): void => undefined;

export async function bundleWorkflows(): Promise<{ code: string }> {
  const logger = { log: noop, trace: noop, debug: noop, info: noop, warn: (m: string) => console.warn(m), error: (m: string) => console.error(m) };
  return bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    // Run start and end counts for /metrics, through a sink (src/observability/run-metrics-interceptor.ts).
    workflowInterceptorModules: [require.resolve('../observability/run-metrics-interceptor')],
    logger,
  });
}
