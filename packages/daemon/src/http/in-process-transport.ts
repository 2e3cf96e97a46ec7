import type { ConnectionOptions } from '@paddock/sdk';

type Transport = NonNullable<ConnectionOptions['transport']>;
type TransportResponse = Awaited<ReturnType<Transport>>;

/** The daemon's own request handler (`app.fetch`). */
export type AppFetch = (request: Request) => Response | Promise<Response>;

/**
 * An SDK transport that hands each request to the daemon's app in this
 * process: the same middleware, authentication, policy and audit as a request
 * over a socket, without the socket. Aborting the request's signal rejects the
 * call, or errors its body when the response has begun.
 */
export function inProcessTransport(fetch: AppFetch): Transport {
  return async (req) => {
    req.signal.throwIfAborted();
    const init: RequestInit & { duplex?: 'half' } = { method: req.method, headers: req.headers, body: req.body as RequestInit['body'], signal: req.signal };
    if (req.body instanceof ReadableStream) init.duplex = 'half';
    const pending = Promise.resolve(fetch(new Request(req.url, init)));
    const res = await untilAborted(pending, req.signal);
    const body = res.body ? res.body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>(), { signal: req.signal }) : null;
    return responseOf(res, body);
  };
}

function responseOf(res: Response, body: ReadableStream<Uint8Array> | null): TransportResponse {
  const whole = () => new Response(body);
  return {
    status: res.status,
    ok: res.ok,
    header: (name) => res.headers.get(name),
    body,
    text: () => whole().text(),
    arrayBuffer: () => whole().arrayBuffer(),
  };
}

/** Settles with `work`, or rejects with the signal's reason if it aborts first; a response that comes too late has its body cancelled. */
function untilAborted(work: Promise<Response>, signal: AbortSignal): Promise<Response> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      reject(signal.reason);
      void work.then((late) => late.body?.cancel()).catch(() => {});
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (res) => {
        signal.removeEventListener('abort', onAbort);
        resolve(res);
      },
      (err) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
