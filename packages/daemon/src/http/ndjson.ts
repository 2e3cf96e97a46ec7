/**
 * A streamed NDJSON response body with back-pressure: `send` returns false
 * when the client is not keeping up, and `onDrain` fires when it wants more.
 */
export interface NdjsonSink {
  send(value: unknown): boolean;
  close(): void;
}

export function ndjsonStream(start: (sink: NdjsonSink) => void, hooks: { onDrain?: () => void; onCancel?: () => void } = {}): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let closed = false;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        start({
          send(value) {
            if (closed) return false;
            controller.enqueue(encoder.encode(`${JSON.stringify(value)}\n`));
            return (controller.desiredSize ?? 1) > 0;
          },
          close() {
            if (closed) return;
            closed = true;
            controller.close();
          },
        });
      },
      pull() {
        hooks.onDrain?.();
      },
      cancel() {
        closed = true;
        hooks.onCancel?.();
      },
    },
    { highWaterMark: 32 },
  );
}

/**
 * A new object for each response: @hono/node-server writes the Content-Length
 * of a string body into the headers object it was given, so one shared object
 * would hand that length to every later NDJSON answer and cut them short.
 */
export function ndjsonHeaders(): Record<string, string> {
  return { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' };
}

/**
 * Streamed bodies (NDJSON, tar, raw bytes) are plain Responses; the typed-route
 * helpers only know JSON bodies, so the handler's return type is widened here.
 */
export function streamed(response: Response): never {
  return response as never;
}
