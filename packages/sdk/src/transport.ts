import { takeHead } from '@paddock/core/client';

/** What the client needs of an HTTP response, whichever transport produced it. */
export interface TransportResponse {
  status: number;
  ok: boolean;
  header(name: string): string | null;
  body: ReadableStream<Uint8Array> | null;
  text(): Promise<string>;
  arrayBuffer(): Promise<ArrayBuffer>;
  /** The body's chunks as they come, without a web stream where the runtime has a cheaper way (absent: `body` is read). */
  chunks?(): AsyncIterable<Uint8Array>;
}

export interface TransportRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string | Uint8Array | ArrayBuffer | Blob | ReadableStream<Uint8Array> | null;
  signal: AbortSignal;
}

export type Transport = (req: TransportRequest) => Promise<TransportResponse>;

/** Works in any runtime with fetch (browsers, Deno, Bun, Node). */
export const fetchTransport: Transport = async (req) => {
  const init: RequestInit & { duplex?: 'half' } = { method: req.method, headers: req.headers, body: req.body as RequestInit['body'], signal: req.signal };
  if (req.body instanceof ReadableStream) init.duplex = 'half';
  const res = await fetch(req.url, init);
  return {
    status: res.status,
    ok: res.ok,
    header: (name) => res.headers.get(name),
    body: res.body,
    text: () => res.text(),
    arrayBuffer: () => res.arrayBuffer(),
  };
};

interface NodeModules {
  http: typeof import('node:http');
  stream: typeof import('node:stream');
}

let nodeModules: Promise<NodeModules> | undefined;
let httpsModule: Promise<typeof import('node:https')> | undefined;

/** Loaded apart, for https URLs only: TLS adds ~2 ms of start-up, and a local daemon speaks plain http. */
function loadHttps(): Promise<typeof import('node:https')> {
  httpsModule ??= import('node:https').then((m) => m.default);
  return httpsModule;
}

/**
 * On Node, node:http: Node's fetch loads its HTTP stack on first use, which
 * costs a short-lived CLI call ~80 ms of its ~150 ms budget.
 */
export const nodeHttpTransport: Transport = (req) => nodeRequest(req, undefined);

/** node:http(s) trusting `ca` (PEM) in place of Node's built-in certificate authorities, for a daemon with its own certificate. */
export function nodeHttpTransportTrusting(ca: string): Transport {
  return (req) => nodeRequest(req, ca);
}

async function nodeRequest(req: TransportRequest, ca: string | undefined): Promise<TransportResponse> {
  nodeModules ??= Promise.all([import('node:http'), import('node:stream')]).then(
    ([http, stream]): NodeModules => ({ http: http.default, stream: stream.default }),
  );
  const { http, stream } = await nodeModules;
  const url = new URL(req.url);
  const client = url.protocol === 'https:' ? await loadHttps() : http;
  return new Promise<TransportResponse>((resolve, reject) => {
    const request = client.request(url, { method: req.method, headers: req.headers, signal: req.signal, ...(ca ? { ca } : {}) }, (res) => {
      const status = res.statusCode ?? 0;
      // A web stream only for a caller that takes the body as one: a JSON answer is read from Node's
      // stream as it is (converting cost each call a few web-stream objects, and a short-lived CLI
      // the loading of Node's web-stream code, ~3 ms).
      let web: ReadableStream<Uint8Array> | undefined;
      const whole = () => (web ? readAll(web) : readNodeStream(res));
      resolve({
        status,
        ok: status >= 200 && status < 300,
        header: (name) => {
          const v = res.headers[name.toLowerCase()];
          return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
        },
        get body() {
          web ??= stream.Readable.toWeb(res) as ReadableStream<Uint8Array>;
          return web;
        },
        text: async () => new TextDecoder().decode(await whole()),
        arrayBuffer: async () => (await whole()).buffer as ArrayBuffer,
        chunks: () => (web ?? res) as AsyncIterable<Uint8Array>,
      });
    });
    request.on('error', reject);
    void sendBody(request, req.body, stream).catch((err: Error) => request.destroy(err));
  });
}

async function sendBody(request: import('node:http').ClientRequest, body: TransportRequest['body'], stream: typeof import('node:stream')): Promise<void> {
  if (body === undefined || body === null) return void request.end();
  if (typeof body === 'string' || body instanceof Uint8Array) return void request.end(body);
  if (body instanceof ArrayBuffer) return void request.end(new Uint8Array(body));
  const source = body instanceof ReadableStream ? body : body.stream();
  await new Promise<void>((resolve, reject) => {
    const readable = stream.Readable.fromWeb(source as import('node:stream/web').ReadableStream);
    readable.on('error', reject);
    request.on('error', reject);
    readable.pipe(request).on('finish', resolve);
  });
}

/** A CA of one's own needs Node: fetch in a browser trusts what the browser trusts. */
export function defaultTransport(options: { ca?: string } = {}): Transport {
  if (typeof process === 'undefined' || !process.versions?.node) return fetchTransport;
  return options.ca ? nodeHttpTransportTrusting(options.ca) : nodeHttpTransport;
}

/** Reads the whole of Node's response into one array of its own; one cut short (an abort, a lost connection) rejects. */
function readNodeStream(res: import('node:http').IncomingMessage): Promise<Uint8Array> {
  // Iterating an ended stream would give nothing, as if the body were empty.
  if (res.readableEnded) return Promise.reject(new Error('the response body was read already'));
  return readAll(res);
}

/** Reads a whole stream (a web one, or any async iterable of chunks) into one array. */
export async function readAll(stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  return (await takeHead(stream as unknown as AsyncIterable<Uint8Array>, Number.POSITIVE_INFINITY)).bytes;
}
