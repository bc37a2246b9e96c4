/** A thin fetch wrapper whose errors carry what the store needs to classify them (spec 003 §8.1). */

export const API_BASE = '/api/v1';
const REQUEST_TIMEOUT_MS = 8000;
/** A rate-limited read waits as the server's Retry-After says, at most this long, and tries again. */
const MAX_RETRY_AFTER_MS = 5000;
const RATE_LIMITED_RETRIES = 2;

export class ApiError extends Error {
  /** HTTP status, or null when no response arrived (server down, timeout, CORS). */
  readonly status: number | null;
  /** The server's machine-readable error code (`error` field), when it sent one. */
  readonly code: string | null;
  /** Seconds the server asked the client to wait (Retry-After of a 429 or 503), when it said. */
  readonly retryAfterS: number | null;

  constructor(message: string, status: number | null, code: string | null = null, retryAfterS: number | null = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfterS = retryAfterS;
  }
}

interface ErrorBody {
  detail?: unknown;
  error?: unknown;
  message?: unknown;
}

function describeDetail(detail: unknown): string | null {
  if (typeof detail === 'string') return detail;
  // FastAPI validation errors: a list of {msg, loc}.
  if (Array.isArray(detail) && detail.length > 0) {
    const first = detail[0] as { msg?: unknown };
    if (typeof first.msg === 'string') return first.msg;
  }
  return null;
}

async function errorFromResponse(response: Response): Promise<ApiError> {
  let body: ErrorBody = {};
  try {
    body = (await response.json()) as ErrorBody;
  } catch {
    // Not JSON (a proxy's HTML page): fall back to the status text.
  }
  const message =
    describeDetail(body.detail) ??
    (typeof body.message === 'string' ? body.message : null) ??
    `${response.status} ${response.statusText || 'error'}`;
  const retryAfter = Number.parseInt(response.headers.get('Retry-After') ?? '', 10);
  return new ApiError(
    message,
    response.status,
    typeof body.error === 'string' ? body.error : null,
    Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : null,
  );
}

/**
 * How requests authenticate. The session module installs it; until then requests go out anonymous.
 * `recover` is asked once per request after a 401 that carried a token: it refreshes the token and says
 * whether to retry.
 */
export interface AuthHooks {
  token: () => string | null;
  recover: () => Promise<boolean>;
  /** A request was refused for want of a (valid) token, after any recovery. */
  unauthorized: () => void;
}

let authHooks: AuthHooks | null = null;

export function setAuthHooks(hooks: AuthHooks | null): void {
  authHooks = hooks;
}

export function currentToken(): string | null {
  return authHooks?.token() ?? null;
}

/** Login and refresh carry their own credentials: a 401 there means wrong credentials, not a stale token. */
function isCredentialExchange(path: string): boolean {
  return path.startsWith('/auth/login') || path.startsWith('/auth/refresh') || path.startsWith('/auth/token');
}

/** Reads refused by the rate limit are retried after the wait the server names; changes never are. */
export async function request(path: string, init: RequestInit = {}): Promise<Response> {
  const isRead = (init.method ?? 'GET').toUpperCase() === 'GET';
  for (let retry = 0; ; retry += 1) {
    try {
      return await authenticated(path, init);
    } catch (error) {
      const wait = rateLimitWaitMs(error);
      if (!isRead || wait === null || retry >= RATE_LIMITED_RETRIES || init.signal?.aborted) throw error;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

function rateLimitWaitMs(error: unknown): number | null {
  if (!(error instanceof ApiError) || error.status !== 429) return null;
  const seconds = error.retryAfterS ?? 1;
  return Math.min(MAX_RETRY_AFTER_MS, seconds * 1000);
}

async function authenticated(path: string, init: RequestInit): Promise<Response> {
  if (isCredentialExchange(path)) return send(path, init, null);
  const token = currentToken();
  try {
    return await send(path, init, token);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401 || !authHooks) throw error;
    if (token && (await authHooks.recover())) {
      try {
        return await send(path, init, currentToken());
      } catch (retryError) {
        if (retryError instanceof ApiError && retryError.status === 401) authHooks?.unauthorized();
        throw retryError;
      }
    }
    authHooks.unauthorized();
    throw error;
  }
}

async function send(path: string, init: RequestInit, token: string | null): Promise<Response> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
  const external = init.signal;
  external?.addEventListener('abort', () => controller.abort(), { once: true });
  try {
    const response = await fetch(`${API_BASE}${path}`, {
      ...init,
      signal: controller.signal,
      headers: {
        Accept: 'application/json',
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
        ...(init.headers ?? {}),
      },
      cache: 'no-store',
    });
    if (!response.ok) throw await errorFromResponse(response);
    return response;
  } catch (error) {
    if (error instanceof ApiError) throw error;
    const aborted = error instanceof DOMException && error.name === 'AbortError';
    const message = aborted
      ? external?.aborted
        ? 'Request cancelled'
        : 'The server did not answer in time'
      : 'Cannot reach the GPU Sentinel server';
    throw new ApiError(message, null);
  } finally {
    clearTimeout(timer);
  }
}

export async function getJson<T>(path: string, init?: RequestInit): Promise<T> {
  const response = await request(path, init);
  return (await response.json()) as T;
}

/** A JSON body with any method; 204 answers resolve to undefined. */
export async function sendJson<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await request(path, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } }),
  });
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}
