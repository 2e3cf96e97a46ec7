import type { IncomingMessage, ServerResponse } from 'node:http';
import { create, type DescMessage, type DescMethodServerStreaming, isMessage, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import { Code, ConnectError, type ContextValues, createHandlerContext, type HandlerContext } from '@connectrpc/connect';
import { compressedFlag, createMethodSerializationLookup, type MethodSerializationLookup } from '@connectrpc/connect/protocol';
import {
  contentTypeStreamJson,
  contentTypeStreamProto,
  createEndStreamSerialization,
  endStreamFlag,
  headerStreamEncoding,
  headerTimeout,
  parseContentType,
  parseTimeout,
} from '@connectrpc/connect/protocol-connect';

/** A server-streaming method's implementation, as the service objects give it. */
export type ServerStreamImpl<I extends DescMessage, O extends DescMessage> = (
  req: MessageShape<I>,
  ctx: HandlerContext,
) => AsyncIterable<MessageShape<O> | MessageInitShape<O>>;

export interface ServerStream<I extends DescMessage, O extends DescMessage> {
  method: DescMethodServerStreaming<I, O>;
  impl: ServerStreamImpl<I, O>;
}

/** The Node request and response under the app's fetch Request, when it runs on a Node server (not app.request()). */
export interface NodeExchange {
  incoming: IncomingMessage;
  outgoing: ServerResponse;
}

/** Besides the Connect headers a response starts with (the request id, say). */
export type ExtraHeaders = Iterable<[string, string]>;

/**
 * Connect's server-streaming calls (process.Start above all: every
 * commands.run) answered straight on Node's request and response. The
 * library's handler goes through web streams and async-iterable transforms
 * both ways, and the Node adapter then holds the first message back for a
 * timer tick (it waits to see whether a second chunk is ready); here each
 * message is one write as soon as the implementation yields it. The
 * serializers, the end-of-stream message and the handler context are the
 * library's own, so the bytes on the wire are the same. A request in a
 * shape this does not take (compressed, not a Connect stream) returns
 * false before anything is read, and the library answers it.
 */
export class ConnectStreamWriter<I extends DescMessage, O extends DescMessage> {
  private readonly serialization: MethodSerializationLookup<I, O>;
  private readonly endStream = createEndStreamSerialization(undefined);

  constructor(
    private readonly stream: ServerStream<I, O>,
    private readonly readMaxBytes: number,
  ) {
    this.serialization = createMethodSerializationLookup(stream.method, undefined, undefined, { readMaxBytes, writeMaxBytes: 0xffffffff });
  }

  /** Whether this writer takes the request: a Connect stream, uncompressed, as a POST. */
  accepts(incoming: IncomingMessage): boolean {
    const type = parseContentType(incoming.headers['content-type'] ?? null);
    const encoding = incoming.headers[headerStreamEncoding.toLowerCase()];
    return incoming.method === 'POST' && type?.stream === true && (encoding === undefined || encoding === 'identity');
  }

  /**
   * Answers the call; resolves once the response ended (or the client went
   * away). A call already refused (no valid token) is answered with that
   * error without its body being read: nobody unauthenticated gets
   * megabytes held in the daemon's memory.
   */
  async serve({ incoming, outgoing }: NodeExchange, values: ContextValues, extraHeaders: ExtraHeaders, refusal?: ConnectError): Promise<void> {
    const binary = parseContentType(incoming.headers['content-type'] ?? null)?.binary === true;
    const closed = new AbortController();
    const onClose = () => {
      if (!outgoing.writableFinished) closed.abort(new ConnectError('the client went away', Code.Canceled));
    };
    outgoing.once('close', onClose);
    const timeout = parseTimeout(single(incoming.headers[headerTimeout.toLowerCase()]), Number.MAX_SAFE_INTEGER);
    const ctx = createHandlerContext({
      service: this.stream.method.parent,
      method: this.stream.method,
      protocolName: 'connect',
      requestMethod: 'POST',
      url: `http://localhost${incoming.url ?? '/'}`,
      timeoutMs: timeout.timeoutMs,
      requestSignal: closed.signal,
      requestHeader: headersOf(incoming),
      responseHeader: { 'content-type': binary ? contentTypeStreamProto : contentTypeStreamJson },
      contextValues: values,
    });
    let started = false;
    const start = () => {
      if (started) return;
      started = true;
      const head: Record<string, string> = {};
      for (const [k, v] of extraHeaders) if (k !== 'content-type') head[k] = v;
      ctx.responseHeader.forEach((v, k) => {
        head[k] = v;
      });
      outgoing.writeHead(200, head);
    };
    let error: ConnectError | undefined;
    try {
      if (refusal) throw refusal;
      if (timeout.error) throw timeout.error;
      const input = this.serialization.getI(binary).parse(await this.readSingleMessage(incoming));
      const output = this.serialization.getO(binary);
      for await (const message of this.stream.impl(input, ctx)) {
        const data = output.serialize(isMessage(message, this.stream.method.output) ? message : create(this.stream.method.output, message));
        start();
        if (!outgoing.write(envelope(0, data))) await drained(outgoing, ctx.signal);
        if (ctx.signal.aborted) break;
      }
    } catch (err) {
      error = err instanceof ConnectError ? err : new ConnectError('internal error', Code.Internal, undefined, undefined, err);
    } finally {
      ctx.abort();
      outgoing.off('close', onClose);
    }
    if (outgoing.destroyed) return;
    start();
    outgoing.end(envelope(endStreamFlag, this.endStream.serialize({ metadata: ctx.responseTrailer, error })));
  }

  /**
   * The one message a server-streaming call sends, refused with the library's
   * codes: an end-of-stream envelope is skipped, a compressed one is not
   * understood (no compression is offered), a message over readMaxBytes is
   * refused from its header, before it is read.
   */
  private async readSingleMessage(incoming: IncomingMessage): Promise<Uint8Array> {
    const body = await this.readBody(incoming);
    const messages: Uint8Array[] = [];
    for (let at = 0; at < body.length; ) {
      if (body.length - at < 5) throw incompleteEnvelope();
      const flags = body[at] as number;
      const length = body.readUInt32BE(at + 1);
      if (length > this.readMaxBytes) throw tooLarge(length, this.readMaxBytes);
      if (body.length - at - 5 < length) throw incompleteEnvelope();
      const data = body.subarray(at + 5, at + 5 + length);
      at += 5 + length;
      if ((flags & compressedFlag) === compressedFlag) throw new ConnectError('received compressed envelope, but do not know how to decompress', Code.Internal);
      if ((flags & endStreamFlag) !== endStreamFlag) messages.push(data);
    }
    if (messages.length === 0) throw new ConnectError('protocol error: missing input message for server-streaming method', Code.Unimplemented);
    if (messages.length > 1) throw extraMessage();
    return messages[0] as Uint8Array;
  }

  /** The request body; more than two envelopes' worth is more than the one message a call may send. */
  private async readBody(incoming: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    let headerRead = false;
    for await (const chunk of incoming as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (!headerRead && size >= 5) {
        headerRead = true;
        const length = Buffer.concat(chunks).readUInt32BE(1);
        if (length > this.readMaxBytes) throw tooLarge(length, this.readMaxBytes);
      }
      if (size > 2 * (this.readMaxBytes + 5)) throw extraMessage();
    }
    return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
  }
}

const incompleteEnvelope = () => new ConnectError('protocol error: incomplete envelope', Code.InvalidArgument);
const extraMessage = () => new ConnectError('protocol error: received extra input message for server-streaming method', Code.Unimplemented);
const tooLarge = (size: number, max: number) => new ConnectError(`message size ${size} is larger than configured readMaxBytes ${max}`, Code.ResourceExhausted);

function envelope(flags: number, data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + data.length);
  out[0] = flags;
  out.writeUInt32BE(data.length, 1);
  out.set(data, 5);
  return out;
}

function drained(outgoing: ServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      outgoing.off('drain', done);
      outgoing.off('close', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    outgoing.on('drain', done);
    outgoing.on('close', done);
    signal.addEventListener('abort', done);
  });
}

function headersOf(incoming: IncomingMessage): Headers {
  const headers = new Headers();
  const raw = incoming.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i] as string, raw[i + 1] as string);
  return headers;
}

function single(value: string | string[] | undefined): string | null {
  return (Array.isArray(value) ? value[0] : value) ?? null;
}
