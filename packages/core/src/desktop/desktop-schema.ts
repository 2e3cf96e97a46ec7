import { z } from 'zod';

/** The largest image a screenshot returns: a larger screen or region is scaled down to fit. */
export const maxScreenshotSize = { width: 1920, height: 1080 } as const;

/** The longest text one `type` action sends. */
export const maxTypedChars = 10_000;

/**
 * Key names an action may press, lower-case, each to the X keysym xdotool
 * sends. Anything else is refused (`unknown_key`): a name reaches xdotool
 * only from this table, never as the caller wrote it.
 */
export const desktopKeys: Readonly<Record<string, string>> = Object.freeze({
  ...Object.fromEntries([...'abcdefghijklmnopqrstuvwxyz0123456789'].map((c) => [c, c])),
  ...Object.fromEntries(Array.from({ length: 24 }, (_, i) => [`f${i + 1}`, `F${i + 1}`])),
  ctrl: 'ctrl',
  control: 'ctrl',
  alt: 'alt',
  shift: 'shift',
  super: 'super',
  meta: 'super',
  cmd: 'super',
  win: 'super',
  enter: 'Return',
  return: 'Return',
  tab: 'Tab',
  escape: 'Escape',
  esc: 'Escape',
  backspace: 'BackSpace',
  delete: 'Delete',
  del: 'Delete',
  insert: 'Insert',
  home: 'Home',
  end: 'End',
  pageup: 'Prior',
  page_up: 'Prior',
  pagedown: 'Next',
  page_down: 'Next',
  up: 'Up',
  down: 'Down',
  left: 'Left',
  right: 'Right',
  space: 'space',
  capslock: 'Caps_Lock',
  printscreen: 'Print',
  menu: 'Menu',
  minus: 'minus',
  '-': 'minus',
  equal: 'equal',
  '=': 'equal',
  plus: 'plus',
  '+': 'plus',
  comma: 'comma',
  ',': 'comma',
  period: 'period',
  '.': 'period',
  slash: 'slash',
  '/': 'slash',
  backslash: 'backslash',
  '\\': 'backslash',
  semicolon: 'semicolon',
  ';': 'semicolon',
  apostrophe: 'apostrophe',
  "'": 'apostrophe',
  grave: 'grave',
  '`': 'grave',
  bracketleft: 'bracketleft',
  '[': 'bracketleft',
  bracketright: 'bracketright',
  ']': 'bracketright',
});

const coordinate = z.number().int().min(0).max(16_383);
const Point = z.object({ x: coordinate, y: coordinate });
const MouseButton = z.enum(['left', 'middle', 'right']);

/** One thing done to the screen; points are in screen pixels and checked against its size. */
export const DesktopActionSchema = z.discriminatedUnion('type', [
  Point.extend({
    type: z.literal('click'),
    button: MouseButton.default('left'),
    count: z.number().int().min(1).max(3).default(1).describe('2: a double click'),
  }).strict(),
  Point.extend({ type: z.literal('double_click') }).strict(),
  Point.extend({ type: z.literal('right_click') }).strict(),
  Point.extend({ type: z.literal('move') }).strict(),
  Point.extend({ type: z.literal('mouse_down'), button: MouseButton.default('left') }).strict(),
  Point.extend({ type: z.literal('mouse_up'), button: MouseButton.default('left') }).strict(),
  z
    .object({
      type: z.literal('type'),
      text: z.string().min(1).max(maxTypedChars).describe('typed as is, each character as a key press (never read by a shell)'),
    })
    .strict(),
  z
    .object({
      type: z.literal('key'),
      keys: z.array(z.string().min(1).max(32)).min(1).max(8).describe('pressed together, e.g. ["ctrl", "l"]; names from the key list'),
    })
    .strict(),
  z
    .object({
      type: z.literal('scroll'),
      x: coordinate.optional(),
      y: coordinate.optional(),
      dx: z.number().int().min(-10_000).max(10_000).default(0).describe('pixels right (negative: left)'),
      dy: z.number().int().min(-10_000).max(10_000).default(0).describe('pixels down (negative: up)'),
    })
    .strict(),
  z.object({ type: z.literal('drag'), from: Point.strict(), to: Point.strict(), button: MouseButton.default('left') }).strict(),
]);
export type DesktopAction = z.input<typeof DesktopActionSchema>;
export type DesktopActionParsed = z.output<typeof DesktopActionSchema>;

export const DesktopActionsRequestSchema = z
  .object({ actions: z.array(DesktopActionSchema).min(1).max(50).describe('done in order; the first that fails stops the rest') })
  .strict();
export type DesktopActionsRequest = z.input<typeof DesktopActionsRequestSchema>;

export const ScreenSizeSchema = z.object({ width: z.number().int(), height: z.number().int() });
export type ScreenSize = z.infer<typeof ScreenSizeSchema>;

export const CursorSchema = z.object({ x: z.number().int(), y: z.number().int() });
export type Cursor = z.infer<typeof CursorSchema>;

export const DesktopActionsResultSchema = z.object({ done: z.number().int(), screen: ScreenSizeSchema, cursor: CursorSchema });
export type DesktopActionsResult = z.infer<typeof DesktopActionsResultSchema>;

export const ScreenshotQuerySchema = z
  .object({
    x: z.coerce.number().int().min(0).optional(),
    y: z.coerce.number().int().min(0).optional(),
    width: z.coerce.number().int().min(1).optional(),
    height: z.coerce.number().int().min(1).optional(),
    scale: z.coerce.number().gt(0).max(1).optional().describe('shrink by this factor (0 < scale ≤ 1); the image never exceeds 1920×1080'),
  })
  .strict();
export type ScreenshotQuery = z.infer<typeof ScreenshotQuerySchema>;

export const DesktopWindowSchema = z.object({
  id: z.string(),
  title: z.string(),
  x: z.number().int(),
  y: z.number().int(),
  width: z.number().int(),
  height: z.number().int(),
  focused: z.boolean(),
});
export type DesktopWindow = z.infer<typeof DesktopWindowSchema>;

export const DesktopWindowsSchema = z.object({ screen: ScreenSizeSchema, windows: z.array(DesktopWindowSchema) });
export type DesktopWindows = z.infer<typeof DesktopWindowsSchema>;

export const DesktopLaunchSchema = z
  .object({
    app: z.string().min(1).max(4096).describe('the program, by name on PATH or by path; started without a shell'),
    args: z
      .array(z.string().max(64 * 1024))
      .max(256)
      .default([]),
  })
  .strict();
export type DesktopLaunch = z.input<typeof DesktopLaunchSchema>;

export const DesktopLaunchResultSchema = z.object({ pid: z.number().int() });

export const ClipboardSchema = z.object({ text: z.string().max(1024 * 1024) }).strict();
export type Clipboard = z.infer<typeof ClipboardSchema>;

/** The Chrome DevTools Protocol endpoint of the sandbox's browser, through Paddock's ingress. */
export const BrowserStartSchema = z
  .object({
    url: z.string().max(8192).optional().describe('a page to open first (about:blank otherwise)'),
  })
  .strict();
export type BrowserStart = z.input<typeof BrowserStartSchema>;

export const BrowserInfoSchema = z.object({
  cdpUrl: z
    .string()
    .describe(
      "the browser's DevTools WebSocket through ingress: connect with the token (Authorization: Bearer), e.g. chromium.connectOverCDP(cdpUrl, { headers })",
    ),
  port: z.number().int().describe('the DevTools port inside the sandbox (127.0.0.1 only)'),
  pid: z.number().int().nullable().describe('the browser process (paddock ps), null when it was found running and not started here'),
});
export type BrowserInfo = z.infer<typeof BrowserInfoSchema>;

export const DesktopStreamQuerySchema = z.object({ viewOnly: z.enum(['true', 'false']).default('true') }).strict();

export const DesktopStreamSchema = z.object({
  url: z.string().describe('the noVNC page of the live view, through ingress (send the token, or open it from the control tower)'),
  websocketUrl: z.string().describe('the VNC WebSocket (RFB over WebSocket) itself, for a noVNC client of your own'),
  viewOnly: z.boolean(),
});
export type DesktopStream = z.infer<typeof DesktopStreamSchema>;
