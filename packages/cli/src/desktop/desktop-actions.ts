import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { Sandbox } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { UsageError } from '../errors/cli-error.js';
import { parseOptionalDuration } from '../options/parse-duration.js';
import { formatTable } from '../output/format-table.js';
import { printJson } from '../output/print-json.js';

function integer(text: string, what: string): number {
  if (!/^-?\d{1,6}$/.test(text)) throw new UsageError(`${what}: a whole number of pixels, not ${JSON.stringify(text)}`);
  return Number(text);
}

function point(text: string, what: string): [number, number] {
  const parts = text.split(',');
  if (parts.length !== 2) throw new UsageError(`${what}: x,y, not ${JSON.stringify(text)}`);
  return [integer(parts[0] as string, what), integer(parts[1] as string, what)];
}

async function connect(id: string, command: Command): Promise<Sandbox> {
  return Sandbox.connect(id, connectionFor(command));
}

export async function screenshot(id: string, flags: { region?: string; scale?: string; output?: string }, command: Command): Promise<void> {
  const query: { x?: number; y?: number; width?: number; height?: number; scale?: number } = {};
  if (flags.region) {
    const parts = flags.region.split(',');
    if (parts.length !== 4) throw new UsageError(`--region: x,y,w,h, not ${JSON.stringify(flags.region)}`);
    [query.x, query.y, query.width, query.height] = parts.map((p) => integer(p, '--region'));
  }
  if (flags.scale !== undefined) {
    const scale = Number(flags.scale);
    if (!(scale > 0 && scale <= 1)) throw new UsageError(`--scale: a factor above 0 and at most 1, not ${JSON.stringify(flags.scale)}`);
    query.scale = scale;
  }
  if (!flags.output && process.stdout.isTTY) throw new UsageError('a PNG is not for the terminal: redirect stdout (> s.png) or give --output');
  const png = await (await connect(id, command)).desktop.screenshot(query);
  if (flags.output) await writeFile(flags.output, png);
  else process.stdout.write(png);
}

export async function click(id: string, x: string, y: string, flags: { button: string; double?: boolean }, command: Command): Promise<void> {
  if (!['left', 'middle', 'right'].includes(flags.button)) throw new UsageError(`--button: left, middle or right, not ${JSON.stringify(flags.button)}`);
  await (await connect(id, command)).desktop.click(integer(x, 'x'), integer(y, 'y'), {
    button: flags.button as 'left' | 'middle' | 'right',
    count: flags.double ? 2 : 1,
  });
}

export async function move(id: string, x: string, y: string, _flags: unknown, command: Command): Promise<void> {
  await (await connect(id, command)).desktop.move(integer(x, 'x'), integer(y, 'y'));
}

export async function typeText(id: string, text: string, _flags: unknown, command: Command): Promise<void> {
  let typed = text;
  if (text === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    typed = Buffer.concat(chunks).toString('utf8');
  }
  if (!typed) throw new UsageError('nothing to type');
  await (await connect(id, command)).desktop.type(typed);
}

export async function key(id: string, keys: string[], _flags: unknown, command: Command): Promise<void> {
  // `ctrl+l` and `ctrl l` both press ctrl and l together; `+` alone is the plus key.
  const names = keys.flatMap((k) => (k.length > 1 && k.includes('+') ? k.split('+').filter(Boolean) : [k]));
  await (await connect(id, command)).desktop.press(names);
}

export async function scroll(id: string, flags: { dx: string; dy: string; at?: string }, command: Command): Promise<void> {
  const at = flags.at ? point(flags.at, '--at') : undefined;
  await (await connect(id, command)).desktop.scroll({
    dx: integer(flags.dx, '--dx'),
    dy: integer(flags.dy, '--dy'),
    ...(at ? { x: at[0], y: at[1] } : {}),
  });
}

export async function drag(id: string, from: string, to: string, _flags: unknown, command: Command): Promise<void> {
  await (await connect(id, command)).desktop.drag(point(from, 'from'), point(to, 'to'));
}

export async function windows(id: string, flags: { json?: boolean }, command: Command): Promise<void> {
  const list = await (await connect(id, command)).desktop.windows();
  if (flags.json) return printJson({ windows: list });
  process.stdout.write(
    formatTable(
      ['ID', 'FOCUS', 'GEOMETRY', 'TITLE'],
      list.map((w) => [w.id, w.focused ? '*' : '', `${w.width}x${w.height}+${w.x}+${w.y}`, w.title]),
    ),
  );
}

export async function launch(id: string, app: string, args: string[], _flags: unknown, command: Command): Promise<void> {
  const { pid } = await (await connect(id, command)).desktop.launch(app, args);
  process.stdout.write(`${pid}\n`);
}

/**
 * The live view for a browser: a browser cannot send the token, so this makes
 * a public link to the view-only noVNC port (its host form sets the link's
 * cookie, which the page's WebSocket then carries).
 */
export async function view(id: string, flags: { ttl?: string; open?: boolean }, command: Command): Promise<void> {
  const sbx = await connect(id, command);
  const stream = await sbx.desktop.stream();
  const port = Number(new URL(stream.url).pathname.match(/\/ports\/(\d+)\//)?.[1]);
  const link = await sbx.ports.expose(port, { public: true, ttlMs: parseOptionalDuration(flags.ttl, '--ttl') ?? 3_600_000 });
  const url = new URL(link.hostUrl);
  url.pathname = '/vnc.html';
  for (const [k, v] of Object.entries({ autoconnect: '1', resize: 'scale', view_only: '1', path: 'websockify' })) url.searchParams.set(k, v);
  process.stdout.write(`${url.href}\n`);
  process.stderr.write(`view-only; the link works until ${link.expiresAt} (revoke: paddock port ${id} --revoke ${link.id})\n`);
  if (flags.open)
    spawn('xdg-open', [url.href], { stdio: 'ignore', detached: true })
      .on('error', () => {})
      .unref();
}
