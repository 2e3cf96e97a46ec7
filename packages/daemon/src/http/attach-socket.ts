import { type OpenAPIHono, z } from '@hono/zod-openapi';
import { type AttachClientMessage, AttachClientMessageSchema, AttachServerMessageSchema, BadRequestError } from '@paddock/core';
import type { UpgradeWebSocket } from 'hono/ws';
import type { ProcessSubscriber } from '../commands/process-manager.js';
import type { HttpEnv } from './http-env.js';
import { findProcess } from './routes/command-routes.js';
import { errorResponses, ProcessParams } from './schemas.js';
import type { Services } from './services.js';

const streamTag = { stdout: 1, stderr: 2 } as const;
// A slow client holds the process's output back instead of growing the daemon's memory.
const maxBufferedBytes = 4 * 1024 * 1024;

/** Whether a request is for a WebSocket route: the only routes that take the token as ?access_token=. */
export function isWebSocketRoute(method: string, path: string): boolean {
  return method === 'GET' && /^\/v1\/sandboxes\/[^/]+\/processes\/[^/]+\/attach$/.test(path);
}

/**
 * GET /v1/sandboxes/{id}/processes/{pid}/attach: a WebSocket joined to a
 * process. Binary frames from the client are stdin; text frames are JSON
 * control messages (resize, eof, signal). The server sends output as binary
 * frames tagged 1 (stdout) or 2 (stderr) and ends with a JSON exit message.
 */
export function registerAttachSocket(app: OpenAPIHono<HttpEnv>, s: Services, upgradeWebSocket: UpgradeWebSocket): void {
  describeAttachSocket(app);
  app.get(
    '/v1/sandboxes/:id/processes/:pid/attach',
    async (c, next) => {
      const id = c.req.param('id');
      const pid = Number(c.req.param('pid'));
      const mode = c.req.query('mode');
      if (mode !== undefined && mode !== 'view') throw new BadRequestError(`mode must be view (read-only) or absent, not ${mode}`, { mode });
      // Authorize, audit and look the process up before upgrading, so errors are plain HTTP answers.
      await s.govern(c, { action: 'sandbox.attach', resource: `sandbox:${id}`, context: { pid, ...(mode ? { mode } : {}) } }, async () => {
        const proc = findProcess(s, c.get('principal').tenant, id, pid);
        // A takeover's terminal takes input from its taker alone; anyone else may only watch.
        if (mode !== 'view') s.takeovers.requireWriter(c.get('principal'), id, pid);
        return proc;
      });
      await next();
    },
    upgradeWebSocket((c) => {
      const id = c.req.param('id') as string;
      const pid = Number(c.req.param('pid'));
      const proc = s.processes.get(id, pid);
      const viewer = c.req.query('mode') === 'view';
      let unsubscribe = () => {};
      return {
        onOpen(_evt, ws) {
          const subscriber: ProcessSubscriber = {
            push(e) {
              if (e.type === 'exit') {
                ws.send(JSON.stringify({ type: 'exit', result: e.result }));
                ws.close(1000, 'exited');
                return true;
              }
              const frame = new Uint8Array(e.data.length + 1);
              frame[0] = streamTag[e.type];
              frame.set(e.data, 1);
              ws.send(frame);
              return underLimit(ws, subscriber);
            },
          };
          // The 'ws' socket has no drain event: look again until its buffer empties, then let output flow.
          const underLimit = (socket: typeof ws, sub: ProcessSubscriber): boolean => {
            const buffered = (socket.raw as { bufferedAmount?: number } | undefined)?.bufferedAmount ?? 0;
            if (buffered < maxBufferedBytes) return true;
            const wait = setInterval(() => {
              const now = (socket.raw as { bufferedAmount?: number } | undefined)?.bufferedAmount ?? 0;
              if (now < maxBufferedBytes / 4 || socket.readyState !== 1) {
                clearInterval(wait);
                proc.unblock(sub);
              }
            }, 20);
            return false;
          };
          unsubscribe = proc.subscribe(subscriber);
        },
        onMessage(evt, ws) {
          if (viewer) {
            ws.send(JSON.stringify({ type: 'error', error: { code: 'terminal_read_only', message: 'attached with mode=view: input is refused' } }));
            return;
          }
          if (typeof evt.data !== 'string') {
            const data = Buffer.from(evt.data as ArrayBuffer);
            s.takeovers.recordInput(id, pid, data);
            void proc.write(data);
            return;
          }
          let msg: AttachClientMessage;
          try {
            msg = JSON.parse(evt.data) as AttachClientMessage;
          } catch {
            return;
          }
          if (msg.type === 'resize' && Number.isInteger(msg.cols) && Number.isInteger(msg.rows)) proc.resize(msg.cols, msg.rows);
          else if (msg.type === 'eof') proc.closeStdin();
          else if (msg.type === 'signal' && typeof msg.signal === 'string' && /^SIG[A-Z0-9]+$/.test(msg.signal)) {
            try {
              proc.signal(msg.signal);
            } catch {
              // unknown signal names are ignored on this channel
            }
          }
        },
        onClose() {
          unsubscribe();
        },
      };
    }),
  );
}

/**
 * The attach route in /openapi.json. OpenAPI has no words for a WebSocket: it
 * is a GET that asks to upgrade and answers 101, its frames described in
 * x-websocket, with the JSON Schema of the messages the SDK and the daemon share.
 */
function describeAttachSocket(app: OpenAPIHono<HttpEnv>): void {
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/v1/sandboxes/{id}/processes/{pid}/attach',
    tags: ['commands'],
    summary: 'Join a running process over a WebSocket',
    description:
      'A WebSocket (send `Upgrade: websocket`) joined to a process: stdin in, output out, resize and signals. ' +
      'Binary frames from the client are stdin; text frames are JSON control messages (resize, eof, signal; their schema in x-websocket). ' +
      'The server sends output as binary frames whose first byte is 1 (stdout) or 2 (stderr), then a JSON exit message ' +
      'and closes with 1000. Authorization, audit and the process lookup happen before the upgrade, ' +
      'so their errors are plain HTTP answers. A browser, which cannot set headers here, may send the token as ?access_token= ' +
      "(or, signed in to the dashboard, its session cookie from the daemon's own origin). Several clients may attach at once; " +
      "?mode=view attaches read-only. A takeover's terminal takes input from its taker alone: anyone else attaches with mode=view.",
    request: {
      params: ProcessParams,
      headers: z.object({ upgrade: z.literal('websocket'), connection: z.string().describe('names Upgrade') }),
      query: z.object({
        access_token: z.string().optional().describe('the bearer token, for browsers; this route only'),
        mode: z.literal('view').optional().describe('read-only: output only; every frame sent is refused with an error message'),
      }),
    },
    responses: { 101: { description: 'switching to the WebSocket protocol' }, ...errorResponses },
    'x-websocket': {
      clientFrames: { binary: 'stdin bytes', text: messageSchema(AttachClientMessageSchema) },
      serverFrames: { binary: 'first byte 1 (stdout) or 2 (stderr), then the output bytes', text: messageSchema(AttachServerMessageSchema) },
    },
  });
}

/** A message schema as the document's JSON Schema, without the dialect line (the document's is 2020-12 already). */
function messageSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: 'input' });
  return rest;
}
