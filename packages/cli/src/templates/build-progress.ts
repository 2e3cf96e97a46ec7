import type { TemplateBuildEvent } from '@paddock/core';
import { progressPrinter } from '@paddock/core/client';
import { onCleanup } from '../lifecycle/cleanup.js';

export interface BuildProgress {
  onEvent(event: TemplateBuildEvent): void;
  /** Ends the display (the bar's line on a terminal), whether the build succeeded or not. */
  close(): void;
}

/**
 * On a terminal, a progress bar with the build's output dimmed above it;
 * elsewhere plain lines (`Step 2/5 : RUN …`) and the output as it is, for logs.
 */
export function buildProgress(name: string, out: NodeJS.WriteStream = process.stderr, options: { plainLogs?: boolean } = {}): BuildProgress {
  return out.isTTY ? terminalProgress(name, out) : plainProgress(out, options.plainLogs ?? true);
}

/** Without a terminal, the steps as lines; the steps' output too unless it would mix with a command's own stderr (`run`). */
function plainProgress(out: NodeJS.WriteStream, logs: boolean): BuildProgress {
  return {
    onEvent(event) {
      if (event.type === 'step') out.write(`Step ${event.index}/${event.total} : ${event.text}${event.cached ? ' (cached)' : ''}\n`);
      else if (event.type === 'log' && logs) out.write(event.data);
    },
    close() {},
  };
}

function terminalProgress(name: string, out: NodeJS.WriteStream): BuildProgress {
  const bar = progressPrinter(`template ${name}`, out);
  const dim = process.env.NO_COLOR ? (s: string) => s : (s: string) => `\x1b[2m${s}\x1b[22m`;
  let step = { phase: 'build', fraction: 0, message: 'starting' };
  let partial = '';
  let shown = false;
  const redraw = () => {
    bar.update(step);
    shown = true;
  };
  return {
    onEvent(event) {
      if (event.type === 'step') {
        step = {
          phase: 'build',
          fraction: event.index / event.total,
          message: `Step ${event.index}/${event.total} : ${event.text}${event.cached ? ' (cached)' : ''}`,
        };
        // A cached step leaves its line above the bar, so the terminal shows which steps were reused.
        if (event.cached) out.write(`\r\x1b[2K${dim(`Step ${event.index}/${event.total} : ${event.text} (cached)`)}\n`);
        redraw();
      } else if (event.type === 'log') {
        // Whole lines only: the bar is redrawn on the line below the last one.
        const lines = (partial + event.data).split('\n');
        partial = lines.pop() ?? '';
        if (lines.length === 0) return;
        out.write(`\r\x1b[2K${lines.map((l) => `${dim(l)}\n`).join('')}`);
        redraw();
      }
    },
    close() {
      if (partial) out.write(`\r\x1b[2K${dim(partial)}\n`);
      if (shown) out.write('\r\x1b[2K');
      partial = '';
      shown = false;
    },
  };
}

/** Runs a build, an import or a first-use build with its progress on stderr, closed however it ends (Ctrl-C too). */
export async function withBuildProgress<T>(
  name: string,
  run: (onEvent: (event: TemplateBuildEvent) => void) => Promise<T>,
  options: { plainLogs?: boolean } = {},
): Promise<T> {
  const progress = buildProgress(name, process.stderr, options);
  const unregister = onCleanup(() => progress.close());
  try {
    return await run(progress.onEvent);
  } finally {
    unregister();
    progress.close();
  }
}
