/**
 * The status life cycles, as explicit tables: for each status, the statuses
 * it may move to, and the event a move to each status emits. Anything not in
 * a table is illegal (a 409 at the API, a non-retryable failure in an
 * action) and changes nothing. Pure: the API, the actions and the docs'
 * test all read these same tables.
 */

export interface StatusFlow<S extends string> {
  readonly statuses: readonly S[];
  readonly initial: S;
  readonly next: Readonly<Record<S, readonly S[]>>;
  /** Event type suffix for arriving in each status (the prefix is the object type). */
  readonly event: Readonly<Record<S, string>>;
  /** URL verb (`POST /v1/inquiries/:id/approve`) -> target status. */
  readonly verbs: Readonly<Record<string, S>>;
}

export const INQUIRY_STATUSES = ['created', 'pending', 'completed', 'failed', 'expired', 'needs_review', 'approved', 'declined'] as const;
export type InquiryStatus = (typeof INQUIRY_STATUSES)[number];

const REVIEWABLE: readonly InquiryStatus[] = ['needs_review', 'approved', 'declined'];

export const INQUIRY_FLOW: StatusFlow<InquiryStatus> = {
  statuses: INQUIRY_STATUSES,
  initial: 'created',
  next: {
    created: ['pending', 'expired'],
    pending: ['completed', 'failed', 'expired'],
    // A finished attempt, whatever its outcome, gets a decision or goes to a reviewer.
    completed: REVIEWABLE,
    failed: REVIEWABLE,
    expired: REVIEWABLE,
    needs_review: ['approved', 'declined'],
    // Decisions are final: a changed mind is a new inquiry, so history stays honest.
    approved: [],
    declined: [],
  },
  event: {
    created: 'created',
    pending: 'pending',
    completed: 'completed',
    failed: 'failed',
    expired: 'expired',
    needs_review: 'marked-for-review',
    approved: 'approved',
    declined: 'declined',
  },
  verbs: {
    submit: 'pending',
    complete: 'completed',
    fail: 'failed',
    expire: 'expired',
    'mark-for-review': 'needs_review',
    approve: 'approved',
    decline: 'declined',
  },
};

export const CASE_STATUSES = ['open', 'pending', 'resolved'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];
export const CASE_RESOLUTIONS = ['approved', 'declined'] as const;
export type CaseResolution = (typeof CASE_RESOLUTIONS)[number];

export const CASE_FLOW: StatusFlow<CaseStatus> = {
  statuses: CASE_STATUSES,
  initial: 'open',
  next: {
    // pending = waiting on someone outside the review team; it returns to open when they answer.
    open: ['pending', 'resolved'],
    pending: ['open', 'resolved'],
    // Workflows wait on case.resolved and act on its resolution; reopening would make that ambiguous.
    resolved: [],
  },
  event: { open: 'opened', pending: 'pending', resolved: 'resolved' },
  verbs: { 'mark-pending': 'pending', open: 'open', resolve: 'resolved' },
};

export const ACCOUNT_STATUSES = ['active', 'suspended', 'closed'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];

export const ACCOUNT_FLOW: StatusFlow<AccountStatus> = {
  statuses: ACCOUNT_STATUSES,
  initial: 'active',
  next: {
    active: ['suspended', 'closed'],
    suspended: ['active', 'closed'],
    closed: [],
  },
  event: { active: 'reactivated', suspended: 'suspended', closed: 'closed' },
  verbs: { suspend: 'suspended', reactivate: 'active', close: 'closed' },
};

export const REPORT_STATUSES = ['pending', 'ready', 'errored'] as const;
export type ReportStatus = (typeof REPORT_STATUSES)[number];

export const REPORT_FLOW: StatusFlow<ReportStatus> = {
  statuses: REPORT_STATUSES,
  initial: 'pending',
  next: {
    pending: ['ready', 'errored'],
    // A result is what a workflow acted on; a re-run is a new report.
    ready: [],
    errored: [],
  },
  event: { pending: 'created', ready: 'ready', errored: 'errored' },
  verbs: { ready: 'ready', error: 'errored' },
};

export function canMove<S extends string>(flow: StatusFlow<S>, from: S, to: S): boolean {
  return flow.next[from]?.includes(to) ?? false;
}
