import type { RouteCall } from './dashboard-routes.js';
import type { Session } from './types.js';

/** An error the API answered with: its stable code and message, as `{ error: { code, message } }` carries them. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export interface CallOptions {
  query?: Record<string, string | number | boolean | undefined | string[]>;
  body?: unknown;
  /** A raw body (file upload); sent as is. */
  raw?: Blob;
  timeoutMs?: number;
  signal?: AbortSignal;
}

const defaultTimeoutMs = 30_000;

/**
 * The dashboard's one way to the API: same-origin fetch with the session
 * cookie, and the session's CSRF token on every call that changes state
 * (the daemon refuses those without it).
 */
export class ApiClient {
  private csrfToken: string | null = null;

  constructor(private readonly onSignedOut: () => void) {}

  setSession(session: Session | null): void {
    this.csrfToken = session?.csrfToken ?? null;
  }

  /** A same-origin URL of a GET route, for links (downloads) and sockets: the browser sends the cookie itself. */
  url(target: RouteCall, query?: CallOptions['query']): string {
    return target.path + queryString(query);
  }

  async response(target: RouteCall, options: CallOptions = {}): Promise<Response> {
    const { method, path, route } = target;
    const headers = new Headers({ accept: 'application/json' });
    if (method !== 'GET' && method !== 'HEAD' && this.csrfToken) headers.set('x-csrf-token', this.csrfToken);
    let body: BodyInit | undefined;
    if (options.raw) {
      body = options.raw;
      headers.set('content-type', 'application/octet-stream');
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers.set('content-type', 'application/json');
    }
    const timeout = AbortSignal.timeout(options.timeoutMs ?? defaultTimeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const res = await fetch(path + queryString(options.query), { method, headers, body, credentials: 'same-origin', signal });
    if (!res.ok) throw await apiError(res, route !== 'GET /v1/sessions/current' && route !== 'POST /v1/sessions' ? this.onSignedOut : null);
    return res;
  }

  async json<T>(target: RouteCall, options: CallOptions = {}): Promise<T> {
    const res = await this.response(target, options);
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }
}

function queryString(query: CallOptions['query']): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === '') continue;
    for (const one of Array.isArray(value) ? value : [value]) params.append(name, String(one));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

async function apiError(res: Response, onSignedOut: (() => void) | null): Promise<ApiError> {
  const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | null;
  const error = new ApiError(res.status, body?.error?.code ?? `http_${res.status}`, body?.error?.message ?? res.statusText, body?.error?.details ?? {});
  // A session that ended (expiry, logout elsewhere, token revoked) sends the user back to sign in.
  if (res.status === 401 && onSignedOut) onSignedOut();
  return error;
}
