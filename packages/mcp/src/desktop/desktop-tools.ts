import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { type DesktopAction, DesktopActionSchema, DesktopActionsResultSchema, SandboxIdSchema, ScreenshotQuerySchema } from '@paddock/core';
import { Desktop } from '@paddock/sdk';
import { z } from 'zod';
import { describeError } from '../results/describe-error.js';
import type { ToolContext } from '../tools/tool-context.js';
import { type ToolTable, toolError } from '../tools/tool-table.js';

const sandboxId = SandboxIdSchema.describe('the desktop sandbox (template desktop, from sandbox_create)');
const button = z.enum(['left', 'middle', 'right']).default('left');
const x = z.number().int().min(0).describe('pixels from the left of the screen');
/** What a screenshot tool says besides its image: the image's size. */
const ScreenshotOutput = z.object({ width: z.number().int(), height: z.number().int() });
const y = z.number().int().min(0).describe('pixels from the top of the screen');

/**
 * Computer-use tools, shaped as model vendors' computer tools are: a
 * screenshot as image content, and mouse and keyboard actions that answer
 * with what they did and a screenshot of the screen after, so a model sees
 * the effect of each step. Each is one API call (the daemon checks points
 * against the screen, key names against its list, and who is in control).
 */
const tools = {
  desktop_screenshot: {
    title: 'Screenshot',
    description: 'The screen of a desktop sandbox (or a region, scaled) as a PNG image, at most 1920×1080.',
    input: z.object({ sandboxId, ...ScreenshotQuerySchema.shape }).strict(),
    action: undefined,
  },
  desktop_click: {
    title: 'Click',
    description: 'Click at a point: left (default), middle or right; count 2 double-clicks. Answers with a screenshot after.',
    input: z.object({ sandboxId, x, y, button, count: z.number().int().min(1).max(3).default(1) }).strict(),
    action: (a: { x: number; y: number; button: 'left' | 'middle' | 'right'; count: number }): DesktopAction => ({ type: 'click', ...a }),
  },
  desktop_move: {
    title: 'Move the mouse',
    description: 'Move the pointer to a point (hover). Answers with a screenshot after.',
    input: z.object({ sandboxId, x, y }).strict(),
    action: (a: { x: number; y: number }): DesktopAction => ({ type: 'move', ...a }),
  },
  desktop_type: {
    title: 'Type text',
    description: 'Type text into the focused window, as key presses. Answers with a screenshot after.',
    input: z.object({ sandboxId, text: z.string().min(1).max(10_000) }).strict(),
    action: (a: { text: string }): DesktopAction => ({ type: 'type', text: a.text }),
  },
  desktop_key: {
    title: 'Press keys',
    description: 'Press keys together, e.g. ["enter"], ["ctrl", "l"], ["alt", "f4"]. Answers with a screenshot after.',
    input: z.object({ sandboxId, keys: z.array(z.string().min(1).max(32)).min(1).max(8) }).strict(),
    action: (a: { keys: string[] }): DesktopAction => ({ type: 'key', keys: a.keys }),
  },
  desktop_scroll: {
    title: 'Scroll',
    description: 'Scroll at a point by pixels (dy down, negative up; dx right), sent as wheel notches of 100 px. Answers with a screenshot after.',
    input: z.object({ sandboxId, x, y, dx: z.number().int().default(0), dy: z.number().int().default(0) }).strict(),
    action: (a: { x: number; y: number; dx: number; dy: number }): DesktopAction => ({ type: 'scroll', ...a }),
  },
  desktop_drag: {
    title: 'Drag',
    description: 'Press at one point, move to another and release. Answers with a screenshot after.',
    input: z.object({ sandboxId, fromX: x, fromY: y, toX: x, toY: y, button }).strict(),
    action: (a: { fromX: number; fromY: number; toX: number; toY: number; button: 'left' | 'middle' | 'right' }): DesktopAction => ({
      type: 'drag',
      from: { x: a.fromX, y: a.fromY },
      to: { x: a.toX, y: a.toY },
      button: a.button,
    }),
  },
} as const;

export function registerDesktopTools(table: ToolTable, context: ToolContext): void {
  for (const [name, spec] of Object.entries(tools)) {
    table.add({
      definition: {
        name,
        title: spec.title,
        description: spec.description,
        inputSchema: z.toJSONSchema(spec.input, { target: 'draft-7', io: 'input' }) as { type: 'object' },
        outputSchema: z.toJSONSchema(spec.action ? DesktopActionsResultSchema : ScreenshotOutput, { target: 'draft-7', io: 'output' }) as { type: 'object' },
        annotations: { readOnlyHint: spec.action === undefined, destructiveHint: false, openWorldHint: false },
      },
      call: (args, signal) => {
        const parsed = spec.input.safeParse(args);
        if (!parsed.success)
          return Promise.resolve(toolError(`invalid_request: invalid arguments for ${name}: ${describeError(parsed.error).replace(/^invalid_request: /, '')}`));
        return context.work.track(run(context, parsed.data as Record<string, unknown> & { sandboxId: string }, spec.action as never, signal));
      },
    });
  }
}

async function run(
  context: ToolContext,
  args: Record<string, unknown> & { sandboxId: string },
  action: ((a: Record<string, unknown>) => DesktopAction) | undefined,
  signal: AbortSignal,
): Promise<CallToolResult> {
  const { sandboxId: id, ...rest } = args;
  const desktop = new Desktop(context.api, id);
  try {
    const content: CallToolResult['content'] = [];
    let structured: Record<string, unknown> | undefined;
    if (action) {
      const checked = DesktopActionSchema.parse(action(rest));
      structured = await desktop.actions([checked], { signal });
      content.push({ type: 'text', text: JSON.stringify(structured) });
    }
    const png = Buffer.from(await desktop.screenshot({ ...(action ? {} : rest), signal }));
    if (!structured) {
      // The daemon passed it on only as a PNG: its IHDR holds the size.
      structured = { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
      content.push({ type: 'text', text: JSON.stringify(structured) });
    }
    content.push({ type: 'image', data: png.toString('base64'), mimeType: 'image/png' });
    return { content, structuredContent: structured };
  } catch (err) {
    return toolError(describeError(err));
  }
}
