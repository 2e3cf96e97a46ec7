import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { create, type MessageInitShape, toBinary, toJsonString } from '@bufbuild/protobuf';
import { Code, ConnectError, createConnectRouter, createContextValues, type HandlerContext } from '@connectrpc/connect';
import { universalServerRequestFromFetch, universalServerResponseToFetch } from '@connectrpc/connect/protocol';
import { getRequestListener } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectStreamWriter, type NodeExchange } from './connect-stream-writer.js';
import { Process, type StartRequest, StartRequestSchema, type StartResponseSchema } from './gen/process/process_pb.js';

// The writer against the maintained library's own handler, both behind
// @hono/node-server as the daemon serves them: a client must not be able to
// tell which one answered, for messages, errors, deadlines and either encoding.

type Out = MessageInitShape<typeof StartResponseSchema>;

/** Why each held stream's implementation stopped waiting, in order. */
const heldEnded: unknown[] = [];

async function* start(req: StartRequest, ctx: HandlerContext): AsyncGenerator<Out> {
  const what = req.process?.cmd;
  if (what === 'refuse') throw new ConnectError('policy_denied: not this one', Code.PermissionDenied, { 'x-paddock-error-code': 'policy_denied' });
  yield { event: { event: { case: 'start', value: { pid: 7 } } } };
  if (what === 'crash') throw new Error('a bug, not for the client');
  if (what === 'hold') {
    await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
    heldEnded.push(ctx.signal.reason);
    return;
  }
  if (what === 'wait') {
    await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
    return;
  }
  yield { event: { event: { case: 'data', value: { output: { case: 'stdout', value: new TextEncoder().encode('hi\n') } } } } };
  yield { event: { event: { case: 'end', value: { exitCode: 0, exited: true, status: 'exit status 0' } } } };
}

const writer = new ConnectStreamWriter({ method: Process.method.start, impl: start }, 1024);
const router = createConnectRouter({ readMaxBytes: 1024 });
router.service(Process, { start });
const library = router.handlers.find((h) => h.method === Process.method.start);
let server: Server;
let port: number;

beforeAll(async () => {
  const listener = getRequestListener(async (req, bindings) => {
    const env = bindings as NodeExchange;
    const query = new URL(req.url).searchParams;
    if (query.has('writer') && writer.accepts(env.incoming)) {
      const refusal = query.has('refused') ? new ConnectError('unauthorized: who are you', Code.Unauthenticated) : undefined;
      await writer.serve(env, createContextValues(), [['x-request-id', 'r-1']], refusal);
      return new Response(null, { headers: { 'x-hono-already-sent': 'true' } });
    }
    if (!library) throw new Error('the library has no handler for process.Start');
    return universalServerResponseToFetch(await library(universalServerRequestFromFetch(req, {})));
  });
  server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

interface Answer {
  status: number;
  type: string | undefined;
  frames: { flags: number; data: Buffer }[];
}

function call(through: 'writer' | 'library', body: Buffer, headers: Record<string, string>): Promise<Answer> {
  const path = `/process.Process/Start${through === 'writer' ? '?writer' : ''}`;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { ...headers, 'content-length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], frames: framesOf(Buffer.concat(chunks)) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function framesOf(body: Buffer): Answer['frames'] {
  const frames: Answer['frames'] = [];
  for (let at = 0; at + 5 <= body.length; ) {
    const length = body.readUInt32BE(at + 1);
    frames.push({ flags: body[at] as number, data: body.subarray(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return frames;
}

function enveloped(message: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

const json = { 'content-type': 'application/connect+json' };
const proto = { 'content-type': 'application/connect+proto' };
const startOf = (cmd: string) => create(StartRequestSchema, { process: { cmd, args: [], envs: {} } });
const asJson = (cmd: string) => enveloped(new TextEncoder().encode(toJsonString(StartRequestSchema, startOf(cmd))));
const asProto = (cmd: string) => enveloped(toBinary(StartRequestSchema, startOf(cmd)));

async function both(body: Buffer, headers: Record<string, string>): Promise<[Answer, Answer]> {
  return [await call('writer', body, headers), await call('library', body, headers)];
}

describe('ConnectStreamWriter answers as the Connect library does', () => {
  it('streams each message, then an end of stream, in JSON and in protobuf', async () => {
    for (const [body, headers] of [
      [asJson('ok'), json],
      [asProto('ok'), proto],
    ] as const) {
      const [mine, theirs] = await both(body, headers);
      expect(mine).toEqual(theirs);
      expect(mine.status).toBe(200);
      expect(mine.frames.map((f) => f.flags)).toEqual([0, 0, 0, 2]);
    }
  });

  it("ends with the implementation's error and its metadata, before or after the first message", async () => {
    const [refusedMine, refusedTheirs] = await both(asJson('refuse'), json);
    expect(refusedMine).toEqual(refusedTheirs);
    expect(JSON.parse(String(refusedMine.frames.at(-1)?.data))).toEqual({
      error: { code: 'permission_denied', message: 'policy_denied: not this one' },
      metadata: { 'x-paddock-error-code': ['policy_denied'] },
    });
    const [crashedMine, crashedTheirs] = await both(asJson('crash'), json);
    expect(crashedMine).toEqual(crashedTheirs);
    expect(JSON.parse(String(crashedMine.frames.at(-1)?.data))).toEqual({ error: { code: 'internal', message: 'internal error' } });
  });

  it('tells the implementation when its Connect deadline passed', async () => {
    const [mine, theirs] = await both(asJson('wait'), { ...json, 'connect-timeout-ms': '100' });
    expect(mine).toEqual(theirs);
    expect(mine.frames.map((f) => f.flags)).toEqual([0, 2]);
  });

  it('refuses a malformed or oversized request with the same codes', async () => {
    const compressed = Buffer.from(asJson('ok'));
    compressed[0] = 1;
    const endOfStream = Buffer.from([2, 0, 0, 0, 2, 123, 125]);
    for (const body of [
      Buffer.alloc(0),
      Buffer.from([0, 0, 0]),
      asJson('ok').subarray(0, 20),
      Buffer.concat([asJson('ok'), asJson('ok')]),
      Buffer.concat([endOfStream, asJson('ok')]),
      endOfStream,
      compressed,
      enveloped(Buffer.alloc(2000, 32)),
      enveloped(Buffer.from('{"process": 12}')),
    ]) {
      const [mine, theirs] = await both(body, json);
      expect(mine).toEqual(theirs);
      expect(mine.frames.at(-1)?.flags).toBe(2);
    }
    const [badTimeout, badTimeoutLibrary] = await both(asJson('ok'), { ...json, 'connect-timeout-ms': 'soon' });
    expect(badTimeout).toEqual(badTimeoutLibrary);
  });

  it('stops the implementation when the client goes away', async () => {
    const url = `/process.Process/Start?writer`;
    const body = asJson('hold');
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: url, method: 'POST', headers: { ...json, 'content-length': body.length } }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', (err: NodeJS.ErrnoException) => err.code !== 'ECONNRESET' && reject(err));
      req.end(body);
    });
    await expect.poll(() => heldEnded.length).toBe(1);
    expect(heldEnded[0]).toMatchObject({ code: Code.Canceled });
  });

  it('answers a refused call without waiting for its body', async () => {
    const answer = await new Promise<Answer>((resolve, reject) => {
      const headers = { ...json, 'content-length': 4 * 1024 * 1024 };
      const req = request({ host: '127.0.0.1', port, path: '/process.Process/Start?writer&refused', method: 'POST', headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], frames: framesOf(Buffer.concat(chunks)) });
          req.destroy();
        });
      });
      req.on('error', (err: NodeJS.ErrnoException) => err.code !== 'ECONNRESET' && reject(err));
      // The headers go, the body never does.
      req.flushHeaders();
    });
    expect(answer.status).toBe(200);
    expect(answer.frames).toHaveLength(1);
    expect(JSON.parse(String(answer.frames[0]?.data))).toEqual({ error: { code: 'unauthenticated', message: 'unauthorized: who are you' } });
  });

  it('leaves a compressed request to the library', () => {
    const incoming = { method: 'POST', headers: { ...json, 'connect-content-encoding': 'gzip' } };
    expect(writer.accepts(incoming as never)).toBe(false);
    expect(writer.accepts({ method: 'POST', headers: json } as never)).toBe(true);
    expect(writer.accepts({ method: 'POST', headers: { 'content-type': 'application/json' } } as never)).toBe(false);
  });
});
