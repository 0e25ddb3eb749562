/**
 * What can go wrong in screening and in the report checks, as ordinary
 * errors with stable failure types. The API turns them into 400s / 409s; the
 * run_report action into ApplicationFailures of the type named here,
 * non-retryable unless `retryable` says a later attempt may succeed (a
 * provider briefly down).
 */

export const ScreeningFailureType = {
  /** The import's CSV is not in the format its source publishes. */
  ImportFormat: 'WatchlistImportFormat',
  /** Nothing is loaded in the list a screen asked for: an empty result would look like a clean one. */
  NotLoaded: 'WatchlistNotLoaded',
  /** The subject lacks what this report type checks (a name for a watchlist, an email for email risk). */
  SubjectMissing: 'ReportSubjectMissing',
  /** A subject field is present but unusable (a birthdate that is not a date, an unknown country). */
  SubjectInvalid: 'ReportSubjectInvalid',
  /** No adverse media provider is configured. */
  ProviderNotConfigured: 'ReportProviderNotConfigured',
  /** The provider refused the request (4xx) or answered something that is not its protocol. */
  ProviderRejected: 'ReportProviderRejected',
  /** The provider could not be reached or failed (5xx, timeout): worth retrying. */
  ProviderUnavailable: 'ReportProviderUnavailable',
} as const;
export type ScreeningFailureType = (typeof ScreeningFailureType)[keyof typeof ScreeningFailureType];

export class ScreeningError extends Error {
  constructor(
    readonly failureType: ScreeningFailureType,
    message: string,
    /** JSON Pointer of the offending input, when there is one. */
    readonly path?: string,
    readonly retryable = false,
  ) {
    super(message);
    this.name = 'ScreeningError';
  }
}

export const importFormatError = (message: string) => new ScreeningError(ScreeningFailureType.ImportFormat, message, '/csv');
