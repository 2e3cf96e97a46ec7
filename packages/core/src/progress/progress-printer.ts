/** One step of long work: a phase, how far along (0..1) and what is happening. */
export interface ProgressEvent {
  phase: string;
  fraction?: number;
  message: string;
}

/**
 * Shows long work as a redrawn bar on a terminal and as plain lines
 * (one per phase change or 10%) otherwise, so logs stay readable.
 */
export function progressPrinter(label: string, out: NodeJS.WriteStream = process.stderr) {
  let lastPhase = '';
  let lastTenth = -1;
  return {
    update(p: ProgressEvent): void {
      const fraction = Math.max(0, Math.min(1, p.fraction ?? 0));
      if (out.isTTY) {
        const width = 30;
        const filled = Math.round(fraction * width);
        const line = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round(fraction * 100)).padStart(3)}% ${p.message}`;
        out.write(`\r\x1b[2K${line.slice(0, (out.columns || 100) - 1)}`);
        return;
      }
      const tenth = Math.floor(fraction * 10);
      if (p.phase !== lastPhase || tenth !== lastTenth) {
        out.write(`${label}: ${Math.round(fraction * 100)}% ${p.phase}: ${p.message}\n`);
        lastPhase = p.phase;
        lastTenth = tenth;
      }
    },
    done(message: string): void {
      out.write(out.isTTY ? `\r\x1b[2K${message}\n` : `${message}\n`);
    },
  };
}
