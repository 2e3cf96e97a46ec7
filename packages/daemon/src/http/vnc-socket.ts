import type { Socket } from 'node:net';
import { type OpenAPIHono, z } from '@hono/zod-openapi';
import { BadRequestError, PolicyDeniedError } from '@paddock/core';
import type { UpgradeWebSocket, WSContext } from 'hono/ws';
import { RfbViewFilter, RfbViolation } from '../desktop/rfb-view-filter.js';
import type { HttpEnv } from './http-env.js';
import { errorResponses, SandboxIdParams } from './schemas.js';
import type { Services } from './services.js';

// A slow watcher holds the desktop's picture back instead of growing the daemon's memory.
const maxBufferedBytes = 4 * 1024 * 1024;
/** What a client may send before the desktop's VNC server has answered the connection. */
const maxEarlyBytes = 64 * 1024;

/**
 * GET /v1/sandboxes/{id}/desktop/vnc?mode=view|control: the desktop's VNC
 * (RFB) stream over a WebSocket of the API itself, for noVNC in the control
 * tower: signed in by the dashboard's session cookie from the daemon's own
 * origin, or a bearer token. Binary messages both ways are the RFB bytes.
 * `view` (for anyone who may see the desktop) reaches the VNC server that
 * takes no input, through a filter that drops every key, pointer and
 * clipboard message the client sends; `control` is the taker's alone,
 * reaches the one that takes input, and closes the moment they no longer
 * hold the sandbox.
 */
export function registerVncSocket(app: OpenAPIHono<HttpEnv>, s: Services, upgradeWebSocket: UpgradeWebSocket): void {
  describeVncSocket(app);
  app.get(
    '/v1/sandboxes/:id/desktop/vnc',
    async (c, next) => {
      const id = c.req.param('id');
      const mode = c.req.query('mode') ?? 'view';
      if (mode !== 'view' && mode !== 'control') throw new BadRequestError(`mode must be view or control, not ${mode}`, { mode });
      const principal = c.get('principal');
      const control = mode === 'control';
      await s.govern(
        c,
        {
          action: control ? 'desktop.input' : 'desktop.screenshot',
          resource: `sandbox:${id}`,
          context: { op: control ? 'control' : 'view' },
          precheck: () => {
            s.sandboxes.requireRunning(principal.tenant, id);
            if (control && !holds(s, id, principal.id)) {
              throw new PolicyDeniedError(
                'the live view with mouse and keyboard is for the person who took the sandbox over; watch with mode=view',
                { control: s.takeovers.controlOf(id).mode },
                'desktop_view_only',
              );
            }
          },
        },
        async () => undefined,
      );
      await next();
    },
    upgradeWebSocket((c) => {
      const id = c.req.param('id') as string;
      const principal = c.get('principal');
      const view = (c.req.query('mode') ?? 'view') === 'view';
      const filter = view ? new RfbViewFilter() : undefined;
      let upstream: Socket | undefined;
      let early: Buffer[] = [];
      let closed = false;
      let unwatch = () => {};
      const end = (ws: WSContext, code: number, reason: string) => {
        if (!closed) ws.close(code, reason.slice(0, 120));
        closed = true;
        upstream?.destroy();
      };
      const send = (ws: WSContext, data: Buffer) => {
        try {
          upstream?.write(filter ? filter.push(data) : data);
        } catch (err) {
          if (!(err instanceof RfbViolation)) throw err;
          end(ws, 1008, `refused: ${err.message}`);
        }
      };
      return {
        onOpen(_evt, ws) {
          if (!view) {
            // The taker's input stops with their hold: a handback (by anyone, or by itself) closes the stream.
            unwatch = s.takeovers.onChange((changed) => {
              if (changed === id && !holds(s, id, principal.id)) end(ws, 4001, 'handed back: the live view with input has ended');
            });
            s.takeovers.recordScreen(id);
          }
          let sandbox: ReturnType<Services['sandboxes']['requireRunning']>;
          try {
            sandbox = s.sandboxes.requireRunning(principal.tenant, id);
          } catch (err) {
            return end(ws, 1011, (err as Error).message);
          }
          s.desktop.connectVnc(sandbox, view, { timeoutMs: 10_000 }).then(
            (socket) => {
              if (closed) return void socket.destroy();
              upstream = socket;
              socket.on('error', () => {});
              socket.on('close', () => end(ws, 1000, 'the desktop closed the connection'));
              socket.on('data', (chunk: Buffer) => {
                let d = chunk;
                try {
                  d = filter ? filter.fromServer(chunk) : chunk;
                } catch (err) {
                  return end(ws, 1008, `refused: ${(err as Error).message}`);
                }
                if (d.length > 0) ws.send(new Uint8Array(d));
                const raw = ws.raw as { bufferedAmount?: number } | undefined;
                if ((raw?.bufferedAmount ?? 0) < maxBufferedBytes) return;
                socket.pause();
                const wait = setInterval(() => {
                  if ((raw?.bufferedAmount ?? 0) < maxBufferedBytes / 4 || closed) {
                    clearInterval(wait);
                    socket.resume();
                  }
                }, 20);
              });
              for (const chunk of early) send(ws, chunk);
              early = [];
            },
            (err: Error) => end(ws, 1011, err.message),
          );
        },
        onMessage(evt, ws) {
          if (typeof evt.data === 'string') return end(ws, 1003, 'RFB travels in binary messages');
          const data = Buffer.from(evt.data as ArrayBuffer);
          if (upstream) return send(ws, data);
          early.push(data);
          if (early.reduce((n, b) => n + b.length, 0) > maxEarlyBytes) end(ws, 1009, 'too much before the desktop answered');
        },
        onClose() {
          closed = true;
          unwatch();
          upstream?.destroy();
        },
      };
    }),
  );
}

function holds(s: Services, sandboxId: string, principalId: string): boolean {
  const control = s.takeovers.controlOf(sandboxId);
  return control.mode === 'human' && control.by === principalId;
}

function describeVncSocket(app: OpenAPIHono<HttpEnv>): void {
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/v1/sandboxes/{id}/desktop/vnc',
    tags: ['desktop'],
    summary: "The desktop's live view as RFB (VNC) over a WebSocket: view-only for watchers, with input for the person who took it over",
    description:
      'A WebSocket (send `Upgrade: websocket`) whose binary messages both ways are the RFB stream of the desktop’s VNC server, for noVNC ' +
      '(the control tower’s live view). `mode=view` (the default; policy `desktop.screenshot`) reaches the server that takes no input, and the daemon drops ' +
      'every key, pointer and clipboard message the client sends; `mode=control` (policy `desktop.input`) is for the person who took the sandbox over ' +
      'alone (`desktop_view_only` otherwise) and closes (4001) when they no longer hold it. Signed in to the dashboard, the session cookie from the ' +
      "daemon's own origin authenticates it; otherwise the bearer token.",
    request: {
      params: SandboxIdParams,
      headers: z.object({ upgrade: z.literal('websocket'), connection: z.string().describe('names Upgrade') }),
      query: z.object({ mode: z.enum(['view', 'control']).optional().describe('view (default) or control') }),
    },
    responses: { 101: { description: 'switching to the WebSocket protocol' }, ...errorResponses },
  });
}
