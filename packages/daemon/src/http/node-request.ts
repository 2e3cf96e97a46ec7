import type { IncomingMessage, ServerResponse } from 'node:http';
import { PayloadTooLargeError } from '@paddock/core';
import type { Context, Next } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { HttpEnv } from './http-env.js';

/**
 * What @hono/node-server passes as a request's env: Node's own request and
 * response. Absent when the app is called in-process (app.fetch, tests).
 */
interface NodeBindings {
  incoming?: IncomingMessage;
  outgoing?: ServerResponse;
}

function nodeBindings(c: Context<HttpEnv>): NodeBindings {
  return (c.env ?? {}) as NodeBindings;
}

/**
 * An AbortSignal that fires when the client goes away before its answer was
 * sent. c.req.raw.signal gives the same, but @hono/node-server can only make
 * it by building a whole fetch Request for the call (headers, a web stream
 * over the body: ~0.1 ms of every request); this listens to Node's response.
 */
export function clientSignal(c: Context<HttpEnv>): AbortSignal {
  const { outgoing } = nodeBindings(c);
  if (!outgoing) return c.req.raw.signal;
  const gone = new AbortController();
  outgoing.once('close', () => {
    if (!outgoing.writableFinished) gone.abort(new Error('the client closed the connection'));
  });
  return gone.signal;
}

/**
 * Reads a JSON request's body straight from Node's request, refusing more
 * than `max` bytes (413), and leaves it where Hono's c.req.json() and the
 * routes' schema checks find it. Hono's bodyLimit and json() would first
 * build a fetch Request with a web stream over the same bytes. Requests
 * without Node's request (in-process) go through bodyLimit as before. A
 * route must read its body through Hono (c.req.json(), text(), its schema):
 * Node's request has been read.
 */
export async function readJsonBody(c: Context<HttpEnv>, max: number, next: Next): Promise<Response | undefined> {
  const { incoming } = nodeBindings(c);
  const tooLarge = (): never => {
    throw new PayloadTooLargeError(max);
  };
  if (!incoming || incoming.readableEnded || incoming.readableFlowing !== null)
    return (await bodyLimit({ maxSize: max, onError: tooLarge })(c, next)) ?? undefined;
  if (Number(incoming.headers['content-length']) > max) tooLarge();
  const text = await readWithin(incoming, max);
  // Hono keeps the promise of each body reading there (its type says the value).
  (c.req.bodyCache as { text?: Promise<string> }).text = Promise.resolve(text);
  await next();
  return undefined;
}

function readWithin(incoming: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        stop();
        // The rest is left unread here: the error's answer discards it, or the connection closes.
        incoming.pause();
        reject(new PayloadTooLargeError(max));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
      resolve(Buffer.concat(chunks, size).toString());
    };
    const onError = (err: Error) => {
      stop();
      reject(err);
    };
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
  });
}
