import { CallToolRequestSchema, CancelledNotificationSchema, type RequestId } from '@modelcontextprotocol/sdk/types.js';

/** A tools/call a server answers from its tool table itself, past the MCP SDK's protocol layer. */
export interface DirectCall {
  id: RequestId;
  name: string;
  args: Record<string, unknown>;
}

/**
 * The tools/call in a JSON-RPC message, when the SDK's protocol layer would
 * hand it to the tools/call handler as it is: one request (no batch) with a
 * string or integer id, params passing the SDK's own CallToolRequestSchema,
 * and no task. Anything else is undefined and goes to the SDK, which answers
 * it as it always has, its errors included.
 */
export function plainToolsCall(message: unknown): DirectCall | undefined {
  if (!isPlainObject(message) || message.method !== 'tools/call' || message.jsonrpc !== '2.0') return undefined;
  const id = message.id;
  if (typeof id !== 'string' && !(typeof id === 'number' && Number.isInteger(id))) return undefined;
  const parsed = CallToolRequestSchema.safeParse({ method: message.method, params: message.params });
  if (!parsed.success || parsed.data.params.task !== undefined) return undefined;
  return { id, name: parsed.data.params.name, args: parsed.data.params.arguments ?? {} };
}

/** The request ids a message's notifications/cancelled name (one message or a batch). */
export function cancelledIds(body: unknown): RequestId[] {
  const messages = Array.isArray(body) ? body : [body];
  const ids: RequestId[] = [];
  for (const message of messages) {
    // Looked at by method first: nearly every message is something else, and a failed parse is the dear kind.
    if (!isPlainObject(message) || message.method !== 'notifications/cancelled') continue;
    const cancelled = CancelledNotificationSchema.safeParse(message);
    if (cancelled.success && cancelled.data.params.requestId !== undefined) ids.push(cancelled.data.params.requestId);
  }
  return ids;
}

/**
 * The direct calls in flight, by id. Each is aborted as the SDK's protocol
 * aborts a handler: by a notifications/cancelled naming its id (`cancel`),
 * and by any of the signals it was started with (the session's end, the
 * client's going away).
 */
export class DirectCalls {
  private readonly inFlight = new Map<RequestId, AbortController>();

  /** Runs one call; `signal` in `work` aborts with the first of `until` to abort, or a cancellation. */
  async run<T>(id: RequestId, work: (signal: AbortSignal) => Promise<T>, until: (AbortSignal | undefined)[]): Promise<{ result: T; cancelled: boolean }> {
    const own = new AbortController();
    const watched = until.filter((s): s is AbortSignal => s !== undefined);
    const abort = (event: Event) => own.abort((event.target as AbortSignal).reason);
    this.inFlight.set(id, own);
    for (const signal of watched) {
      if (signal.aborted) own.abort(signal.reason);
      else signal.addEventListener('abort', abort, { once: true });
    }
    try {
      const result = await work(own.signal);
      return { result, cancelled: own.signal.aborted };
    } finally {
      if (this.inFlight.get(id) === own) this.inFlight.delete(id);
      for (const signal of watched) signal.removeEventListener('abort', abort);
    }
  }

  cancel(ids: RequestId[]): void {
    for (const id of ids) this.inFlight.get(id)?.abort(new Error('the client cancelled the call'));
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
