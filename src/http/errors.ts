/**
 * How an outgoing HTTPS request can fail, with the stable failure types the
 * https_request action reports (and whether retrying can help). The classes
 * are local errors of src/http; the action turns them into
 * ApplicationFailures with these types.
 */
export const HttpFailureType = {
  /** The server answered 4xx (not 429): the request itself is wrong. Not retried. */
  ClientError: 'HttpClientError',
  /** The server answered 5xx. Retried. */
  ServerError: 'HttpServerError',
  /** The server answered 429. Retried, after its Retry-After when it gives one. */
  RateLimited: 'HttpRateLimited',
  /** No answer in time. Retried. */
  Timeout: 'HttpTimeout',
  /** DNS, connection refused or reset. Retried. */
  NetworkError: 'HttpNetworkError',
  /** The server's certificate is not trusted or does not match the host. Not retried. */
  TlsError: 'HttpTlsError',
  /** The SSRF guard refused the destination (or a redirect's). Not retried. */
  RequestBlocked: 'HttpRequestBlocked',
  /** More redirects than allowed. Not retried. */
  TooManyRedirects: 'HttpTooManyRedirects',
  /**
   * A hop of a request carrying a credential (the first request or a
   * redirect) goes to a host the credential's allowedHosts does not name;
   * the credential was not sent. Not retried.
   */
  CredentialHostNotAllowed: 'CredentialHostNotAllowed',
  /** A step names a request template that does not exist. Not retried. */
  TemplateNotFound: 'RequestTemplateNotFound',
} as const;
export type HttpFailureType = (typeof HttpFailureType)[keyof typeof HttpFailureType];

/** Types for which another attempt cannot help. */
export const NON_RETRYABLE_HTTP_FAILURES: HttpFailureType[] = [
  HttpFailureType.ClientError,
  HttpFailureType.TlsError,
  HttpFailureType.RequestBlocked,
  HttpFailureType.TooManyRedirects,
  HttpFailureType.CredentialHostNotAllowed,
  HttpFailureType.TemplateNotFound,
];

export abstract class HttpRequestError extends Error {
  abstract readonly type: HttpFailureType;
}

/** The destination is not one this service may reach (SSRF guard). */
export class RequestBlockedError extends HttpRequestError {
  readonly type = HttpFailureType.RequestBlocked;
}

/** A credential would go to a host it does not allow (see src/credentials/hosts.ts). */
export class CredentialHostError extends HttpRequestError {
  readonly type = HttpFailureType.CredentialHostNotAllowed;
}

export class HttpTimeoutError extends HttpRequestError {
  readonly type = HttpFailureType.Timeout;
}

export class HttpNetworkError extends HttpRequestError {
  readonly type = HttpFailureType.NetworkError;
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

export class HttpTlsError extends HttpRequestError {
  readonly type = HttpFailureType.TlsError;
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

export class TooManyRedirectsError extends HttpRequestError {
  readonly type = HttpFailureType.TooManyRedirects;
}
