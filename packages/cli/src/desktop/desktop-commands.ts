import type { Command } from 'commander';
import { lazyAction } from '../program/lazy-action.js';

/** desktop: the screen, mouse and keyboard of a desktop sandbox, and its live view. */
export function registerDesktopCommands(program: Command): void {
  const desktop = program.command('desktop').description('see and drive the screen of a desktop sandbox (template desktop), and open its live view');
  const load = async () => await import('./desktop-actions.js');
  desktop
    .command('screenshot')
    .description('write the screen as PNG to stdout (or --output); a region and a scale if asked')
    .argument('<sandbox>', 'sandbox id')
    .option('--region <x,y,w,h>', 'a region of the screen, in pixels')
    .option('--scale <factor>', 'shrink by this factor, 0 < factor ≤ 1')
    .option('-o, --output <file>', 'write the PNG to this file')
    .action(lazyAction(async () => (await load()).screenshot));
  desktop
    .command('click')
    .description('click at a point of the screen')
    .argument('<sandbox>', 'sandbox id')
    .argument('<x>', 'pixels from the left')
    .argument('<y>', 'pixels from the top')
    .option('--button <button>', 'left, middle or right', 'left')
    .option('--double', 'a double click')
    .action(lazyAction(async () => (await load()).click));
  desktop
    .command('move')
    .description('move the mouse pointer')
    .argument('<sandbox>', 'sandbox id')
    .argument('<x>', 'pixels from the left')
    .argument('<y>', 'pixels from the top')
    .action(lazyAction(async () => (await load()).move));
  desktop
    .command('type')
    .description('type text into the focused window (- reads it from stdin)')
    .argument('<sandbox>', 'sandbox id')
    .argument('<text>', 'the text, or - for stdin')
    .action(lazyAction(async () => (await load()).typeText));
  desktop
    .command('key')
    .description('press keys together: paddock desktop key ID ctrl l (or ctrl+l)')
    .argument('<sandbox>', 'sandbox id')
    .argument('<keys...>', 'key names: enter, tab, escape, ctrl, alt, shift, a–z, f1–f24 …')
    .action(lazyAction(async () => (await load()).key));
  desktop
    .command('scroll')
    .description('scroll by pixels (wheel notches of 100 px), at a point if given')
    .argument('<sandbox>', 'sandbox id')
    .option('--dx <pixels>', 'right (negative: left)', '0')
    .option('--dy <pixels>', 'down (negative: up)', '0')
    .option('--at <x,y>', 'where the pointer goes first')
    .action(lazyAction(async () => (await load()).scroll));
  desktop
    .command('drag')
    .description('press at one point, move to another, release')
    .argument('<sandbox>', 'sandbox id')
    .argument('<from>', 'x,y')
    .argument('<to>', 'x,y')
    .action(lazyAction(async () => (await load()).drag));
  desktop
    .command('windows')
    .description('list the visible windows')
    .argument('<sandbox>', 'sandbox id')
    .option('--json', 'print JSON')
    .action(lazyAction(async () => (await load()).windows));
  desktop
    .command('launch')
    .description('start an app on the display (no shell): paddock desktop launch ID chromium -- https://example.com')
    .argument('<sandbox>', 'sandbox id')
    .argument('<app>', 'program')
    .argument('[args...]', 'its arguments')
    .action(lazyAction(async () => (await load()).launch));
  desktop
    .command('view')
    .description('print the URL of the live view (view-only): a public link to it for an hour, for a browser that holds no token')
    .argument('<sandbox>', 'sandbox id')
    .option('--ttl <duration>', 'how long the link works (default 1h)')
    .option('--open', 'open it in the browser as well (xdg-open)')
    .action(lazyAction(async () => (await load()).view));
}
