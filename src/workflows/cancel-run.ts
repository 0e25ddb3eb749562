/**
 * A run cannot ask Temporal to cancel itself (the server refuses a
 * cancellation request aimed at the requester). A run that flow.cancelOn
 * cancels starts this helper, which asks for it: the run then ends through
 * the same cancellation path as `POST /v1/runs/:id/cancel`, with Temporal
 * status Canceled.
 */
import { getExternalWorkflowHandle } from '@temporalio/workflow';

export async function cancelRunRequest(request: { runId: string }): Promise<void> {
  await getExternalWorkflowHandle(request.runId).cancel();
}
