import { ConnectionLostError, errorFromBody, formatDuration, PaddockError, TimeoutError } from '@paddock/core/client';
import type { ApiCall } from './api-routes.js';
import { resolveConnection } from './resolve-connection.js';
import { defaultTransport, readAll, type Transport, type TransportRequest, type TransportResponse } from './transport.js';

export interface ConnectionOptions {
  /** Daemon URL; defaults to PADDOCK_URL, then the local daemon's (endpoint.json in PADDOCK_STATE_DIR or /var/lib/paddock), then http://127.0.0.1:7423. */
  url?: string;
  /** Bearer token; defaults to PADDOCK_TOKEN, then the local daemon's token file when talking to the local daemon. */
  token?: string;
  /** Default timeout of each API request, in ms (60 s). */
  requestTimeoutMs?: number;
  /** How requests are sent; node:http on Node, fetch elsewhere. */
  transport?: Transport;
  /** PEM of the certificate authorities to trust for an https URL, in place of Node's built-in ones (a daemon with a self-signed certificate); Node only. */
  ca?: string;
  /** A file holding that PEM; defaults to PADDOCK_CA_FILE. Node only. */
  caFile?: string;
}

/** Every call takes these: a per-call timeout and a signal to cancel it. */
export interface RequestOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

interface CallSpec extends RequestOptions {
  query?: Record<string, string | string[] | number | boolean | undefined>;
  json?: unknown;
  body?: TransportRequest['body'];
  headers?: Record<string, string>;
}

interface StreamSpec extends CallSpec {
  /** A follow: its own signal's abort is how it is meant to end, so the iteration just ends. */
  endOnAbort?: boolean;
}

/** Thin HTTP client: auth, timeouts, cancellation and typed errors. */
export class ApiClient {
  readonly url: string;
  // A private field, not a property: console.log, util.inspect and JSON.stringify never see it.
  readonly #token: string | undefined;
  private readonly requestTimeoutMs: number;
  private readonly transport: Transport;
  private readonly ca: string | undefined;

  constructor(options: ConnectionOptions = {}) {
    const conn = resolveConnection(options);
    this.ca = conn.ca;
    this.transport = options.transport ?? defaultTransport({ ca: conn.ca });
    this.url = conn.url.replace(/\/+$/, '');
    this.#token = conn.token;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
  }

  toJSON(): { url: string } {
    return { url: this.url };
  }

  toString(): string {
    return `ApiClient(${this.url})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `ApiClient { url: ${JSON.stringify(this.url)} }`;
  }

  async json<T>(call: ApiCall, spec: CallSpec = {}): Promise<T> {
    const res = await this.fetch(call, spec);
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw this.lost(err);
    }
    return JSON.parse(text) as T;
  }

  /** Performs a request and returns the response once its status is known to be a success. */
  async fetch(call: ApiCall, spec: CallSpec = {}): Promise<TransportResponse> {
    const { method, path } = call;
    const timeoutMs = spec.timeoutMs ?? this.requestTimeoutMs;
    const controller = new AbortController();
    const timer =
      timeoutMs > 0
        ? setTimeout(() => controller.abort(new TimeoutError(`${method} ${path} timed out after ${formatDuration(timeoutMs)}`, { timeoutMs })), timeoutMs)
        : undefined;
    const onAbort = () => controller.abort(spec.signal?.reason);
    // A signal aborted before the call never fires its event: the call must not start as if nothing happened.
    if (spec.signal?.aborted) onAbort();
    else spec.signal?.addEventListener('abort', onAbort, { once: true });
    const headers: Record<string, string> = { ...spec.headers };
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    let body = spec.body;
    if (spec.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(spec.json);
    }
    let guarded = false;
    try {
      const res = await this.transport({ method, url: this.url + path + queryString(spec.query), headers, body, signal: controller.signal });
      if (!res.ok) {
        const text = await res.text();
        let parsed: { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = { error: { message: text.slice(0, 500) || `HTTP ${res.status}` } };
        }
        throw errorFromBody(res.status, parsed);
      }
      // The timer and the caller's signal keep guarding the body until it is read (an answer without one is done).
      if ((timer || spec.signal) && !answersWithoutBody(method, res.status)) {
        guarded = true;
        return guardResponse(
          res,
          () => {
            clearTimeout(timer);
            spec.signal?.removeEventListener('abort', onAbort);
          },
          (err) => (controller.signal.aborted ? abortError(controller.signal) : this.lost(err)),
        );
      }
      clearTimeout(timer);
      return res;
    } catch (err) {
      clearTimeout(timer);
      if (err instanceof PaddockError) throw err;
      if (controller.signal.aborted) throw abortError(controller.signal);
      if (!refused(err)) throw this.lost(err);
      throw new PaddockError('connection_failed', 503, `cannot reach Paddock at ${this.url}: ${(err as Error).message}`);
    } finally {
      if (!guarded) spec.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Reads an NDJSON response as a stream of parsed events. */
  async *ndjson<T>(call: ApiCall, spec: StreamSpec = {}): AsyncGenerator<T> {
    try {
      yield* this.events<T>(call, spec);
    } catch (err) {
      if (spec.endOnAbort && spec.signal?.aborted) return;
      throw err;
    }
  }

  private async *events<T>(call: ApiCall, spec: CallSpec): AsyncGenerator<T> {
    const res = await this.fetch(call, { ...spec, headers: { ...spec.headers, accept: 'application/x-ndjson' } });
    const decoder = new TextDecoder();
    let pending = '';
    const chunks = bodyChunks(res)[Symbol.asyncIterator]();
    let done = false;
    try {
      for (;;) {
        let next: IteratorResult<Uint8Array>;
        try {
          next = await chunks.next();
        } catch (err) {
          done = true;
          throw this.lost(err);
        }
        if (next.done) {
          done = true;
          break;
        }
        pending += decoder.decode(next.value, { stream: true });
        let nl = pending.indexOf('\n');
        while (nl >= 0) {
          const line = pending.slice(0, nl).trim();
          pending = pending.slice(nl + 1);
          if (line) yield JSON.parse(line) as T;
          nl = pending.indexOf('\n');
        }
      }
    } finally {
      // A caller that stopped early: the body is closed now, and with it the call's timer and socket.
      if (!done) await chunks.return?.();
    }
    if (pending.trim()) yield JSON.parse(pending) as T;
  }

  /** A broken connection mid-call; our own errors (a timeout, an abort) pass as they are. */
  private lost(err: unknown): PaddockError {
    if (err instanceof PaddockError) return err;
    return new ConnectionLostError(`the connection to Paddock at ${this.url} was lost (${(err as Error).message}); the call can be made again once it is back`);
  }

  /** URL, headers and the CA to trust for a WebSocket to the daemon (wss for an https daemon). */
  socketTarget(call: ApiCall): { url: string; headers: Record<string, string>; ca?: string } {
    return {
      url: this.url.replace(/^http/, 'ws') + call.path,
      headers: this.#token ? { authorization: `Bearer ${this.#token}` } : {},
      ...(this.ca ? { ca: this.ca } : {}),
    };
  }
}

/** The daemon was not there at all (nothing sent), as opposed to a connection that broke. */
function refused(err: unknown): boolean {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  const code = e?.code ?? e?.cause?.code;
  return typeof code !== 'string' || ['ECONNREFUSED', 'ENOENT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EACCES'].includes(code);
}

function queryString(query: CallSpec['query']): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    for (const item of Array.isArray(v) ? v : [v]) params.append(k, String(item));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

/** Why a call ended early: its timeout (a TimeoutError) or the caller's signal. */
function abortError(signal: AbortSignal): PaddockError {
  return signal.reason instanceof PaddockError ? signal.reason : new PaddockError('aborted', 499, 'request aborted');
}

function answersWithoutBody(method: string, status: number): boolean {
  return method === 'HEAD' || status === 204 || status === 205 || status === 304;
}

/**
 * The response with its body guarded until it is read, whichever way it is
 * read: as a stream (taken only if asked for) or whole.
 */
function guardResponse(res: TransportResponse, onEnd: () => void, explain: (err: unknown) => unknown): TransportResponse {
  let body: ReadableStream<Uint8Array> | null | undefined;
  let readWhole = false;
  const whole = async (): Promise<Uint8Array> => {
    if (body !== undefined) return body ? readAll(body) : new Uint8Array();
    if (readWhole) throw new Error('the response body was read already');
    readWhole = true;
    try {
      return new Uint8Array(await res.arrayBuffer());
    } catch (err) {
      throw explain(err);
    } finally {
      onEnd();
    }
  };
  const guarded = {
    status: res.status,
    ok: res.ok,
    header: (name: string) => res.header(name),
    get body() {
      if (body === undefined) {
        const raw = res.body;
        body = raw && guardBody(raw, onEnd, explain);
        if (!raw) onEnd();
      }
      return body;
    },
    text: async () => new TextDecoder().decode(await whole()),
    arrayBuffer: async () => (await whole()).buffer as ArrayBuffer,
    async *chunks(): AsyncGenerator<Uint8Array> {
      if (body !== undefined || !res.chunks) return yield* bodyChunks({ body: guarded.body });
      try {
        yield* res.chunks();
      } catch (err) {
        throw explain(err);
      } finally {
        onEnd();
      }
    },
  };
  return guarded;
}

/** A response's chunks: its own way of giving them if it has one, else its web stream's. */
function bodyChunks(res: Pick<TransportResponse, 'body' | 'chunks'>): AsyncIterable<Uint8Array> {
  if (res.chunks) return res.chunks();
  return (res.body ?? noChunks()) as unknown as AsyncIterable<Uint8Array>;
}

async function* noChunks(): AsyncGenerator<Uint8Array> {}

/** A body cut short by the timeout or the signal fails with why, not with the socket's bare `aborted`. */
function guardBody(body: ReadableStream<Uint8Array>, onEnd: () => void, explain: (err: unknown) => unknown): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          onEnd();
          controller.close();
        } else controller.enqueue(value);
      } catch (err) {
        onEnd();
        controller.error(explain(err));
      }
    },
    cancel(reason) {
      onEnd();
      return reader.cancel(reason);
    },
  });
}
