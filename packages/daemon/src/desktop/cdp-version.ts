import type { AgentClient } from '@paddock/engine';
import { z } from 'zod';

/** The most of /json/version read: it is a few hundred bytes. */
const maxAnswerBytes = 64 * 1024;

const VersionSchema = z.object({ webSocketDebuggerUrl: z.string().max(2048) });

/**
 * Asks the browser inside a sandbox, over a connection its agent opens on
 * the sandbox's loopback, for its DevTools browser endpoint
 * (/json/version). Only the path is kept, and only if it has the shape
 * Chromium gives it: the answer is the sandbox's.
 */
export async function readCdpVersion(
  agent: Pick<AgentClient, 'connect'>,
  port: number,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<{ browserPath: string }> {
  const body = await getJson(agent, port, '/json/version', maxAnswerBytes, options);
  const parsed = VersionSchema.parse(JSON.parse(body));
  const m = /^ws:\/\/[^/]+(\/devtools\/browser\/[0-9a-f-]{36})$/.exec(parsed.webSocketDebuggerUrl);
  if (!m?.[1]) throw new Error('DevTools named no browser endpoint');
  return { browserPath: m[1] };
}

/** The most of /json/list read: a few hundred bytes a tab. */
const maxListBytes = 256 * 1024;

const TargetsSchema = z
  .array(z.object({ type: z.string().max(64), title: z.string().max(4096).catch(''), url: z.string().max(8192).catch('') }).passthrough())
  .max(500);

/** The browser's pages (tabs) as DevTools lists them (/json/list), most recently active first: each one's title and URL, as the sandbox says. */
export async function readCdpPages(
  agent: Pick<AgentClient, 'connect'>,
  port: number,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<Array<{ title: string; url: string }>> {
  const body = await getJson(agent, port, '/json/list', maxListBytes, options);
  return TargetsSchema.parse(JSON.parse(body))
    .filter((t) => t.type === 'page')
    .map((t) => ({ title: t.title, url: t.url }));
}

/** One HTTP GET of DevTools' JSON, over a connection the agent opens on the sandbox's loopback; the body, bounded. */
async function getJson(
  agent: Pick<AgentClient, 'connect'>,
  port: number,
  path: string,
  limit: number,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<string> {
  const socket = await agent.connect(port, options);
  const body = await new Promise<string>((resolve, reject) => {
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(new Error('no answer from DevTools')), options.timeoutMs);
    const done = (err?: Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(got.toString('utf8'));
    };
    // Chromium keeps the connection open after its answer: the answer ends where its Content-Length says.
    socket.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length > limit) return done(new Error('DevTools answered too much'));
      const end = got.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length:\s*(\d{1,6})\r\n/i.exec(got.subarray(0, end + 2).toString('latin1'))?.[1];
      if (end >= 0 && length !== undefined && got.length >= end + 4 + Number(length)) done();
    });
    socket.on('error', (err) => done(err));
    socket.on('close', () => done());
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  });
  const start = body.indexOf('\r\n\r\n');
  if (!body.startsWith('HTTP/1.') || start < 0) throw new Error('DevTools did not answer HTTP');
  return body.slice(start + 4);
}
