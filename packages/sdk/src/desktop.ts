import type {
  BrowserInfo,
  BrowserStart,
  Cursor,
  DesktopAction,
  DesktopActionsResult,
  DesktopStream,
  DesktopWindow,
  DesktopWindows,
  ScreenshotQuery,
} from '@paddock/core';
import type { ApiClient, RequestOptions } from './api-client.js';
import { apiCall } from './api-routes.js';

export type MouseButton = 'left' | 'middle' | 'right';

/**
 * The screen, mouse and keyboard of a desktop sandbox (template `desktop`),
 * driven from inside it by its agent. Points are screen pixels; an action
 * off the screen is refused (`invalid_coordinates`), as is a key name not
 * on the key list (`unknown_key`), and any input while a person has taken
 * the sandbox over (`human_in_control`).
 *
 *   const png = await sbx.desktop.screenshot()
 *   await sbx.desktop.click(640, 400); await sbx.desktop.type('hello'); await sbx.desktop.press(['ctrl', 'l'])
 */
export class Desktop {
  constructor(
    private readonly api: ApiClient,
    private readonly sandboxId: string,
  ) {}

  /** The screen, or a region of it (`x`, `y`, `width`, `height`), scaled by `scale` ≤ 1, as PNG bytes (at most 1920×1080). */
  async screenshot(options: ScreenshotQuery & RequestOptions = {}): Promise<Uint8Array> {
    const { timeoutMs, signal, ...query } = options;
    const res = await this.api.fetch(apiCall('GET /v1/sandboxes/{id}/desktop/screenshot', { id: this.sandboxId }), { timeoutMs, signal, query });
    return new Uint8Array(await res.arrayBuffer());
  }

  /** Does actions in order (each checked before any runs); the screen and the cursor after. */
  async actions(actions: DesktopAction[], options: RequestOptions = {}): Promise<DesktopActionsResult> {
    return this.api.json<DesktopActionsResult>(apiCall('POST /v1/sandboxes/{id}/desktop/actions', { id: this.sandboxId }), { ...options, json: { actions } });
  }

  async click(x: number, y: number, options: RequestOptions & { button?: MouseButton; count?: number } = {}): Promise<DesktopActionsResult> {
    const { button, count, ...rest } = options;
    return this.actions([{ type: 'click', x, y, button, count }], rest);
  }

  async doubleClick(x: number, y: number, options: RequestOptions = {}): Promise<DesktopActionsResult> {
    return this.actions([{ type: 'double_click', x, y }], options);
  }

  async rightClick(x: number, y: number, options: RequestOptions = {}): Promise<DesktopActionsResult> {
    return this.actions([{ type: 'right_click', x, y }], options);
  }

  async move(x: number, y: number, options: RequestOptions = {}): Promise<DesktopActionsResult> {
    return this.actions([{ type: 'move', x, y }], options);
  }

  /** Types text as key presses into the focused window (never read by a shell on the way). */
  async type(text: string, options: RequestOptions = {}): Promise<DesktopActionsResult> {
    return this.actions([{ type: 'type', text }], options);
  }

  /** Presses keys together: `press('enter')`, `press(['ctrl', 'l'])`. */
  async press(keys: string | string[], options: RequestOptions = {}): Promise<DesktopActionsResult> {
    return this.actions([{ type: 'key', keys: Array.isArray(keys) ? keys : [keys] }], options);
  }

  /** Scrolls by pixels (sent as wheel notches of 100 px), at a point if given. */
  async scroll(delta: { dx?: number; dy?: number; x?: number; y?: number }, options: RequestOptions = {}): Promise<DesktopActionsResult> {
    return this.actions([{ type: 'scroll', ...delta }], options);
  }

  async drag(from: [number, number], to: [number, number], options: RequestOptions & { button?: MouseButton } = {}): Promise<DesktopActionsResult> {
    const { button, ...rest } = options;
    return this.actions([{ type: 'drag', from: { x: from[0], y: from[1] }, to: { x: to[0], y: to[1] }, button }], rest);
  }

  async cursor(options: RequestOptions = {}): Promise<Cursor> {
    return this.api.json<Cursor>(apiCall('GET /v1/sandboxes/{id}/desktop/cursor', { id: this.sandboxId }), options);
  }

  async windows(options: RequestOptions = {}): Promise<DesktopWindow[]> {
    return (await this.api.json<DesktopWindows>(apiCall('GET /v1/sandboxes/{id}/desktop/windows', { id: this.sandboxId }), options)).windows;
  }

  /** Starts an app on the display without a shell; its pid (a background command, `paddock ps` lists it). */
  async launch(app: string, args: string[] = [], options: RequestOptions = {}): Promise<{ pid: number }> {
    return this.api.json<{ pid: number }>(apiCall('POST /v1/sandboxes/{id}/desktop/launch', { id: this.sandboxId }), { ...options, json: { app, args } });
  }

  readonly clipboard = {
    get: async (options: RequestOptions = {}): Promise<string> =>
      (await this.api.json<{ text: string }>(apiCall('GET /v1/sandboxes/{id}/desktop/clipboard', { id: this.sandboxId }), options)).text,
    set: async (text: string, options: RequestOptions = {}): Promise<void> => {
      await this.api.json(apiCall('PUT /v1/sandboxes/{id}/desktop/clipboard', { id: this.sandboxId }), { ...options, json: { text } });
    },
  };

  /** The live view (noVNC) through ingress: view-only unless you took the sandbox over and ask for `viewOnly: false`. */
  async stream(options: RequestOptions & { viewOnly?: boolean } = {}): Promise<DesktopStream> {
    const { viewOnly = true, ...rest } = options;
    return this.api.json<DesktopStream>(apiCall('GET /v1/sandboxes/{id}/desktop/stream', { id: this.sandboxId }), {
      ...rest,
      query: { viewOnly: String(viewOnly) },
    });
  }
}

/**
 * The sandbox's Chromium over the Chrome DevTools Protocol, through
 * Paddock's ingress with the token:
 *
 *   const { cdpUrl } = await sbx.browser.start()
 *   const browser = await chromium.connectOverCDP(cdpUrl, { headers: { Authorization: `Bearer ${token}` } })
 */
export class Browser {
  constructor(
    private readonly api: ApiClient,
    private readonly sandboxId: string,
  ) {}

  async start(request: BrowserStart = {}, options: RequestOptions = {}): Promise<BrowserInfo> {
    return this.api.json<BrowserInfo>(apiCall('POST /v1/sandboxes/{id}/browser/start', { id: this.sandboxId }), { ...options, json: request });
  }
}
