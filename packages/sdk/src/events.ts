import type { EventTopic, LiveEventMessage, StatsSample } from '@paddock/core';
import { ConnectionLostError, PaddockError } from '@paddock/core/client';
import { ApiClient, type ConnectionOptions, type RequestOptions } from './api-client.js';
import { apiCall } from './api-routes.js';

type CallOptions = ConnectionOptions & RequestOptions;

export interface EventsSubscribeOptions extends CallOptions {
  /** Default: every topic the token may read (the `ready` event says which). */
  topics?: EventTopic[];
}

/**
 * The daemon's live events (server-sent events): sandboxes
 * made, changed and ended, metrics each sampling tick, approvals, audit
 * records and statistics, each as the API would show them to this token.
 *
 *   await Events.subscribe({ topics: ['sandbox', 'metrics'], signal }, (e) => {
 *     if (e.event === 'sandbox') console.log(e.data.kind, e.data.sandbox.id)
 *   })
 */
export const Events = {
  /**
   * Calls `onEvent` with each event until `signal` aborts (then it resolves).
   * If the daemon ends the stream (it stops, or dropped a client that read too
   * slowly) it rejects with a ConnectionLostError: subscribe again.
   */
  async subscribe(options: EventsSubscribeOptions, onEvent: (event: LiveEventMessage) => void): Promise<void> {
    const { topics, ...call } = options;
    const query = { topics: topics?.join(',') };
    const api = new ApiClient(call);
    try {
      const res = await api.fetch(apiCall('GET /v1/events'), {
        query,
        headers: { accept: 'text/event-stream' },
        timeoutMs: call.timeoutMs ?? 0,
        signal: call.signal,
      });
      if (res.body) await readEvents(res.body as unknown as AsyncIterable<Uint8Array>, onEvent);
    } catch (err) {
      if (call.signal?.aborted) return;
      // A stream the daemon cut (a revoked token, a client dropped as too slow) breaks mid-body.
      if (err instanceof PaddockError) throw err;
      throw lost(api);
    }
    if (call.signal?.aborted) return;
    throw lost(api);
  },
};

function lost(api: ApiClient): ConnectionLostError {
  return new ConnectionLostError(`the daemon at ${api.url} ended the events stream; subscribe again`);
}

/** The daemon's statistics: one sample per 10 s over the last 30 minutes, the caller's tenant's. */
export const Stats = {
  async history(options: CallOptions = {}): Promise<StatsSample[]> {
    return (await new ApiClient(options).json<{ history: StatsSample[] }>(apiCall('GET /v1/stats'), options)).history;
  },
};

/** Server-sent events: blank-line separated blocks of `event:` and `data:` lines; `:` lines are comments (pings). */
async function readEvents(body: AsyncIterable<Uint8Array>, onEvent: (event: LiveEventMessage) => void): Promise<void> {
  const decoder = new TextDecoder();
  let pending = '';
  for await (const chunk of body) {
    pending += decoder.decode(chunk, { stream: true });
    let end = pending.indexOf('\n\n');
    while (end >= 0) {
      const block = pending.slice(0, end);
      pending = pending.slice(end + 2);
      const message = parseBlock(block);
      if (message) onEvent(message);
      end = pending.indexOf('\n\n');
    }
  }
}

function parseBlock(block: string): LiveEventMessage | undefined {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0) return undefined;
  return { event, data: JSON.parse(data.join('\n')) } as LiveEventMessage;
}
