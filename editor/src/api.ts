/**
 * The editor's only way to the service: the public HTTP API, with the
 * session cookie (same origin) and the CSRF token the auth contract asks for
 * on every request that changes something.
 */

export interface ProblemDetail {
  path: string;
  message: string;
  code?: string;
  stepId?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ProblemDetail[] = [],
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;
const unauthenticatedListeners = new Set<() => void>();

export function onUnauthenticated(listener: () => void): () => void {
  unauthenticatedListeners.add(listener);
  return () => unauthenticatedListeners.delete(listener);
}

function readCsrfCookie(): string | null {
  const match = document.cookie.match(/(?:^|;\s*)idw_csrf=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : null;
}

export async function request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const token = csrfToken ?? readCsrfCookie();
  if (method !== 'GET' && token) headers['x-csrf-token'] = token;
  const res = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let parsed: any = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  if (!res.ok) {
    const error = parsed?.error ?? {};
    if (res.status === 401 && !path.startsWith('/v1/auth/')) for (const l of unauthenticatedListeners) l();
    throw new ApiError(res.status, error.code ?? 'http_error', error.message ?? `${method} ${path}: ${res.status}`, error.details ?? []);
  }
  return parsed as T;
}

export interface User {
  id: string;
  email: string;
  role: string;
}

/** `null`: signed out; `'open'`: this server has no sign-in (no auth routes). */
export async function currentUser(): Promise<User | null | 'open'> {
  try {
    const me = await request<{ user: User; csrfToken?: string }>('GET', '/v1/auth/me');
    if (me.csrfToken) csrfToken = me.csrfToken;
    return me.user;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return 'open';
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

export async function login(email: string, password: string): Promise<User> {
  const res = await request<{ user: User; csrfToken: string }>('POST', '/v1/auth/login', { email, password });
  csrfToken = res.csrfToken;
  return res.user;
}

export async function logout(): Promise<void> {
  await request('POST', '/v1/auth/logout', {}).catch(() => undefined);
  csrfToken = null;
}

// ---- the resources the editor reads and writes ----

export interface WorkflowRecord {
  id: string;
  name: string;
  description?: string | null;
  liveVersion: number | null;
  draftRevision?: number;
  definition: any;
  createdAt: string;
  updatedAt: string;
}

export interface VersionInfo {
  version: number;
  publishedAt: string;
  live: boolean;
  definition: any;
}

export interface ActionInfo {
  name: string;
  title: string;
  description: string;
  params?: JsonSchema;
  errorTypes?: string[];
}

export type JsonSchema = Record<string, any>;

export interface StepState {
  id: string;
  type: string;
  action?: string;
  status: string;
  runs: number;
  startedAt?: string;
  endedAt?: string;
  input?: unknown;
  output?: unknown;
  error?: { type: string; message: string };
  lastError?: { type: string; message: string };
  waitingFor?: string;
  attempts?: number;
  handledBy?: string;
}

export interface RunDetail {
  runId: string;
  workflowId: string;
  version: number;
  triggerType: string;
  status: string;
  startedAt: string;
  endedAt?: string;
  temporalUrl?: string;
  state?: {
    status: string;
    current: string[];
    steps: StepState[];
    outcome?: string;
    reason?: string;
    output?: unknown;
    error?: { type: string; message: string; stepId?: string };
    waitingFor?: string;
  };
  stateUnavailable?: string;
}

export const api = {
  workflows: () => request<{ workflows: WorkflowRecord[] }>('GET', '/v1/workflows').then((r) => r.workflows),
  workflow: (id: string) => request<WorkflowRecord>('GET', `/v1/workflows/${encodeURIComponent(id)}`),
  createWorkflow: (body: { id?: string; name: string; description?: string; definition: unknown }) => request<WorkflowRecord>('POST', '/v1/workflows', body),
  updateWorkflow: (id: string, body: { name?: string; description?: string; definition?: unknown }) =>
    request<WorkflowRecord>('PUT', `/v1/workflows/${encodeURIComponent(id)}`, body),
  publish: (id: string) => request<{ version: number }>('POST', `/v1/workflows/${encodeURIComponent(id)}/publish`, {}),
  versions: (id: string) => request<{ liveVersion: number | null; versions: VersionInfo[] }>('GET', `/v1/workflows/${encodeURIComponent(id)}/versions`),
  rollback: (id: string, version: number) => request<unknown>('POST', `/v1/workflows/${encodeURIComponent(id)}/rollback`, { version }),
  validate: (definition: unknown) => request<{ valid: boolean; problems: ProblemDetail[] }>('POST', '/v1/definitions/validate', definition),
  actions: () => request<{ actions: ActionInfo[] }>('GET', '/v1/actions').then((r) => r.actions),
  testRun: (id: string, input: unknown) => request<RunDetail>('POST', `/v1/workflows/${encodeURIComponent(id)}/test-runs`, { input }),
  runs: (workflowId: string, limit = 100) => request<{ runs: RunDetail[] }>('GET', `/v1/runs?workflow=${encodeURIComponent(workflowId)}&limit=${limit}`).then((r) => r.runs),
  run: (runId: string) => request<RunDetail>('GET', `/v1/runs/${encodeURIComponent(runId)}`),
  deliverEvent: (runId: string, event: { id?: string; type: string; objectId?: string; data?: unknown }) =>
    request<unknown>('POST', `/v1/runs/${encodeURIComponent(runId)}/events`, event),
  cancelRun: (runId: string) => request<unknown>('POST', `/v1/runs/${encodeURIComponent(runId)}/cancel`, {}),
  credentials: () => request<{ credentials: { id: string; name: string; kind: string }[] }>('GET', '/v1/credentials').then((r) => r.credentials ?? []),
  lists: () => request<{ lists: { id: string; name: string; kind: string }[] }>('GET', '/v1/lists').then((r) => r.lists ?? []),
  requestTemplates: () => request<{ templates?: { id: string; name: string }[]; requestTemplates?: { id: string; name: string }[] }>('GET', '/v1/request-templates').then((r) => r.templates ?? r.requestTemplates ?? []),
};

/** Does this server offer `POST /v1/workflows/:id/rollback`? Asked once, with a workflow that cannot exist. */
let rollbackProbe: Promise<boolean> | undefined;
export function rollbackAvailable(): Promise<boolean> {
  rollbackProbe ??= request('POST', '/v1/workflows/zz-editor-probe/rollback', { version: 1 })
    .then(() => true)
    .catch((err) => !(err instanceof ApiError && err.status === 404 && /no route/.test(err.message)));
  return rollbackProbe;
}
