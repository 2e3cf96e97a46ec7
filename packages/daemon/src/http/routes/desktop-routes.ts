import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import {
  BrowserInfoSchema,
  BrowserStartSchema,
  ClipboardSchema,
  ConflictError,
  CursorSchema,
  DesktopActionsRequestSchema,
  DesktopActionsResultSchema,
  DesktopLaunchResultSchema,
  DesktopLaunchSchema,
  DesktopStreamQuerySchema,
  DesktopStreamSchema,
  DesktopWindowsSchema,
  PolicyDeniedError,
  ScreenshotQuerySchema,
} from '@paddock/core';
import type { Context } from 'hono';
import type { HttpEnv } from '../http-env.js';
import { errorResponses, json, SandboxIdParams } from '../schemas.js';
import type { Services } from '../services.js';

const tags = ['desktop'];
const body = <T extends z.ZodType>(schema: T) => ({ body: { content: { 'application/json': { schema } }, required: true } });

const screenshotRoute = createRoute({
  method: 'get',
  path: '/v1/sandboxes/{id}/desktop/screenshot',
  tags,
  summary: 'The screen (or a region of it, scaled) as a PNG of at most 1920×1080',
  request: { params: SandboxIdParams, query: ScreenshotQuerySchema },
  responses: { 200: { description: 'PNG', content: { 'image/png': { schema: z.string().openapi({ format: 'binary' }) } } }, ...errorResponses },
});

const actionsRoute = createRoute({
  method: 'post',
  path: '/v1/sandboxes/{id}/desktop/actions',
  tags,
  summary: 'Mouse and keyboard: click, double/right click, move, type, key, scroll, drag — in order, each checked first',
  description:
    'Points are checked against the screen (`invalid_coordinates`), key names against the key list (`unknown_key`) before any action runs. ' +
    'Refused with `human_in_control` (409) while a person has taken the sandbox over. Policy decides `desktop.input` with context.window, the focused window’s title, ' +
    'and, when that is the browser’s window, context.url and context.domain, its page’s URL and host (all as the sandbox reports them).',
  request: { params: SandboxIdParams, ...body(DesktopActionsRequestSchema.meta({ id: 'DesktopActions' })) },
  responses: {
    200: json(DesktopActionsResultSchema.meta({ id: 'DesktopActionsResult' }), 'what was done, the screen and the cursor after'),
    ...errorResponses,
  },
});

const cursorRoute = createRoute({
  method: 'get',
  path: '/v1/sandboxes/{id}/desktop/cursor',
  tags,
  summary: 'Where the mouse pointer is',
  request: { params: SandboxIdParams },
  responses: { 200: json(CursorSchema.meta({ id: 'Cursor' }), 'the pointer'), ...errorResponses },
});

const windowsRoute = createRoute({
  method: 'get',
  path: '/v1/sandboxes/{id}/desktop/windows',
  tags,
  summary: 'The visible windows: title, position, size, and which has the focus',
  request: { params: SandboxIdParams },
  responses: { 200: json(DesktopWindowsSchema.meta({ id: 'DesktopWindows' }), 'the windows'), ...errorResponses },
});

const launchRoute = createRoute({
  method: 'post',
  path: '/v1/sandboxes/{id}/desktop/launch',
  tags,
  summary: 'Start an app on the display, without a shell (a background command: paddock ps lists it)',
  request: { params: SandboxIdParams, ...body(DesktopLaunchSchema.meta({ id: 'DesktopLaunch' })) },
  responses: { 200: json(DesktopLaunchResultSchema, 'its process'), ...errorResponses },
});

const getClipboardRoute = createRoute({
  method: 'get',
  path: '/v1/sandboxes/{id}/desktop/clipboard',
  tags,
  summary: "The clipboard's text",
  request: { params: SandboxIdParams },
  responses: { 200: json(ClipboardSchema.meta({ id: 'Clipboard' }), 'the text'), ...errorResponses },
});

const setClipboardRoute = createRoute({
  method: 'put',
  path: '/v1/sandboxes/{id}/desktop/clipboard',
  tags,
  summary: "Set the clipboard's text",
  request: { params: SandboxIdParams, ...body(ClipboardSchema) },
  responses: { 200: json(ClipboardSchema, 'the text'), ...errorResponses },
});

const streamRoute = createRoute({
  method: 'get',
  path: '/v1/sandboxes/{id}/desktop/stream',
  tags,
  summary: 'The live view (noVNC) through ingress: view-only, or with mouse and keyboard for the person who took the sandbox over',
  request: { params: SandboxIdParams, query: DesktopStreamQuerySchema },
  responses: { 200: json(DesktopStreamSchema.meta({ id: 'DesktopStream' }), 'the URLs'), ...errorResponses },
});

const browserStartRoute = createRoute({
  method: 'post',
  path: '/v1/sandboxes/{id}/browser/start',
  tags,
  summary: "Start the sandbox's Chromium with DevTools on its loopback, and answer with its CDP WebSocket through ingress",
  description:
    'Connect with the token: `chromium.connectOverCDP(cdpUrl, { headers: { Authorization: "Bearer …" } })`. Each connection is decided as `browser.cdp`. ' +
    "The browser's traffic goes through the sandbox's egress rules.",
  request: { params: SandboxIdParams, ...body(BrowserStartSchema.meta({ id: 'BrowserStart' })) },
  responses: { 200: json(BrowserInfoSchema.meta({ id: 'BrowserInfo' }), 'the DevTools endpoint'), ...errorResponses },
});

/** Agents act on the desktop only while nobody has taken the sandbox over; the taker's own calls go through. */
function checkControl(c: Context<HttpEnv>, s: Services, sandboxId: string): void {
  const control = s.takeovers.controlOf(sandboxId);
  if (control.mode === 'human' && control.by !== c.get('principal').id) {
    throw new ConflictError(
      `${control.by} has taken sandbox ${sandboxId} over: desktop input waits until they hand it back`,
      { by: control.by },
      'human_in_control',
    );
  }
}

/** The live view with mouse and keyboard is the taker's alone. */
function checkTaker(c: Context<HttpEnv>, s: Services, sandboxId: string): void {
  const control = s.takeovers.controlOf(sandboxId);
  if (control.mode !== 'human' || control.by !== c.get('principal').id) {
    throw new PolicyDeniedError(
      'the live view with mouse and keyboard is for the person who took the sandbox over (POST /v1/sandboxes/{id}/takeover); watch with viewOnly=true',
      { control: control.mode },
      'desktop_view_only',
    );
  }
}

export function registerDesktopRoutes(app: OpenAPIHono<HttpEnv>, s: Services): void {
  const running = (c: Context<HttpEnv>, id: string) => s.sandboxes.requireRunning(c.get('principal').tenant, id);
  const see = <T>(c: Context<HttpEnv>, id: string, op: string, run: () => Promise<T>) =>
    s.govern(c, { action: 'desktop.screenshot', resource: `sandbox:${id}`, context: { op }, precheck: () => running(c, id) }, run);

  app.openapi(screenshotRoute, async (c) => {
    const { id } = c.req.valid('param');
    const query = c.req.valid('query');
    const png = await see(c, id, 'screenshot', () => s.desktop.screenshot(running(c, id), query, c.get('signal')));
    return c.body(new Uint8Array(png), 200, { 'content-type': 'image/png', 'cache-control': 'no-store' });
  });

  app.openapi(cursorRoute, async (c) => {
    const { id } = c.req.valid('param');
    return c.json(await see(c, id, 'cursor', () => s.desktop.cursor(running(c, id), c.get('signal'))), 200);
  });

  app.openapi(windowsRoute, async (c) => {
    const { id } = c.req.valid('param');
    return c.json(await see(c, id, 'windows', () => s.desktop.windows(running(c, id), c.get('signal'))), 200);
  });

  app.openapi(getClipboardRoute, async (c) => {
    const { id } = c.req.valid('param');
    return c.json(await see(c, id, 'clipboard', () => s.desktop.clipboard(running(c, id), c.get('signal'))), 200);
  });

  app.openapi(streamRoute, async (c) => {
    const { id } = c.req.valid('param');
    const viewOnly = c.req.valid('query').viewOnly !== 'false';
    if (!viewOnly) checkTaker(c, s, id);
    return c.json(await see(c, id, viewOnly ? 'view' : 'control', async () => s.desktop.stream(running(c, id), viewOnly)), 200);
  });

  app.openapi(actionsRoute, async (c) => {
    const { id } = c.req.valid('param');
    const { actions } = c.req.valid('json');
    const signal = c.get('signal');
    checkControl(c, s, id);
    // The policy sees the window the input goes to, so an operator can ask for approval before typing into one.
    const state = await s.desktop.state(running(c, id), signal);
    const prepared = s.desktop.prepare(actions, state.screen);
    const focus = await s.desktop.focus(running(c, id), state, signal);
    const context = {
      op: 'actions',
      ...focus,
      actions: [...new Set(actions.map((a) => a.type))],
      chars: actions.reduce((n, a) => n + (a.type === 'type' ? a.text.length : 0), 0),
    };
    const result = await s.govern(c, { action: 'desktop.input', resource: `sandbox:${id}`, context, precheck: () => checkControl(c, s, id) }, () =>
      s.desktop.act(running(c, id), prepared, signal),
    );
    return c.json(result, 200);
  });

  app.openapi(launchRoute, async (c) => {
    const { id } = c.req.valid('param');
    const request = c.req.valid('json');
    checkControl(c, s, id);
    const context = { op: 'launch', program: request.app, argv: request.args };
    const result = await s.govern(c, { action: 'desktop.input', resource: `sandbox:${id}`, context, precheck: () => running(c, id) }, () =>
      s.desktop.launch(running(c, id), request, c.get('signal')),
    );
    return c.json(result, 200);
  });

  app.openapi(setClipboardRoute, async (c) => {
    const { id } = c.req.valid('param');
    const { text } = c.req.valid('json');
    checkControl(c, s, id);
    const result = await s.govern(
      c,
      { action: 'desktop.input', resource: `sandbox:${id}`, context: { op: 'clipboard', chars: text.length }, precheck: () => running(c, id) },
      () => s.desktop.setClipboard(running(c, id), text, c.get('signal')),
    );
    return c.json(result, 200);
  });

  app.openapi(browserStartRoute, async (c) => {
    const { id } = c.req.valid('param');
    const request = c.req.valid('json');
    checkControl(c, s, id);
    const result = await s.govern(
      c,
      {
        action: 'browser.cdp',
        resource: `sandbox:${id}`,
        context: { op: 'start', ...(request.url ? { to: request.url } : {}) },
        precheck: () => running(c, id),
      },
      () => s.desktop.startBrowser(running(c, id), request, c.get('signal')),
    );
    return c.json(result, 200);
  });
}
