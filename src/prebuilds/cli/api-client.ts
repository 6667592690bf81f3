import { ExitCode } from './exit-codes.js';

/**
 * A thin fetch client for the module's HTTP API. It imports nothing from Nest or TypeORM, so that the command-line
 * tool starts fast and runs where the module is not installed with its peers.
 */

/** An error answer of the API, in its `{ statusCode, code, message }` shape. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The API could not be reached at all: no HTTP answer. */
export class UnreachableError extends Error {
  override readonly name = 'UnreachableError';
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`cannot reach ${url}: ${reason}`);
  }
}

/** A mistake on the command line, found after commander parsed it (a missing token, a malformed tag). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface ApiClientOptions {
  /** The API's base URL, with its prefix: http://127.0.0.1:3000/api/v2. */
  url: string;
  /** Headers every request carries (the bearer token, or the provisioner key). */
  headers: Record<string, string>;
  /** Per request, unless the call passes its own signal (a long poll). */
  timeoutMs?: number;
}

export interface ApiAnswer<T> {
  status: number;
  body: T;
}

export class ApiClient {
  readonly url: string;

  constructor(private readonly options: ApiClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
  }

  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    { signal, timeoutMs }: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<ApiAnswer<T>> {
    const timeout = AbortSignal.timeout(timeoutMs ?? this.options.timeoutMs ?? 30_000);
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        method,
        headers: {
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...this.options.headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new UnreachableError(this.url, reasonOf(error));
    }
    const text = await response.text().catch(() => '');
    const parsed = parseJson(text);
    if (response.status >= 400) throw errorOf(response.status, parsed, text);
    return { status: response.status, body: parsed as T };
  }

  async get<T>(path: string): Promise<T> {
    return (await this.request<T>('GET', path)).body;
  }

  async post<T>(path: string, body: unknown = {}): Promise<T> {
    return (await this.request<T>('POST', path, body)).body;
  }

  async put<T>(path: string, body: unknown): Promise<T> {
    return (await this.request<T>('PUT', path, body)).body;
  }

  async delete<T>(path: string): Promise<T> {
    return (await this.request<T>('DELETE', path)).body;
  }
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorOf(status: number, body: unknown, text: string): ApiError {
  const shaped = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const code = typeof shaped.code === 'string' ? shaped.code : `HTTP_${status}`;
  const message =
    typeof shaped.message === 'string' ? shaped.message : text.trim().slice(0, 200) || `HTTP ${status}`;
  return new ApiError(status, code, message);
}

/** What fetch's "fetch failed" hides: the system error of its cause (ECONNREFUSED 127.0.0.1:3000, ENOTFOUND …). */
export function reasonOf(error: unknown): string {
  const seen = new Set<unknown>();
  let current: unknown = error;
  let reason = error instanceof Error ? error.message : String(error);
  while (current instanceof Error && !seen.has(current)) {
    seen.add(current);
    if (current.name === 'TimeoutError') return 'timed out';
    const cause = (current as { cause?: unknown }).cause;
    if (cause instanceof Error) {
      const code = (cause as NodeJS.ErrnoException).code;
      reason = cause.message || code || reason;
      if (cause instanceof AggregateError && cause.errors.length > 0) {
        reason = (cause.errors[0] as Error).message || reason;
      }
    }
    current = cause;
  }
  return reason;
}

/** The one line a failed command prints, and the exit code it ends with. */
export function describeFailure(error: unknown): { line: string; exitCode: ExitCode } {
  if (error instanceof UnreachableError)
    return { line: `error: ${error.message}`, exitCode: ExitCode.Unreachable };
  if (error instanceof UsageError) return { line: `error: ${error.message}`, exitCode: ExitCode.Usage };
  if (error instanceof ApiError) {
    const line = `error: ${error.code}: ${error.message}`;
    if (error.status === 401 || error.status === 403) return { line, exitCode: ExitCode.Refused };
    if (error.code === 'RECONCILE_IN_PROGRESS') return { line, exitCode: ExitCode.ReconcileInProgress };
    return { line, exitCode: ExitCode.ApiError };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { line: `error: ${message}`, exitCode: ExitCode.ApiError };
}
