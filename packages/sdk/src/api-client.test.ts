import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConnectionLostError, TimeoutError } from '@paddock/core/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './api-client.js';

// The SDK's HTTP client over Node's http, against a server that misbehaves on
// purpose: bodies that come in pieces, stop, or break off. A JSON answer is read
// straight from Node's stream, a streamed one through whichever way it is asked
// for; each must end the same way.
let server: Server;
let url: string;

/** A JSON body bigger than one socket read, so it arrives in several chunks. */
const big = { items: Array.from({ length: 5000 }, (_, i) => ({ i, text: `item ${i} é ✓` })) };
const bigText = JSON.stringify(big);

const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
  '/big': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    // Split inside a multi-byte character: the bytes must be joined before they are decoded.
    const at = bigText.indexOf('é') + 1;
    const bytes = Buffer.from(bigText);
    const cut = Buffer.byteLength(bigText.slice(0, at)) - 1;
    res.write(bytes.subarray(0, cut));
    setTimeout(() => res.end(bytes.subarray(cut)), 20);
  },
  '/small': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"a":1}');
  },
  '/cut': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
    res.write('{"partial": ');
    setTimeout(() => res.socket?.destroy(), 20);
  },
  '/stall': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"partial": ');
  },
  '/lines': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.write('{"n":1}\n{"n"');
    setTimeout(() => res.end(':2}\n{"n":3}\n'), 20);
  },
  '/lines-stall': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.write('{"n":1}\n');
  },
  '/lines-cut': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.write('{"n":1}\n');
    setTimeout(() => res.socket?.destroy(), 20);
  },
};

beforeAll(async () => {
  server = createServer((req, res) => routes[req.url ?? '']?.(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const get = (path: string) => ({ method: 'GET', path });

/** Timers alive in this process: a call's timeout must not outlive its body being read. */
const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('the SDK reading answers over node:http', () => {
  it('a JSON answer in several chunks, split inside a character, reads whole', async () => {
    const api = new ApiClient({ url, token: 't' });
    expect(await api.json(get('/big'))).toEqual(big);
    // As bytes: exactly the body, in an array of its own (not a view into a shared pool).
    const bytes = await (await api.fetch(get('/big'))).arrayBuffer();
    expect(bytes.byteLength).toBe(Buffer.byteLength(bigText));
    expect(Buffer.from(bytes).toString()).toBe(bigText);
    expect((await (await api.fetch(get('/small'))).arrayBuffer()).byteLength).toBe(7);
    // Taken as a web stream, as file downloads are.
    const body = (await api.fetch(get('/big'))).body;
    if (!body) throw new Error('no body');
    const chunks: Uint8Array[] = [];
    for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk);
    expect(Buffer.concat(chunks).toString()).toBe(bigText);
  });

  it('a JSON answer that breaks off is a ConnectionLostError; one that stalls ends at the timeout', async () => {
    const api = new ApiClient({ url, token: 't' });
    await expect(api.json(get('/cut'))).rejects.toBeInstanceOf(ConnectionLostError);
    const err = await api.json(get('/stall'), { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toBe('GET /stall timed out after 300ms');
    // The caller's own signal, aborted while the body is read.
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 100);
    await expect(api.json(get('/stall'), { signal: stop.signal })).rejects.toMatchObject({ code: 'aborted' });
  });

  it('a body read is read once; read late, after the timeout struck, it says so instead of waiting', async () => {
    const api = new ApiClient({ url, token: 't' });
    const before = timers();
    const once = await api.fetch(get('/small'));
    expect(await once.text()).toBe('{"a":1}');
    expect(timers()).toBe(before);
    await expect(once.text()).rejects.toThrow('the response body was read already');
    const late = await api.fetch(get('/stall'), { timeoutMs: 200 });
    await new Promise((r) => setTimeout(r, 400));
    await expect(late.text()).rejects.toBeInstanceOf(TimeoutError);
    // A body broken off while taken as a stream is a lost connection too.
    const cut = (await api.fetch(get('/cut'))).body;
    if (!cut) throw new Error('no body');
    const err = await (async () => {
      for await (const _ of cut as unknown as AsyncIterable<Uint8Array>) {
      }
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionLostError);
  });

  it('an NDJSON stream left early is closed, its timeout with it', async () => {
    const api = new ApiClient({ url, token: 't' });
    const before = timers();
    for await (const line of api.ndjson(get('/lines-stall'), { timeoutMs: 60_000 })) {
      expect(line).toEqual({ n: 1 });
      break;
    }
    expect(timers()).toBe(before);
  });

  it('NDJSON lines split across chunks come whole; a stream that breaks off ends with a ConnectionLostError after what came', async () => {
    const api = new ApiClient({ url, token: 't' });
    const lines: unknown[] = [];
    for await (const line of api.ndjson(get('/lines'))) lines.push(line);
    expect(lines).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    const before: unknown[] = [];
    const err = await (async () => {
      for await (const line of api.ndjson(get('/lines-cut'))) before.push(line);
    })().catch((e: unknown) => e);
    expect(before).toEqual([{ n: 1 }]);
    expect(err).toBeInstanceOf(ConnectionLostError);
  });
});
